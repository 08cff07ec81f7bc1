/**
 * `ImageDataGenerator.flow(x, y, batch_size)`: shuffled batches of augmented images, endlessly.
 *
 * What a pass and an epoch are, here and in Keras:
 * - Keras' iterator cuts each permutation of the n images into ceil(n / batchSize) batches, the
 *   last one smaller (48 000 / 256: 187 batches of 256, then one of 128), and draws a new
 *   permutation when it starts over. `flowBatches` and `augmentedDataset` do exactly that. Each
 *   flow has its own NumPy-compatible stream: with `seed: s`, its batches are, bit for bit, those
 *   of Keras' `flow` (no seed, as in the course) after `np.random.seed(s)`. In the course, the
 *   training and validation flows share NumPy's global stream instead; the distribution is the same.
 * - `model.fitDataset(dataset, { batchesPerEpoch: 187 })` keeps one iterator for all epochs, so the
 *   passes do not line up with epochs: epoch 2 starts with the 128 images left over from the first
 *   permutation, as when one calls `next()` on Keras' flow.
 * - tf.keras 2's `fit(flow, steps_per_epoch=187)` instead starts every epoch on a fresh
 *   permutation and uses 187 of its 188 batches (in a shuffled order); keras 3.15 alternates
 *   epochs of 187 batches and of 1 batch, with an "input ran out of data" warning (seen by running
 *   its EpochIterator). Give the flow `batchesPerEpoch: 187` too (the same number as fitDataset's)
 *   to get the tf.keras 2 behaviour, minus the shuffled batch order: the 128 left-over images of
 *   each permutation are then never used.
 * - Each new iterator of `augmentedDataset` (fitDataset makes one per epoch for its validation
 *   data) restarts at the first batch of a new permutation, the stream going on, as Keras' `reset()`
 *   and tf.keras 2's validation: every epoch's validation sees freshly augmented images.
 * - `augmentedDataset` resamples each batch while the model trains on the one before (on libuv's
 *   thread, in the compiled library), so it draws one batch ahead. A batch drawn ahead and never
 *   handed over is taken back from the stream before anything else draws: the batches are exactly
 *   those of `arrays()`, whatever the iterators do (tested).
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../backend';
import { tensorUpload } from '../kernels/native';
import { freshSeed, NumpyRandom } from './random';
import type { TwisterState } from '../data/split';
import { checkAugmentationOptions, COURSE_AUGMENTATION, planAugmentation, runWarpPlan, runWarpPlanAsync, type AugmentationOptions, type WarpPlan } from './transform';

/** How to flow the data, as Keras' `flow(x, y, batch_size=..., shuffle=...)`. */
export interface FlowOptions {
  /** Images per batch (Keras' default: 32; the course's: 256). */
  batchSize?: number;
  /** Draw a new permutation at each pass (Keras' default: true). */
  shuffle?: boolean;
  /** Seed of the flow's stream; defaults to `augmentation.seed`, else a fresh one. */
  seed?: number;
  /** The random transformations; default: the course's. `null`: none (plain shuffled batches). */
  augmentation?: AugmentationOptions | null;
  /** Start a new permutation after this many batches (tf.keras 2's `steps_per_epoch`); default: after the whole pass. */
  batchesPerEpoch?: number;
}

/** One batch: images [b, h, w, c] and their targets (rows of `ys`). The consumer disposes them. */
export type AugmentedBatch = {
  xs: tfTypes.Tensor4D;
  ys: tfTypes.Tensor2D;
};

/** The arrays of one batch, before they become tensors. */
export interface BatchArrays {
  /** Which images (rows of xs), in batch order. */
  indices: Int32Array;
  images: Float32Array;
  targets: Float32Array | Int32Array | Uint8Array;
}

/** Arrays a batch is drawn into, reused from batch to batch. */
interface BatchBuffers {
  images: Float32Array;
  targets: Float32Array | Int32Array | Uint8Array;
}

/** Where a pass stands: its permutation and the index of its next batch. */
interface PassCursor {
  order: Int32Array;
  batchIndex: number;
}

/** The stream, the count and the pass before a batch drawn ahead: what taking it back restores. */
interface Lookahead {
  state: TwisterState;
  totalBatchesSeen: number;
  pass: PassCursor;
}

/** Keras' NumpyArrayIterator over JavaScript copies of the data: the state (stream, batches seen) survives new passes. */
export class ImageFlow {
  /** Images in the data. */
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly batchSize: number;
  /** Batches drawn from the stream, one drawn ahead included. */
  private drawnBatches = 0;
  private readonly images: Float32Array;
  private readonly targets: Float32Array | Int32Array | Uint8Array;
  private readonly targetShape: number[];
  private readonly targetDtype: tfTypes.DataType;
  private readonly targetSize: number;
  private readonly random: NumpyRandom;
  private readonly shuffle: boolean;
  private readonly augmentation: AugmentationOptions | null;
  private readonly batchesPerEpoch: number | undefined;
  /** Where the stream was before a prefetching iterator drew its next batch ahead (see prefetchedArrays). */
  private lookahead: Lookahead | undefined;

  constructor(xs: tfTypes.Tensor, ys: tfTypes.Tensor, options: FlowOptions = {}) {
    if (xs.rank !== 4) throw new Error(`Images must be a tensor [n, height, width, channels], got shape [${xs.shape.join(', ')}].`);
    if (ys.rank < 1 || ys.shape[0] !== xs.shape[0]) {
      throw new Error(`Targets must have one row per image: images [${xs.shape.join(', ')}], targets [${ys.shape.join(', ')}].`);
    }
    const batchSize = options.batchSize ?? 32;
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}.`);
    const perEpoch = options.batchesPerEpoch;
    if (perEpoch !== undefined && !(Number.isInteger(perEpoch) && perEpoch > 0)) {
      throw new RangeError(`batchesPerEpoch must be a positive integer, got ${perEpoch}.`);
    }
    this.augmentation = options.augmentation === undefined ? COURSE_AUGMENTATION : options.augmentation;
    if (this.augmentation) checkAugmentationOptions(this.augmentation);
    [this.count, this.height, this.width, this.channels] = xs.shape as [number, number, number, number];
    if (this.count === 0) throw new Error('Cannot flow an empty set of images.');
    this.batchSize = batchSize;
    this.batchesPerEpoch = perEpoch;
    this.shuffle = options.shuffle ?? true;
    this.random = new NumpyRandom(options.seed ?? this.augmentation?.seed ?? freshSeed());
    // One copy in JavaScript, made once: each batch is then built without a round trip to TensorFlow.
    this.images = xs.dtype === 'float32' ? (xs.dataSync() as Float32Array) : Float32Array.from(xs.dataSync());
    this.targets = ys.dataSync() as Float32Array | Int32Array | Uint8Array;
    this.targetShape = ys.shape.slice(1);
    this.targetDtype = ys.dtype;
    this.targetSize = this.targetShape.reduce((a, b) => a * b, 1);
  }

  /** Batches handed over so far, over all passes (Keras' `total_batches_seen`); a batch drawn ahead does not count. */
  get totalBatchesSeen(): number {
    return this.lookahead ? this.lookahead.totalBatchesSeen : this.drawnBatches;
  }

  /** Batches per full pass over the data: ceil(n / batchSize), the last one smaller (Keras' `len(flow)`). */
  get batchesPerPass(): number {
    return Math.ceil(this.count / this.batchSize);
  }

  /**
   * One pass after another, from the first batch of a new permutation (Keras' `_flow_index` after
   * `reset()`), endlessly. Each call starts over; the stream goes on.
   */
  *arrays(): Generator<BatchArrays, void, undefined> {
    const pass: PassCursor = { order: new Int32Array(0), batchIndex: 0 };
    for (;;) {
      const batch = this.drawBatch(pass);
      if (batch.plan) runWarpPlan(batch.plan);
      yield batch.arrays;
    }
  }

  /**
   * The batches of arrays(), the same ones, each resampled on libuv's thread while the consumer
   * works on the one before (a training step: resampling stays off its path). The batch after the
   * one handed over is drawn ahead; when its iterator is dropped (fitDataset's validation, each
   * epoch) or another one draws first, the stream is taken back to where it was before that batch.
   */
  prefetchedArrays(): AsyncGenerator<BatchArrays, void, undefined> {
    return this.prefetch(undefined);
  }

  /** The same passes as tensors {xs, ys}, which the consumer disposes (fitDataset and evaluateDataset do). */
  *batches(): Generator<AugmentedBatch, void, undefined> {
    for (const arrays of this.arrays()) yield this.toTensors(arrays);
  }

  /**
   * prefetchedArrays as tensors {xs, ys}: what augmentedDataset hands to fitDataset. The arrays are
   * two buffers taken in turn, copied into TensorFlow as each batch is handed over: a new 800 kB
   * array per batch cost more than the copy (its allocation, and the garbage collections it set off).
   * See batchBuffers for why TensorFlow copies them rather than sharing them.
   */
  async *prefetchedBatches(): AsyncGenerator<AugmentedBatch, void, undefined> {
    const upload = tensorUpload(loadNativeTf());
    const buffers = upload ? [this.batchBuffers(), this.batchBuffers()] : undefined;
    for await (const arrays of this.prefetch(buffers)) {
      const batch = this.toTensors(arrays);
      upload?.([batch.xs, batch.ys]);
      yield batch;
    }
  }

  /** prefetchedArrays, drawing batch after batch into `buffers` in turn when given (the consumer is done with a batch once the next one is asked for). */
  private async *prefetch(buffers: BatchBuffers[] | undefined): AsyncGenerator<BatchArrays, void, undefined> {
    const pass: PassCursor = { order: new Int32Array(0), batchIndex: 0 };
    let slot = 0;
    let current = this.drawBatch(pass, buffers?.[slot]);
    let resampled = current.plan ? runWarpPlanAsync(current.plan) : undefined;
    for (;;) {
      await resampled;
      const ahead: Lookahead = { state: this.random.snapshot(), totalBatchesSeen: this.drawnBatches, pass: { ...pass } };
      const next = this.drawBatch(pass, buffers?.[1 - slot]);
      this.lookahead = ahead;
      const nextResampled = next.plan ? runWarpPlanAsync(next.plan) : undefined;
      yield current.arrays;
      if (this.lookahead === ahead) {
        this.lookahead = undefined;
        [current, resampled] = [next, nextResampled];
        slot = 1 - slot;
      } else {
        // Another iterator drew in between and took that batch back: draw it again, in call order,
        // once the resampling of the batch taken back has stopped writing into its buffer.
        await nextResampled;
        Object.assign(pass, ahead.pass);
        current = this.drawBatch(pass, buffers?.[slot]);
        resampled = current.plan ? runWarpPlanAsync(current.plan) : undefined;
      }
    }
  }

  /**
   * Room for one full batch's images and targets, each 4 bytes past the start of its ArrayBuffer.
   * tfjs-node hands a tensor's array to TensorFlow's TF_NewTensor, which shares an array that is
   * 64-byte aligned (an array written again later would change the tensor) and copies any other;
   * an ArrayBuffer starts at least 8-byte aligned, so 4 bytes past it never is. A test holds
   * batches while the buffers are reused: it fails if TensorFlow ever shares them.
   */
  private batchBuffers(): BatchBuffers {
    const size = this.height * this.width * this.channels;
    const unaligned = (Type: Float32ArrayConstructor, length: number) => new Type(new ArrayBuffer(4 + Type.BYTES_PER_ELEMENT * length), 4, length);
    return { images: unaligned(Float32Array, this.batchSize * size), targets: unaligned(this.targets.constructor as Float32ArrayConstructor, this.batchSize * this.targetSize) };
  }

  private toTensors({ images, targets, indices }: BatchArrays): AugmentedBatch {
    const tf = loadNativeTf();
    return {
      xs: tf.tensor4d(images, [indices.length, this.height, this.width, this.channels]),
      ys: tf.tensor(targets, [indices.length, ...this.targetShape], this.targetDtype) as unknown as tfTypes.Tensor2D,
    };
  }

  /**
   * The next batch of a pass: its images, drawn from the stream (a new permutation when the pass
   * starts over), their parameters, and the resampling left to do. A batch another iterator drew
   * ahead and has not handed over is taken back first, so the stream follows the calls' order.
   */
  private drawBatch(pass: PassCursor, buffers?: BatchBuffers): { arrays: BatchArrays; plan?: WarpPlan } {
    if (this.lookahead) {
      this.random.restore(this.lookahead.state);
      this.drawnBatches = this.lookahead.totalBatchesSeen;
      this.lookahead = undefined;
    }
    const size = this.height * this.width * this.channels;
    if (pass.batchIndex === 0) pass.order = this.shuffle ? this.random.permutation(this.count) : Int32Array.from({ length: this.count }, (_, i) => i);
    const start = pass.batchIndex * this.batchSize;
    const n = Math.min(this.batchSize, this.count - start);
    pass.batchIndex = start + n < this.count && pass.batchIndex + 1 !== this.batchesPerEpoch ? pass.batchIndex + 1 : 0;
    this.drawnBatches++;
    const indices = pass.order.slice(start, start + n);
    const images = buffers ? buffers.images.subarray(0, n * size) : new Float32Array(n * size);
    const targets = buffers ? buffers.targets.subarray(0, n * this.targetSize) : new (this.targets.constructor as Float32ArrayConstructor)(n * this.targetSize);
    const plan = this.augmentation
      ? planAugmentation(this.images, indices.map((source) => source * size), images, this.height, this.width, this.channels, this.augmentation, this.random)
      : undefined;
    const targetSize = this.targetSize;
    for (let k = 0; k < n; k++) {
      const source = indices[k];
      if (!this.augmentation) images.set(this.images.subarray(source * size, (source + 1) * size), k * size);
      // A few values (a one-hot row): a loop, not a subarray object per image.
      for (let t = 0; t < targetSize; t++) targets[k * targetSize + t] = this.targets[source * targetSize + t];
    }
    return { arrays: { indices, images, targets }, plan };
  }
}

/** An endless generator of augmented batches {xs, ys} (Keras' `flow`), for a custom loop (`for ... of`, `for await`); dispose each batch. */
export function flowBatches(xs: tfTypes.Tensor4D, ys: tfTypes.Tensor2D, options: FlowOptions = {}): Generator<AugmentedBatch, void, undefined> {
  return new ImageFlow(xs, ys, options).batches();
}

/**
 * The flow as an endless tf.data dataset, to pass to `model.fitDataset(dataset, { epochs,
 * batchesPerEpoch, validationData: augmentedDataset(...), validationBatches })`. Each iterator
 * restarts on a new permutation, the random stream going on (see the module's comment).
 */
export function augmentedDataset(xs: tfTypes.Tensor4D, ys: tfTypes.Tensor2D, options: FlowOptions = {}): tfTypes.data.Dataset<AugmentedBatch> {
  const flow = new ImageFlow(xs, ys, options);
  // tf.data takes async iterators too (its typing says only sync ones).
  return loadNativeTf().data.generator((() => flow.prefetchedBatches()) as unknown as () => Iterator<AugmentedBatch>);
}

/**
 * Data augmentation as the course's Keras `ImageDataGenerator(rotation_range=8,
 * width_shift_range=0.08, shear_range=0.3, height_shift_range=0.08, zoom_range=0.08)` and its
 * `flow(x, y, batch_size=256)`: the same random parameters (same NumPy stream for the same seed),
 * the same matrix about the image centre, and scipy's order-1 (bilinear) resampling with
 * 'nearest' edges: on float32 images the tests find Keras + SciPy's output to the last bit.
 *
 * The parameters are drawn and the matrices built in JavaScript (NumPy's stream); the resampling of
 * a batch runs in the project's compiled library (lib/kernels/compiled: the same double-precision
 * operations, bit for bit; AVX-512 where the CPU has it), in JavaScript when it is not built. For
 * fitDataset, `augmentedDataset` resamples the next batch on libuv's thread during the training
 * step (lib/augment/flow.ts), so only the draws (~0.3 ms a batch) stay between two steps.
 * Measured on a batch of 256 28x28 images, alone: 1.7-2.9 ms all in JavaScript; compiled, 0.8 ms
 * portable and 0.5-0.6 ms with AVX-512 (0.8-1.0 ms between training steps, caches cold). Once
 * graph training and the compiled first convolution made a plain 1-conv epoch about 3.5 s, the
 * JavaScript resampling alone was 8 % of an epoch (the benchmark's augmented/plain ratio went from
 * 1.05 to 1.13). Other options measured: libtensorflow's ImageProjectiveTransformV3 (a pass of
 * 48 000 images 0.55-0.95 s, against 0.5-0.75 s in JavaScript then), and a worker augmenting
 * continuously beside training, which on two cores competes with libtensorflow's threads (a 15 ms
 * step took 24 ms); one batch resampled during a step did not lengthen the step measurably. Figures:
 * tests/lib/augment/throughput.bench.ts, `npm run bench:train -- --augment`.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../backend';
import { freshSeed, NumpyRandom, type RandomSource } from './random';
import { augmentImagesInto, checkAugmentationOptions, COURSE_AUGMENTATION, type AugmentationOptions } from './transform';

export * from './random';
export * from './transform';
export * from './flow';

/** Image size of a bare Float32Array batch: [height, width, channels]. */
export type ImageShape = readonly [number, number, number];

/** Augments each image of a batch [n, h, w, c] with its own random transformation; a seed or a NumpyRandom makes it reproducible. */
export function augmentBatch(images: tfTypes.Tensor4D | tfTypes.Tensor, options?: AugmentationOptions, random?: RandomSource | number): tfTypes.Tensor4D;
/** The same on a bare Float32Array of images (channels last, default shape 28x28x1), returning a new array. */
export function augmentBatch(images: Float32Array, options?: AugmentationOptions, random?: RandomSource | number, shape?: ImageShape): Float32Array;
export function augmentBatch(
  images: tfTypes.Tensor | Float32Array,
  options: AugmentationOptions = COURSE_AUGMENTATION,
  random?: RandomSource | number,
  shape: ImageShape = [28, 28, 1],
): tfTypes.Tensor4D | Float32Array {
  checkAugmentationOptions(options);
  // Written without relying on `=== undefined` narrowing: tslab compiles lib/ without strictNullChecks.
  const source: RandomSource = typeof random === 'object' && random !== null ? random : new NumpyRandom(typeof random === 'number' ? random : (options.seed ?? freshSeed()));
  if (images instanceof Float32Array) {
    const [height, width, channels] = shape;
    const size = height * width * channels;
    if (images.length % size !== 0) throw new Error(`${images.length} values do not make whole ${height}x${width}x${channels} images.`);
    const out = new Float32Array(images.length);
    augmentImagesInto(images, Array.from({ length: images.length / size }, (_, k) => k * size), out, height, width, channels, options, source);
    return out;
  }
  if (images.rank !== 4) throw new Error(`augmentBatch expects images [n, height, width, channels], got [${images.shape.join(', ')}].`);
  const [n, height, width, channels] = images.shape as [number, number, number, number];
  const pixels = images.dtype === 'float32' ? (images.dataSync() as Float32Array) : Float32Array.from(images.dataSync());
  const out = augmentBatch(pixels, options, source, [height, width, channels]);
  return loadNativeTf().tensor4d(out, [n, height, width, channels]);
}

/**
 * Data augmentation as the course's Keras `ImageDataGenerator(rotation_range=8, width_shift_range=0.08,
 * shear_range=0.3, height_shift_range=0.08, zoom_range=0.08)`: the same random parameters, the same
 * affine matrix about the image centre, and scipy's order-1 (bilinear) resampling with 'nearest'
 * edges, computed in plain JavaScript (a 28x28 batch of 256 takes about a millisecond).
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../backend';
import { MersenneTwister } from '../data/split';

/** The generator's settings, with Keras' meaning (angles in degrees, shifts as fractions of the size). */
export interface AugmentationOptions {
  /** Rotation up to +- this many degrees. */
  rotationRange: number;
  /** Horizontal shift up to +- this fraction of the width. */
  widthShiftRange: number;
  /** Vertical shift up to +- this fraction of the height. */
  heightShiftRange: number;
  /** Shear angle up to +- this many DEGREES: Keras converts it with deg2rad, so the course's 0.3 is a tiny shear. */
  shearRange: number;
  /** Zoom factors drawn in [1 - z, 1 + z] for each axis (Keras: above 1 shrinks the content). */
  zoomRange: number;
}

/** The lab's augmentation settings. */
export const COURSE_AUGMENTATION: Readonly<AugmentationOptions> = {
  rotationRange: 8,
  widthShiftRange: 0.08,
  heightShiftRange: 0.08,
  shearRange: 0.3,
  zoomRange: 0.08,
};

/** One random transformation, as Keras' `get_random_transform` draws it. */
export interface TransformParameters {
  theta: number;
  /** Keras' tx, in pixels: drawn from height_shift_range, but Keras' axis swap applies it along columns. */
  tx: number;
  /** Keras' ty, in pixels: drawn from width_shift_range, applied along rows (same quirk). */
  ty: number;
  shear: number;
  zx: number;
  zy: number;
}

/** A seeded uniform generator in [0, 1) (Mersenne Twister, 32-bit resolution). */
export function seededRandom(seed: number): () => number {
  const twister = new MersenneTwister(seed >>> 0);
  return () => twister.nextUint32() / 4294967296;
}

/** Draws parameters in Keras' order: rotation, height shift, width shift, shear, zoom x, zoom y. */
export function randomTransform(options: AugmentationOptions, random: () => number, height = 28, width = 28): TransformParameters {
  const uniform = (low: number, high: number) => low + (high - low) * random();
  const theta = options.rotationRange ? uniform(-options.rotationRange, options.rotationRange) : 0;
  const tx = options.heightShiftRange ? uniform(-options.heightShiftRange, options.heightShiftRange) * (options.heightShiftRange < 1 ? height : 1) : 0;
  const ty = options.widthShiftRange ? uniform(-options.widthShiftRange, options.widthShiftRange) * (options.widthShiftRange < 1 ? width : 1) : 0;
  const shear = options.shearRange ? uniform(-options.shearRange, options.shearRange) : 0;
  const [zx, zy] = options.zoomRange ? [uniform(1 - options.zoomRange, 1 + options.zoomRange), uniform(1 - options.zoomRange, 1 + options.zoomRange)] : [1, 1];
  return { theta, tx, ty, shear, zx, zy };
}

type Matrix3 = number[][];

function multiply(a: Matrix3, b: Matrix3): Matrix3 {
  return a.map((row) => [0, 1, 2].map((j) => row[0] * b[0][j] + row[1] * b[1][j] + row[2] * b[2][j]));
}

/**
 * The matrix scipy.ndimage.affine_transform receives in Keras' apply_affine_transform: output
 * (row, col) -> input (row, col) = [a, b; c, d] (row, col) + (e, f), returned as [a, b, e, c, d, f].
 */
export function affineMatrix(p: TransformParameters, height = 28, width = 28): number[] {
  let m: Matrix3 = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const theta = (p.theta * Math.PI) / 180;
  const shear = (p.shear * Math.PI) / 180;
  if (p.theta !== 0) m = multiply(m, [[Math.cos(theta), -Math.sin(theta), 0], [Math.sin(theta), Math.cos(theta), 0], [0, 0, 1]]);
  if (p.tx !== 0 || p.ty !== 0) m = multiply(m, [[1, 0, p.tx], [0, 1, p.ty], [0, 0, 1]]);
  if (p.shear !== 0) m = multiply(m, [[1, -Math.sin(shear), 0], [0, Math.cos(shear), 0], [0, 0, 1]]);
  if (p.zx !== 1 || p.zy !== 1) m = multiply(m, [[p.zx, 0, 0], [0, p.zy, 0], [0, 0, 1]]);
  // transform_matrix_offset_center(matrix, h, w): rotate and zoom about the centre.
  const oX = height / 2 - 0.5;
  const oY = width / 2 - 0.5;
  m = multiply(multiply([[1, 0, oX], [0, 1, oY], [0, 0, 1]], m), [[1, 0, -oX], [0, 1, -oY], [0, 0, 1]]);
  // Keras swaps the first two rows and columns (channels-last images index rows before columns).
  return [m[1][1], m[1][0], m[1][2], m[0][1], m[0][0], m[0][2]];
}

/** Resamples one single-channel image through `matrix` (bilinear, edges extended: scipy's order=1, mode='nearest'). */
export function warpImage(source: Float32Array, sourceOffset: number, target: Float32Array, targetOffset: number, height: number, width: number, matrix: number[]): void {
  const [a, b, e, c, d, f] = matrix;
  const lastRow = height - 1;
  const lastCol = width - 1;
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const r = a * i + b * j + e;
      const q = c * i + d * j + f;
      const r0 = Math.floor(r);
      const q0 = Math.floor(q);
      const fr = r - r0;
      const fq = q - q0;
      const ra = r0 < 0 ? 0 : r0 > lastRow ? lastRow : r0;
      const rb = r0 + 1 < 0 ? 0 : r0 + 1 > lastRow ? lastRow : r0 + 1;
      const qa = q0 < 0 ? 0 : q0 > lastCol ? lastCol : q0;
      const qb = q0 + 1 < 0 ? 0 : q0 + 1 > lastCol ? lastCol : q0 + 1;
      const top = source[sourceOffset + ra * width + qa] * (1 - fq) + source[sourceOffset + ra * width + qb] * fq;
      const bottom = source[sourceOffset + rb * width + qa] * (1 - fq) + source[sourceOffset + rb * width + qb] * fq;
      target[targetOffset + i * width + j] = top * (1 - fr) + bottom * fr;
    }
  }
}

/** Augments a batch of images [n, h, w, 1] with fresh random transformations (seeded). */
export function augmentBatch(images: tfTypes.Tensor, options: AugmentationOptions = COURSE_AUGMENTATION, seed = 0): tfTypes.Tensor4D {
  const [n, height, width, channels] = images.shape;
  if (images.rank !== 4 || channels !== 1) throw new Error(`augmentBatch expects images [n, height, width, 1], got [${images.shape.join(', ')}].`);
  const source = images.dataSync() as Float32Array;
  const target = new Float32Array(source.length);
  const random = seededRandom(seed);
  const size = height * width;
  for (let k = 0; k < n; k++) warpImage(source, k * size, target, k * size, height, width, affineMatrix(randomTransform(options, random, height, width), height, width));
  return loadNativeTf().tensor4d(target, [n, height, width, 1]);
}

/** Options of augmentedDataset, like Keras' `generator.flow(x, y, batch_size=...)`. */
export interface FlowOptions {
  batchSize: number;
  augmentation?: AugmentationOptions;
  /** Shuffle at each pass over the data (Keras' default: true). */
  shuffle?: boolean;
  seed?: number;
}

/**
 * An endless tf.data dataset of augmented batches {xs, ys}, like Keras' `flow`: each pass over the
 * data is shuffled, the last batch of a pass may be smaller. Use it with
 * `model.fitDataset(dataset, { batchesPerEpoch, ... })`.
 */
export function augmentedDataset(xs: tfTypes.Tensor, ys: tfTypes.Tensor, options: FlowOptions): tfTypes.data.Dataset<{ xs: tfTypes.Tensor4D; ys: tfTypes.Tensor2D }> {
  const tf = loadNativeTf();
  const [count, height, width] = xs.shape;
  const classes = ys.shape[1] ?? 1;
  // One copy of the data in JavaScript; every batch is then made without touching TensorFlow.
  const images = xs.dataSync() as Float32Array;
  const labels = ys.dataSync() as Float32Array;
  const augmentation = options.augmentation ?? COURSE_AUGMENTATION;
  const shuffle = options.shuffle ?? true;
  const size = height * width;
  return tf.data.generator(function* () {
    const random = seededRandom(options.seed ?? 0);
    const twister = new MersenneTwister((options.seed ?? 0) + 1);
    const order = new Int32Array(count);
    for (;;) {
      for (let i = 0; i < count; i++) order[i] = i;
      if (shuffle) {
        for (let i = count - 1; i > 0; i--) {
          const j = twister.nextInterval(i);
          const swap = order[i];
          order[i] = order[j];
          order[j] = swap;
        }
      }
      for (let start = 0; start < count; start += options.batchSize) {
        const n = Math.min(options.batchSize, count - start);
        const batch = new Float32Array(n * size);
        const batchLabels = new Float32Array(n * classes);
        for (let k = 0; k < n; k++) {
          const source = order[start + k];
          warpImage(images, source * size, batch, k * size, height, width, affineMatrix(randomTransform(augmentation, random, height, width), height, width));
          batchLabels.set(labels.subarray(source * classes, (source + 1) * classes), k * classes);
        }
        yield { xs: tf.tensor4d(batch, [n, height, width, 1]), ys: tf.tensor2d(batchLabels, [n, classes]) };
      }
    }
  });
}

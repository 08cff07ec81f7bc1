/**
 * Data augmentation as the course's Keras `ImageDataGenerator(rotation_range=8,
 * width_shift_range=0.08, shear_range=0.3, height_shift_range=0.08, zoom_range=0.08)` and its
 * `flow(x, y, batch_size=256)`: the same random parameters (same NumPy stream for the same seed),
 * the same matrix about the image centre, and scipy's order-1 (bilinear) resampling with
 * 'nearest' edges: on float32 images the tests find Keras + SciPy's output to the last bit.
 *
 * Computed in plain JavaScript, because it is as fast as the alternative and simpler: one pass of
 * 48 000 28x28 images (parameters, resampling, tensors) takes 0.5-0.75 s here (65 000-90 000
 * images/s), libtensorflow's ImageProjectiveTransformV3 0.55-0.95 s (tfjs-node has no kernel for
 * `tf.image.transform`, the op has to be called raw). That is 3-4 % of a plain 1-conv epoch, so
 * overlapping it with training (a worker thread) could save little, and on two cores it would
 * compete with libtensorflow's threads. Figures: tests/lib/augment/throughput.bench.ts.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../backend';
import { freshSeed, NumpyRandom, type RandomSource } from './random';
import { augmentImageInto, checkAugmentationOptions, COURSE_AUGMENTATION, type AugmentationOptions } from './transform';

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
    for (let k = 0; k < images.length / size; k++) augmentImageInto(images, k * size, out, k * size, height, width, channels, options, source);
    return out;
  }
  if (images.rank !== 4) throw new Error(`augmentBatch expects images [n, height, width, channels], got [${images.shape.join(', ')}].`);
  const [n, height, width, channels] = images.shape as [number, number, number, number];
  const pixels = images.dtype === 'float32' ? (images.dataSync() as Float32Array) : Float32Array.from(images.dataSync());
  const out = augmentBatch(pixels, options, source, [height, width, channels]);
  return loadNativeTf().tensor4d(out, [n, height, width, channels]);
}

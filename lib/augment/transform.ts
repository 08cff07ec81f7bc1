/**
 * Keras' `ImageDataGenerator.get_random_transform` and `apply_affine_transform` (keras 3
 * `keras.src.legacy.preprocessing.image`, unchanged from tf.keras 2), ported to plain JavaScript.
 *
 * Keras' quirks are kept on purpose, so that the lab trains on the same distribution of images:
 * - `shearRange` is in DEGREES (Keras applies `np.deg2rad`), so the course's 0.3 shears by
 *   tan(0.3 deg) ~ 0.005: about a tenth of a pixel across a 28-pixel image, close to nothing.
 * - `tx` is drawn from `heightShiftRange` times the height and `ty` from `widthShiftRange` times
 *   the width, but Keras then swaps the axes (its matrix is written for (x, y), NumPy indexes
 *   (row, col)): `tx` ends up moving the content along columns, `ty` along rows. With equal
 *   ranges on square images, as in the course, nobody can tell.
 * - The centre of `transform_matrix_offset_center` uses the height for the coordinate that
 *   becomes the column after the swap (and the width for the row): exact for square images only.
 * - Zoom factors above 1 zoom OUT (the output samples a larger area of the input).
 */
import { compiledWarpImages, compiledWarpImagesAsync } from '../kernels/compiled';
import { integerBelow, NumpyRandom, uniform, type RandomSource } from './random';

// Read once: in a vm context (jest's) each lookup of the global Math made the pixel loop 30x slower.
const { floor, cos, sin, PI } = Math;

/** A shift range as Keras takes it: a fraction (< 1) of the size, a number of pixels, or a list of pixel values. */
export type ShiftRange = number | readonly number[];

/** The generator's settings, named and meant as Keras' `ImageDataGenerator` arguments. */
export interface AugmentationOptions {
  /** `rotation_range`: rotation angle drawn in [-r, r] DEGREES, counter-clockwise when positive. */
  rotationRange: number;
  /** `width_shift_range`: a fraction of the width if below 1, else pixels (an integer n: whole pixels in (-n, n)). */
  widthShiftRange: ShiftRange;
  /** `height_shift_range`: a fraction of the height if below 1, else pixels (an integer n: whole pixels in (-n, n)). */
  heightShiftRange: ShiftRange;
  /** `shear_range`: shear angle drawn in [-s, s] DEGREES (so 0.3 is a tiny shear, as in Keras). */
  shearRange: number;
  /** `zoom_range`: z gives factors in [1 - z, 1 + z] for each axis independently, or give [lower, upper]; above 1 shrinks the content. */
  zoomRange: number | readonly [number, number];
  /** `fill_mode`: only 'nearest' (Keras' default, the course's): points outside take the nearest edge pixel. */
  fillMode?: 'nearest';
  /** Default seed of augmentBatch and the flows; without one, each run differs (as Keras without `np.random.seed`). */
  seed?: number;
}

/** The lab's `ImageDataGenerator(rotation_range=8, width_shift_range=0.08, shear_range=0.3, height_shift_range=0.08, zoom_range=0.08)`. */
export const COURSE_AUGMENTATION: Readonly<AugmentationOptions> = Object.freeze({
  rotationRange: 8,
  widthShiftRange: 0.08,
  heightShiftRange: 0.08,
  shearRange: 0.3,
  zoomRange: 0.08,
});

/** One transformation, as Keras' `get_random_transform` returns it (angles in degrees, shifts in pixels). */
export interface TransformParameters {
  /** Rotation, degrees. */
  theta: number;
  /** Keras' tx, pixels: drawn from heightShiftRange, moves the content along columns (tx > 0: to the left). */
  tx: number;
  /** Keras' ty, pixels: drawn from widthShiftRange, moves the content along rows (ty > 0: upwards). */
  ty: number;
  /** Shear, degrees. */
  shear: number;
  /** Zoom factor Keras names x (after the axis swap it scales columns). */
  zx: number;
  /** Zoom factor Keras names y (after the axis swap it scales rows). */
  zy: number;
}

/** The parameters that change nothing. */
export const IDENTITY_TRANSFORM: Readonly<TransformParameters> = Object.freeze({ theta: 0, tx: 0, ty: 0, shear: 0, zx: 1, zy: 1 });

/** A 3x3 matrix, rows first. */
export type Matrix3 = [[number, number, number], [number, number, number], [number, number, number]];

/** Throws a clear error for settings Keras would refuse or this port does not do. */
export function checkAugmentationOptions(options: AugmentationOptions): void {
  const fill = options.fillMode ?? 'nearest';
  if (fill !== 'nearest') throw new Error(`fillMode '${String(fill)}' is not supported: only 'nearest' (the course's) is.`);
  for (const key of ['rotationRange', 'shearRange'] as const) {
    if (!(Number.isFinite(options[key]) && options[key] >= 0)) throw new RangeError(`${key} must be a number >= 0, got ${options[key]}.`);
  }
  for (const key of ['widthShiftRange', 'heightShiftRange'] as const) {
    const range = options[key];
    const values = typeof range === 'number' ? [range] : range;
    if (!Array.isArray(values) || values.length === 0 || !values.every((v) => Number.isFinite(v))) {
      throw new RangeError(`${key} must be a number or a non-empty list of numbers, got ${JSON.stringify(range)}.`);
    }
  }
  zoomBounds(options.zoomRange);
}

/** Keras' `zoom_range` as [lower, upper]. */
function zoomBounds(zoom: AugmentationOptions['zoomRange']): [number, number] {
  if (typeof zoom === 'number' && Number.isFinite(zoom)) return [1 - zoom, 1 + zoom];
  if (Array.isArray(zoom) && zoom.length === 2 && zoom.every((v) => Number.isFinite(v))) return [zoom[0], zoom[1]];
  throw new RangeError(`zoomRange must be a number or a pair [lower, upper], got ${JSON.stringify(zoom)}.`);
}

/** One shift as Keras draws it from `*_shift_range`, scaled by `size` when the range is a fraction. */
function drawShift(range: ShiftRange, size: number, random: RandomSource): number {
  let shift: number;
  if (typeof range === 'number' && !Number.isInteger(range)) {
    // np.random.choice refuses a float, and Keras falls back to a uniform draw.
    shift = uniform(random, -range, range);
  } else {
    // An integer n or a list: np.random.choice(n or list), then a random sign.
    const picked = typeof range === 'number' ? integerBelow(random, range) : range[integerBelow(random, range.length)];
    shift = picked * (integerBelow(random, 2) === 0 ? -1 : 1);
  }
  const largest = typeof range === 'number' ? range : Math.max(...range);
  return largest < 1 ? shift * size : shift;
}

/**
 * Draws one transformation in Keras' order (rotation, height shift, width shift, shear, zoom x,
 * zoom y, then the two flip coins Keras always tosses), so a NumpyRandom seeded like
 * `np.random.seed(s)` gives exactly Keras' parameters.
 */
export function randomTransform(options: AugmentationOptions, random: RandomSource, height = 28, width = 28): TransformParameters {
  const theta = options.rotationRange ? uniform(random, -options.rotationRange, options.rotationRange) : 0;
  const tx = isZeroRange(options.heightShiftRange) ? 0 : drawShift(options.heightShiftRange, height, random);
  const ty = isZeroRange(options.widthShiftRange) ? 0 : drawShift(options.widthShiftRange, width, random);
  const shear = options.shearRange ? uniform(random, -options.shearRange, options.shearRange) : 0;
  const [low, high] = zoomBounds(options.zoomRange);
  let zx = 1;
  let zy = 1;
  if (!(low === 1 && high === 1)) {
    zx = uniform(random, low, high);
    zy = uniform(random, low, high);
  }
  // Keras draws the flips' coins even when flips are off: drawn here too to stay on its stream.
  uniform(random, 0, 1);
  uniform(random, 0, 1);
  return { theta, tx, ty, shear, zx, zy };
}

/** Python's truthiness of a shift range: 0 and [] mean no shift. */
function isZeroRange(range: ShiftRange): boolean {
  return typeof range === 'number' ? range === 0 : range.length === 0;
}

/** out = a . b for 3x3 matrices stored rows first (9 values), each entry summed left to right; out may not be a or b. */
function multiplyInto(out: Float64Array, a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
  }
}

// Scratch matrices of transformMatrixInto, reused: a batch builds 256 of them (a nested array each took a quarter of the augmentation's JavaScript time).
// `current` and `product` swap after each product (a TypedArray.set per product took ~30 % of the matrices' time).
let current = new Float64Array(9);
const step = new Float64Array(9);
let product = new Float64Array(9);

/** current = product (the product just computed), product = room for the next one. */
function takeProduct(): void {
  const previous = current;
  current = product;
  product = previous;
}

/** Writes the rows [r00 r01 r02; r10 r11 r12; 0 0 1] into `m` entry by entry (`m.set([...])` built an array per call: most of the matrices' time). */
function setAffine(m: Float64Array, r00: number, r01: number, r02: number, r10: number, r11: number, r12: number): void {
  m[0] = r00;
  m[1] = r01;
  m[2] = r02;
  m[3] = r10;
  m[4] = r11;
  m[5] = r12;
  m[6] = 0;
  m[7] = 0;
  m[8] = 1;
}

/** current = current . [r0; r1; 0 0 1] (rows of three). */
function multiplyCurrent(r00: number, r01: number, r02: number, r10: number, r11: number, r12: number): void {
  setAffine(step, r00, r01, r02, r10, r11, r12);
  multiplyInto(product, current, step);
  takeProduct();
}

/** True when the parameters leave the image as it is (Keras then skips the resampling altogether). */
export function isIdentity(p: TransformParameters): boolean {
  return p.theta === 0 && p.tx === 0 && p.ty === 0 && p.shear === 0 && p.zx === 1 && p.zy === 1;
}

/**
 * The matrix Keras' `apply_affine_transform` hands to `scipy.ndimage.affine_transform` for an image
 * of `height` x `width` (channels last), as a 3x3 in homogeneous (row, col, 1) coordinates: the
 * output pixel (r, c) takes the input at M (r, c, 1). It is rotation . shift . shear . zoom, moved
 * about the centre, with x and y swapped into (row, col). Identity parameters give the identity.
 */
export function transformMatrix(p: TransformParameters, height = 28, width = 28): Matrix3 {
  const m = new Float64Array(6);
  transformMatrixInto(p, height, width, m, 0);
  return [[m[0], m[1], m[2]], [m[3], m[4], m[5]], [0, 0, 1]];
}

/** transformMatrix's first two rows [a, b, e, c, d, f] written into `out` at `offset` (the same products, without arrays). */
export function transformMatrixInto(p: TransformParameters, height: number, width: number, out: Float64Array, offset: number): void {
  setAffine(current, 1, 0, 0, 0, 1, 0);
  if (isIdentity(p)) {
    out.set(current.subarray(0, 6), offset);
    return;
  }
  if (p.theta !== 0) {
    const theta = (p.theta * PI) / 180;
    setAffine(current, cos(theta), -sin(theta), 0, sin(theta), cos(theta), 0);
  }
  if (p.tx !== 0 || p.ty !== 0) multiplyCurrent(1, 0, p.tx, 0, 1, p.ty);
  if (p.shear !== 0) {
    const shear = (p.shear * PI) / 180;
    multiplyCurrent(1, -sin(shear), 0, 0, cos(shear), 0);
  }
  if (p.zx !== 1 || p.zy !== 1) multiplyCurrent(p.zx, 0, 0, 0, p.zy, 0);
  const ox = height / 2 - 0.5;
  const oy = width / 2 - 0.5;
  // (offset . m) . reset, as Keras' transform_matrix_offset_center.
  setAffine(step, 1, 0, ox, 0, 1, oy);
  multiplyInto(product, step, current);
  takeProduct();
  multiplyCurrent(1, 0, -ox, 0, 1, -oy);
  // Keras' M' = P M P with P swapping the first two coordinates: from its (x, y) to NumPy's (row, col).
  out[offset] = current[4];
  out[offset + 1] = current[3];
  out[offset + 2] = current[5];
  out[offset + 3] = current[1];
  out[offset + 4] = current[0];
  out[offset + 5] = current[2];
}

/**
 * Resamples one image (`height` x `width` x `channels`, channels last, starting at `sourceOffset`)
 * through `matrix` into `target` at `targetOffset`, as scipy's `affine_transform(order=1,
 * mode='nearest')`: bilinear between the four neighbours, coordinates outside clamped to the edge.
 */
export function warpImage(
  source: Float32Array,
  sourceOffset: number,
  target: Float32Array,
  targetOffset: number,
  height: number,
  width: number,
  matrix: Matrix3,
  channels = 1,
): void {
  const [[a, b, e], [c, d, f]] = matrix;
  if (channels !== 1) {
    warpChannels(source, sourceOffset, target, targetOffset, height, width, a, b, e, c, d, f, channels);
    return;
  }
  const lastRow = height - 1;
  const lastCol = width - 1;
  let out = targetOffset;
  for (let i = 0; i < height; i++) {
    // scipy's order of operations: shift first, then each coordinate's term.
    const rowR = e + a * i;
    const rowQ = f + c * i;
    for (let j = 0; j < width; j++) {
      const r = rowR + b * j;
      const q = rowQ + d * j;
      const r0 = floor(r);
      const q0 = floor(q);
      const fr = r - r0;
      const fq = q - q0;
      let v00: number, v01: number, v10: number, v11: number;
      if (r0 >= 0 && q0 >= 0 && r0 < lastRow && q0 < lastCol) {
        // Inside: most pixels of a small transformation, no clamping needed.
        const p = sourceOffset + r0 * width + q0;
        v00 = source[p];
        v01 = source[p + 1];
        v10 = source[p + width];
        v11 = source[p + width + 1];
      } else {
        const ra = r0 < 0 ? 0 : r0 > lastRow ? lastRow : r0;
        const rb = r0 < -1 ? 0 : r0 >= lastRow ? lastRow : r0 + 1;
        const qa = q0 < 0 ? 0 : q0 > lastCol ? lastCol : q0;
        const qb = q0 < -1 ? 0 : q0 >= lastCol ? lastCol : q0 + 1;
        v00 = source[sourceOffset + ra * width + qa];
        v01 = source[sourceOffset + ra * width + qb];
        v10 = source[sourceOffset + rb * width + qa];
        v11 = source[sourceOffset + rb * width + qb];
      }
      target[out++] = (v00 * (1 - fq) + v01 * fq) * (1 - fr) + (v10 * (1 - fq) + v11 * fq) * fr;
    }
  }
}

/** warpImage for several interleaved channels: the same coordinates for each, as Keras loops over channels. */
function warpChannels(
  source: Float32Array,
  sourceOffset: number,
  target: Float32Array,
  targetOffset: number,
  height: number,
  width: number,
  a: number,
  b: number,
  e: number,
  c: number,
  d: number,
  f: number,
  channels: number,
): void {
  const lastRow = height - 1;
  const lastCol = width - 1;
  const clampRow = (r: number) => (r < 0 ? 0 : r > lastRow ? lastRow : r);
  const clampCol = (q: number) => (q < 0 ? 0 : q > lastCol ? lastCol : q);
  let out = targetOffset;
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const r = e + a * i + b * j;
      const q = f + c * i + d * j;
      const r0 = floor(r);
      const q0 = floor(q);
      const fr = r - r0;
      const fq = q - q0;
      const p00 = sourceOffset + (clampRow(r0) * width + clampCol(q0)) * channels;
      const p01 = sourceOffset + (clampRow(r0) * width + clampCol(q0 + 1)) * channels;
      const p10 = sourceOffset + (clampRow(r0 + 1) * width + clampCol(q0)) * channels;
      const p11 = sourceOffset + (clampRow(r0 + 1) * width + clampCol(q0 + 1)) * channels;
      for (let k = 0; k < channels; k++) {
        target[out++] = (source[p00 + k] * (1 - fq) + source[p01 + k] * fq) * (1 - fr) + (source[p10 + k] * (1 - fq) + source[p11 + k] * fq) * fr;
      }
    }
  }
}

/** The resampling a batch still needs once its parameters are drawn: image n from warpFrom[n] to warpTo[n] through matrices[6n..6n+5]. */
export interface WarpPlan {
  source: Float32Array;
  target: Float32Array;
  warpFrom: Int32Array;
  warpTo: Int32Array;
  matrices: Float64Array;
  height: number;
  width: number;
  channels: number;
}

/** One uniform draw of a parameter, `scale x (low + span x u)`, with Keras' operations (uniform(low, high) = low + (high - low) u). */
interface UniformDraw {
  low: number;
  span: number;
  scale: number;
}

/** How randomTransform draws each parameter when all its draws are uniform (null: not drawn), and the doubles it takes per image. */
interface UniformDraws {
  rotation: UniformDraw | null;
  tx: UniformDraw | null;
  ty: UniformDraw | null;
  shear: UniformDraw | null;
  zoom: UniformDraw | null;
  perImage: number;
}

/** randomTransform's draws as uniform ones, or undefined when a shift range is whole pixels or a list (np.random.choice, not a double per draw). */
function uniformDraws(options: AugmentationOptions, height: number, width: number): UniformDraws | undefined {
  const symmetric = (range: number, scale = 1): UniformDraw | null => (range ? { low: -range, span: range - -range, scale } : null);
  const shift = (range: ShiftRange, size: number): UniformDraw | null | undefined => {
    if (isZeroRange(range)) return null;
    if (typeof range !== 'number' || Number.isInteger(range)) return undefined;
    return symmetric(range, range < 1 ? size : 1);
  };
  const tx = shift(options.heightShiftRange, height);
  const ty = shift(options.widthShiftRange, width);
  if (tx === undefined || ty === undefined) return undefined;
  const [low, high] = zoomBounds(options.zoomRange);
  const zoom = low === 1 && high === 1 ? null : { low, span: high - low, scale: 1 };
  const rotation = symmetric(options.rotationRange);
  const shear = symmetric(options.shearRange);
  // The two flip coins come last, drawn always.
  const perImage = [rotation, tx, ty, shear].filter((draw) => draw).length + (zoom ? 2 : 0) + 2;
  return { rotation, tx, ty, shear, zoom, perImage };
}

/** Scratch parameters of parametersFrom, reused image after image. */
const drawnParameters: TransformParameters = { ...IDENTITY_TRANSFORM };

/** The parameters randomTransform would draw from the doubles drawn[at...], in its order (the result is reused by the next call). */
function parametersFrom(draws: UniformDraws, drawn: Float64Array, at: number): TransformParameters {
  const p = drawnParameters;
  const { rotation, tx, ty, shear, zoom } = draws;
  p.theta = rotation ? (rotation.low + rotation.span * drawn[at++]) * rotation.scale : 0;
  p.tx = tx ? (tx.low + tx.span * drawn[at++]) * tx.scale : 0;
  p.ty = ty ? (ty.low + ty.span * drawn[at++]) * ty.scale : 0;
  p.shear = shear ? (shear.low + shear.span * drawn[at++]) * shear.scale : 0;
  p.zx = zoom ? zoom.low + zoom.span * drawn[at++] : 1;
  p.zy = zoom ? zoom.low + zoom.span * drawn[at++] : 1;
  return p;
}

/**
 * Draws fresh random parameters for each image of `source` (image k at sourceOffsets[k], going to
 * `target` at k x its size), one after another on Keras' stream, and copies at once those whose
 * parameters change nothing (as Keras). Returns the resampling left to do (runWarpPlan).
 */
export function planAugmentation(
  source: Float32Array,
  sourceOffsets: ArrayLike<number>,
  target: Float32Array,
  height: number,
  width: number,
  channels: number,
  options: AugmentationOptions,
  random: RandomSource,
): WarpPlan {
  const size = height * width * channels;
  const count = sourceOffsets.length;
  const warpFrom = new Int32Array(count);
  const warpTo = new Int32Array(count);
  const matrices = new Float64Array(6 * count);
  const draws = random instanceof NumpyRandom ? uniformDraws(options, height, width) : undefined;
  // The batch's doubles in one call, when every draw is a uniform one (the course's settings).
  const drawn = draws ? new Float64Array(draws.perImage * count) : undefined;
  if (drawn) (random as NumpyRandom).randomInto(drawn);
  let warped = 0;
  for (let k = 0; k < count; k++) {
    const params = draws ? parametersFrom(draws, drawn!, k * draws.perImage) : randomTransform(options, random, height, width);
    if (isIdentity(params)) {
      target.set(source.subarray(sourceOffsets[k], sourceOffsets[k] + size), k * size);
      continue;
    }
    transformMatrixInto(params, height, width, matrices, 6 * warped);
    warpFrom[warped] = sourceOffsets[k];
    warpTo[warped++] = k * size;
  }
  return { source, target, warpFrom: warpFrom.subarray(0, warped), warpTo: warpTo.subarray(0, warped), matrices: matrices.subarray(0, 6 * warped), height, width, channels };
}

/**
 * Resamples a plan's images now: in one call of the compiled warpImages (lib/kernels/compiled: the
 * same arithmetic as warpImage, bit for bit), or by warpImage when the library is not loaded.
 */
export function runWarpPlan(plan: WarpPlan): void {
  const { source, target, warpFrom, warpTo, matrices, height, width, channels } = plan;
  const compiled = compiledWarpImages();
  if (compiled) {
    compiled(source, target, warpFrom, warpTo, matrices, height, width, channels);
    return;
  }
  for (let n = 0; n < warpFrom.length; n++) {
    const [a, b, e, c, d, f] = matrices.subarray(6 * n, 6 * n + 6);
    warpImage(source, warpFrom[n], target, warpTo[n], height, width, [[a, b, e], [c, d, f], [0, 0, 1]], channels);
  }
}

/**
 * runWarpPlan on libuv's thread pool (the compiled warpImagesAsync), so that JavaScript goes on,
 * e.g. into a training step, meanwhile; settles once `target` is written. Without the library the
 * resampling is done now and the promise is already settled.
 */
export function runWarpPlanAsync(plan: WarpPlan): Promise<void> {
  const compiled = compiledWarpImagesAsync();
  if (!compiled) {
    runWarpPlan(plan);
    return Promise.resolve();
  }
  const { source, target, warpFrom, warpTo, matrices, height, width, channels } = plan;
  return compiled(source, target, warpFrom, warpTo, matrices, height, width, channels);
}

/** Transforms images with fresh random parameters, now: planAugmentation (same arguments) then runWarpPlan. */
export function augmentImagesInto(...args: Parameters<typeof planAugmentation>): void {
  runWarpPlan(planAugmentation(...args));
}

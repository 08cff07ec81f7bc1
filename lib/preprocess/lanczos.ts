/**
 * The course's resizing: the target size (Python's rounding) and Pillow's
 * `Image.resize(size, Image.LANCZOS)` on 8-bit grey images, reproduced operation for operation from
 * Pillow's Resample.c so that every output pixel is the same integer.
 */
import type { GrayImage } from './grayscale';
import { resampleHorizontal } from './wasm';

/** Python's `round()` on a float: halves go to the even neighbour (round(2.5) = 2, round(3.5) = 4). */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor; // exact for doubles
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The course's `resize_with_aspect_ratio` size: longest side `longest`, the other scaled and rounded as Python does (at least 1). */
export function fitLongestSide(width: number, height: number, longest = 20): { width: number; height: number } {
  // Same operation order as `round(20 * height / width)`: one product of integers, one division.
  if (width > height) return { width: longest, height: Math.max(1, roundHalfEven((longest * height) / width)) };
  return { width: Math.max(1, roundHalfEven((longest * width) / height)), height: longest };
}

/** Pillow's resampling weights carry 22 fractional bits: 8 for the pixel, 2 for overshoot, in 32-bit ints. */
const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const LANCZOS_SUPPORT = 3;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  return -LANCZOS_SUPPORT <= x && x < LANCZOS_SUPPORT ? sinc(x) * sinc(x / LANCZOS_SUPPORT) : 0;
}

/** The weights of one axis: output pixel i reads `count[i]` inputs from `first[i]`, with `ksize` 22-bit fixed-point weights per output. */
export interface AxisWeights {
  ksize: number;
  first: Int32Array;
  count: Int32Array;
  weights: Int32Array;
}

/** Lanczos weights of one axis as Pillow's `precompute_coeffs` (whole-image box) then `normalize_coeffs_8bpc`. */
export function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1); // widen the kernel when shrinking: it then averages
  const support = LANCZOS_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const invFilterScale = 1 / filterScale;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const row = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; negatives are then clamped to 0 anyway.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      row[x] = lanczos((x + xmin - center + 0.5) * invFilterScale);
      total += row[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? row[x] / total : row[x];
      const fixed = w * (1 << PRECISION_BITS);
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + fixed) : Math.trunc(0.5 + fixed);
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, first, count, weights };
}

/** Pillow's clip8 for a weighted sum with 22 fractional bits. */
function clip8(sum: number): number {
  const value = sum >> PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** Horizontal pass: `rows` rows of `source` from row `rowOffset`, each resampled to `axis` length (WebAssembly SIMD, see wasm.ts). */
function horizontalPass(source: GrayImage, rowOffset: number, rows: number, axis: AxisWeights): GrayImage {
  const rowsData = source.data.subarray(rowOffset * source.width, (rowOffset + rows) * source.width);
  return { width: axis.first.length, height: rows, data: resampleHorizontal(rowsData, source.width, rows, axis) };
}

/** Vertical pass; `rowShift` is subtracted from every first row (the rows the horizontal pass skipped). */
function resampleVertical(source: GrayImage, axis: AxisWeights, rowShift: number): GrayImage {
  const height = axis.first.length;
  const { width, data: src } = source;
  const { ksize, first, count, weights } = axis;
  const out = new Uint8Array(width * height);
  for (let yy = 0; yy < height; yy++) {
    const start = (first[yy] - rowShift) * width;
    const k = yy * ksize;
    const n = count[yy];
    for (let x = 0; x < width; x++) {
      let sum = HALF;
      for (let y = 0, p = start + x; y < n; y++, p += width) sum = (sum + Math.imul(src[p], weights[k + y])) | 0;
      out[yy * width + x] = clip8(sum);
    }
  }
  return { width, height, data: out };
}

/** One call of Pillow's C resize (`ImagingResampleInner`): horizontal pass on the rows needed, then vertical. */
function resampleOnce(image: GrayImage, width: number, height: number): GrayImage {
  const needHorizontal = width !== image.width;
  const needVertical = height !== image.height;
  if (!needHorizontal && !needVertical) return { width, height, data: image.data.slice() };
  const vertical = axisWeights(image.height, height);
  let source = image;
  let rowShift = 0;
  if (needHorizontal) {
    // Only the input rows that the vertical pass reads are resampled.
    const firstRow = vertical.first[0];
    const lastRow = vertical.first[height - 1] + vertical.count[height - 1];
    source = horizontalPass(image, firstRow, lastRow - firstRow, axisWeights(image.width, width));
    rowShift = firstRow;
  }
  return needVertical ? resampleVertical(source, vertical, rowShift) : source;
}

/**
 * Resizes exactly as Pillow's `Image.resize((width, height), Image.LANCZOS)` on an "L" image:
 * separable Lanczos-3 (support widened by the shrink factor), weights normalised then rounded to
 * 22-bit fixed point, one rounding and clipping to 8 bits after each pass.
 */
export function resizeLanczos(image: GrayImage, width: number, height: number): GrayImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
  if (image.width < 1 || image.height < 1) throw new RangeError(`cannot resize an empty ${image.width}x${image.height} image`);
  // Pillow 12.2 and later resize images more than 100 times taller than wide vertically first, in two calls.
  if (image.height > image.width * 100 && height < image.height) {
    return resampleOnce(resampleOnce(image, image.width, height), width, height);
  }
  return resampleOnce(image, width, height);
}

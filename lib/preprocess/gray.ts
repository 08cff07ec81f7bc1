/** Grey images and the course's pixel operations, reproducing Pillow's integer arithmetic exactly. */

/** An 8-bit grey image, row-major. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * RGBA to grey as Pillow's `convert('L')` (ITU-R 601-2 luma, L = (19595 R + 38470 G + 7471 B + 2^15) >> 16),
 * after compositing onto white: the course ignores alpha, which turns a transparent background black.
 */
export function toGrayscale(rgba: Uint8Array, width: number, height: number): GrayImage {
  const data = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < data.length; i++, p += 4) {
    const alpha = rgba[p + 3];
    let r = rgba[p];
    let g = rgba[p + 1];
    let b = rgba[p + 2];
    if (alpha !== 255) {
      const white = 255 * (255 - alpha);
      r = Math.round((r * alpha + white) / 255);
      g = Math.round((g * alpha + white) / 255);
      b = Math.round((b * alpha + white) / 255);
    }
    data[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
  }
  return { width, height, data };
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The course's target size: longest side `longest` px, the other scaled with Python's rounding (at least 1). */
export function fitLongestSide(width: number, height: number, longest = 20): { width: number; height: number } {
  if (width > height) return { width: longest, height: Math.max(1, roundHalfEven((longest * height) / width)) };
  return { width: Math.max(1, roundHalfEven((longest * width) / height)), height: longest };
}

const PRECISION_BITS = 32 - 8 - 2;
const LANCZOS_SUPPORT = 3;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  return x >= -LANCZOS_SUPPORT && x < LANCZOS_SUPPORT ? sinc(x) * sinc(x / LANCZOS_SUPPORT) : 0;
}

interface Coefficients {
  ksize: number;
  bounds: Int32Array; // per output pixel: first input index, count
  weights: Int32Array; // outSize x ksize fixed-point weights
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis (box = whole input). */
function lanczosCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = LANCZOS_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const row = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      row[x] = lanczos((x + xmin - center + 0.5) * ss);
      total += row[x];
    }
    for (let x = 0; x < ksize; x++) {
      const w = x < xmax && total !== 0 ? row[x] / total : x < xmax ? row[x] : 0;
      // C's (int) cast truncates toward zero after adding +-0.5.
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(sum: number): number {
  const value = Math.floor(sum / (1 << PRECISION_BITS));
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** Resizes like Pillow's `Image.resize(size, Image.LANCZOS)`: horizontal pass, then vertical, 8-bit between. */
export function resizeLanczos(image: GrayImage, width: number, height: number): GrayImage {
  if (width === image.width && height === image.height) return { width, height, data: image.data.slice() };
  const horizontal = lanczosCoefficients(image.width, width);
  const vertical = lanczosCoefficients(image.height, height);
  let source = image;
  const half = 1 << (PRECISION_BITS - 1);
  if (width !== image.width) {
    // Only the rows the vertical pass will read are resampled, as Pillow does.
    const first = vertical.bounds[0];
    const last = vertical.bounds[height * 2 - 2] + vertical.bounds[height * 2 - 1];
    const rows = height !== image.height ? last - first : image.height;
    const offset = height !== image.height ? first : 0;
    const out = new Uint8Array(width * rows);
    for (let y = 0; y < rows; y++) {
      const inRow = (y + offset) * image.width;
      for (let xx = 0; xx < width; xx++) {
        const xmin = horizontal.bounds[xx * 2];
        const count = horizontal.bounds[xx * 2 + 1];
        const k = xx * horizontal.ksize;
        let sum = half;
        for (let x = 0; x < count; x++) sum += image.data[inRow + xmin + x] * horizontal.weights[k + x];
        out[y * width + xx] = clip8(sum);
      }
    }
    if (height !== image.height) for (let i = 0; i < height; i++) vertical.bounds[i * 2] -= first;
    source = { width, height: rows, data: out };
  }
  if (height === image.height) return source;
  const out = new Uint8Array(width * height);
  for (let yy = 0; yy < height; yy++) {
    const ymin = vertical.bounds[yy * 2];
    const count = vertical.bounds[yy * 2 + 1];
    const k = yy * vertical.ksize;
    for (let x = 0; x < width; x++) {
      let sum = half;
      for (let y = 0; y < count; y++) sum += source.data[(y + ymin) * width + x] * vertical.weights[k + y];
      out[yy * width + x] = clip8(sum);
    }
  }
  return { width, height, data: out };
}

/** Pillow's `ImageFilter.SHARPEN` (3x3 kernel -2 around 32, divided by 16): borders are copied unchanged. */
export function sharpen(image: GrayImage): GrayImage {
  const { width, height, data } = image;
  if (width < 3 || height < 3) return { width, height, data: data.slice() };
  const out = data.slice();
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      let neighbours = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const row = (y + dy) * width;
        neighbours += data[row + x - 1] + data[row + x + 1] + (dy === 0 ? 0 : data[row + x]);
      }
      // Every term is a multiple of 1/8: the float sum in Pillow is exact, so this equals it.
      const sum = 0.5 + data[y * width + x] * 2 - neighbours * 0.125;
      out[y * width + x] = sum <= 0 ? 0 : sum >= 255 ? 255 : Math.trunc(sum);
    }
  }
  return { width, height, data: out };
}

/** Pastes an image at the centre of a `size` x `size` canvas of `background` (floor offsets, as the course). */
export function centerOnCanvas(image: GrayImage, size = 28, background = 255): GrayImage {
  const data = new Uint8Array(size * size).fill(background);
  const left = Math.floor((size - image.width) / 2);
  const top = Math.floor((size - image.height) / 2);
  for (let y = 0; y < image.height; y++) {
    const ty = y + top;
    if (ty < 0 || ty >= size) continue;
    for (let x = 0; x < image.width; x++) {
      const tx = x + left;
      if (tx >= 0 && tx < size) data[ty * size + tx] = image.data[y * image.width + x];
    }
  }
  return { width: size, height: size, data };
}

/** (255 - p) / 255 in float32, as the course's NumPy code: white background to 0, dark garment to ~1. */
export function invertAndScale(image: GrayImage): Float32Array {
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (255 - image.data[i]) / 255;
  return out;
}

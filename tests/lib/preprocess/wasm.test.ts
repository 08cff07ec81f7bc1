/**
 * The WebAssembly loops give the same integers as Pillow's C loops written plainly in JavaScript
 * (below, the reference), and the module in resample-wasm.ts is the one resample.wat assembles to.
 */
import { axisWeights, lumaRgb, resampleHorizontal, toGrayscale } from '../../../lib/preprocess';
import { assembleResampleWasm, generatedSource, GENERATED_PATH } from '../../../scripts/build-wasm';
import { readFileSync } from 'node:fs';

/** Pillow's ImagingResampleHorizontal_8bpc for one band, plainly: 2^21 + sum(pixel * weight) in C int, >> 22, clipped. */
function referenceHorizontal(data: Uint8Array, width: number, rows: number, outWidth: number): Uint8Array {
  const { ksize, first, count, weights } = axisWeights(width, outWidth);
  const out = new Uint8Array(outWidth * rows);
  for (let y = 0; y < rows; y++) {
    for (let xx = 0; xx < outWidth; xx++) {
      let sum = 1 << 21;
      for (let x = 0; x < count[xx]; x++) sum = (sum + Math.imul(data[y * width + first[xx] + x], weights[xx * ksize + x])) | 0;
      out[y * outWidth + xx] = Math.min(255, Math.max(0, sum >> 22));
    }
  }
  return out;
}

/** Deterministic pseudo-random bytes (a linear congruential sequence). */
function bytes(length: number, seed: number): Uint8Array {
  let state = seed;
  return Uint8Array.from({ length }, () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24);
}

/** Images that stress the sums: noise, black and white stripes (largest overshoot), constant white, a hard edge. */
function patterns(width: number, rows: number): [string, Uint8Array][] {
  return [
    ['noise', bytes(width * rows, width * 31 + rows)],
    ['stripes', Uint8Array.from({ length: width * rows }, (_, i) => ((i % width) % 2 ? 255 : 0))],
    ['white', new Uint8Array(width * rows).fill(255)],
    ['edge', Uint8Array.from({ length: width * rows }, (_, i) => ((i % width) < width / 2 ? 0 : 255))],
  ];
}

describe('WebAssembly preprocessing loops', () => {
  it.each([
    [1000, 7, 20],
    [997, 5, 13],
    [30, 4, 20],
    [20, 3, 20 - 1],
    [5, 3, 28],
    [1, 2, 20],
    [20, 2, 1],
    [8000, 2, 20],
  ])("horizontal Lanczos pass %i px -> %i rows -> %i px: Pillow's integers", (width, rows, outWidth) => {
    for (const [name, data] of patterns(width, rows)) {
      const ours = resampleHorizontal(data, width, rows, axisWeights(width, outWidth));
      const expected = referenceHorizontal(data, width, rows, outWidth);
      const differing = ours.reduce((n, v, i) => n + (v === expected[i] ? 0 : 1), 0);
      expect({ name, differing }).toEqual({ name, differing: 0 });
    }
  });

  it("reads the rows of a larger image without touching the others (the vertical pass's window)", () => {
    const width = 300;
    const image = bytes(width * 40, 5);
    const window = image.subarray(10 * width, 25 * width);
    expect(resampleHorizontal(window, width, 15, axisWeights(width, 20))).toEqual(referenceHorizontal(window, width, 15, 20));
  });

  it("grey levels of RGB pixels are Pillow's (r*19595 + g*38470 + b*7471 + 0x8000) >> 16, extremes included", () => {
    const pixels = 4099;
    const rgb = bytes(pixels * 3, 9);
    rgb.set([0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3]);
    const gray = lumaRgb(rgb, pixels);
    const expected = Uint8Array.from({ length: pixels }, (_, i) => (rgb[3 * i] * 19595 + rgb[3 * i + 1] * 38470 + rgb[3 * i + 2] * 7471 + 0x8000) >> 16);
    expect(gray).toEqual(expected);
    expect(Array.from(gray.subarray(0, 6))).toEqual([0, 255, 76, 150, 29, 2]);
    expect(toGrayscale({ width: 4099, height: 1, channels: 3, data: rgb }).data).toEqual(expected);
  });

  it('serves a very large photo from a throwaway memory, and small ones after it still right', () => {
    const width = 9000;
    const rows = 2000; // 18 MB of grey rows, plus the RGB: over the kept instance's 64 MB with the RGB
    const rgb = new Uint8Array(width * rows * 3).fill(200);
    expect(lumaRgb(rgb, width * rows).every((v) => v === 200)).toBe(true);
    const small = bytes(50 * 3, 2);
    expect(resampleHorizontal(small, 50, 3, axisWeights(50, 20))).toEqual(referenceHorizontal(small, 50, 3, 20));
  });

  it('is the module resample.wat assembles to (run `npm run build:wasm` after editing the .wat)', async () => {
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(generatedSource(await assembleResampleWasm()));
  });
});

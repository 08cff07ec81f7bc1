/**
 * Pillow's two per-pixel loops (RGB to grey, the horizontal Lanczos pass) run as WebAssembly SIMD
 * (resample.wat): the same integers as the JavaScript they replace, about five times faster on a
 * 1-megapixel photo, which is what the web app spends its time on. One instance per thread.
 */
import type { AxisWeights } from './lanczos';
import { RESAMPLE_WASM_BASE64 } from './resample-wasm';

// The WebAssembly API as this file uses it, declared here because tslab's compiler (notebooks) has no WebAssembly types.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

interface ResampleExports {
  memory: WasmMemory;
  luma_rgb(src: number, dst: number, pixels: number): void;
  resample_horizontal(src: number, width: number, rows: number, outWidth: number, first: number, weights: number, blocks: number, dst: number): void;
}

/** Photos up to this many bytes of working memory reuse the thread's instance; larger ones get their own, freed after. */
const KEPT_MEMORY_BYTES = 64 << 20;
const PAGE_BYTES = 65536;

let compiled: object | undefined;
let kept: ResampleExports | undefined;

function instantiate(): ResampleExports {
  compiled ??= new WebAssembly.Module(Buffer.from(RESAMPLE_WASM_BASE64, 'base64'));
  return new WebAssembly.Instance(compiled).exports as unknown as ResampleExports;
}

/** An instance with at least `bytes` of memory: the kept one, or a throwaway one for a very large photo. */
function withMemory(bytes: number): ResampleExports {
  const exports = bytes > KEPT_MEMORY_BYTES ? instantiate() : (kept ??= instantiate());
  const missing = bytes - exports.memory.buffer.byteLength;
  if (missing > 0) exports.memory.grow(Math.ceil(missing / PAGE_BYTES));
  return exports;
}

const align16 = (offset: number) => (offset + 15) & ~15;

/** Grey levels of `pixels` RGB pixels as Pillow's `convert('L')`: (r*19595 + g*38470 + b*7471 + 0x8000) >> 16. */
export function lumaRgb(rgb: Uint8Array, pixels: number): Uint8Array {
  const grayAt = align16(pixels * 3);
  const wasm = withMemory(grayAt + pixels);
  new Uint8Array(wasm.memory.buffer, 0, pixels * 3).set(rgb.subarray(0, pixels * 3));
  wasm.luma_rgb(0, grayAt, pixels);
  return new Uint8Array(wasm.memory.buffer, grayAt, pixels).slice();
}

/** Pillow's horizontal pass: each of `rows` rows of `width` grey pixels (`rowsData`) resampled to `axis.first.length` pixels. */
export function resampleHorizontal(rowsData: Uint8Array, width: number, rows: number, axis: AxisWeights): Uint8Array {
  const outWidth = axis.first.length;
  const blocks = Math.ceil(axis.ksize / 8);
  // Memory: the rows, padding for the zero-weighted reads past the last one, first[], weights, output.
  const firstAt = align16(width * rows + blocks * 8 + 16);
  const weightsAt = align16(firstAt + outWidth * 4);
  const outAt = weightsAt + outWidth * blocks * 32;
  const wasm = withMemory(outAt + outWidth * rows);
  const memory = wasm.memory.buffer;
  new Uint8Array(memory, 0, width * rows).set(rowsData.subarray(0, width * rows));
  new Uint8Array(memory, width * rows, firstAt - width * rows).fill(0);
  new Int32Array(memory, firstAt, outWidth).set(axis.first);
  // Each weight as high * 2048 + low (both fit in i16), in blocks of 8 highs then 8 lows.
  const split = new Int16Array(memory, weightsAt, outWidth * blocks * 16).fill(0);
  for (let xx = 0; xx < outWidth; xx++) {
    for (let j = 0; j < axis.count[xx]; j++) {
      const weight = axis.weights[xx * axis.ksize + j];
      const at = (xx * blocks + (j >> 3)) * 16 + (j & 7);
      split[at] = weight >> 11;
      split[at + 8] = weight & 2047;
    }
  }
  wasm.resample_horizontal(0, width, rows, outWidth, firstAt, weightsAt, blocks, outAt);
  return new Uint8Array(memory, outAt, outWidth * rows).slice();
}

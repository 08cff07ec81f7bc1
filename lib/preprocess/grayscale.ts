/** Colour to grey as Pillow's `convert('L')`, after laying transparent pixels over white. */
import type { RawImage } from './decode';
import { lumaRgb } from './wasm';

/** An 8-bit grey image, row-major: the type every step of the course's preprocessing works on. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** `value * alpha + 255 * (255 - alpha)`, divided by 255 and rounded, exactly as Pillow's paste with a mask. */
function overWhite(value: number, alpha: number): number {
  const t = value * alpha + 255 * (255 - alpha) + 128;
  return ((t >> 8) + t) >> 8;
}

/** ITU-R 601-2 luma in Pillow's fixed point (Convert.c, L24): weights sum to 65536, so grey stays grey. */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/** What becomes of transparency: laid over white (this project), or dropped as Pillow's `convert('L')` does (the Python course). */
export type Transparency = 'over-white' | 'dropped';

/**
 * Grey levels as Pillow's `convert('L')`. One deliberate difference with the course: pixels are first
 * laid over white according to their alpha (as `white.paste(image, mask=alpha)` would), because
 * `convert('L')` drops alpha and so turns a transparent background black — the model would then
 * see a bright square instead of a garment. `dropped` gives the course's pixels exactly.
 */
export function toGrayscale(image: RawImage, transparency: Transparency = 'over-white'): GrayImage {
  const { width, height, channels, data } = image;
  const pixels = width * height;
  if (data.length !== pixels * channels) {
    throw new RangeError(`expected ${pixels * channels} bytes for ${width}x${height}x${channels}, got ${data.length}`);
  }
  // The common case (JPEG photos) and the largest loop of the preprocessing: WebAssembly, same formula.
  if (channels === 3) return { width, height, data: lumaRgb(data, pixels) };
  const out = new Uint8Array(pixels);
  switch (channels) {
    case 1:
      out.set(data);
      break;
    case 2:
      for (let i = 0, p = 0; i < pixels; i++, p += 2) out[i] = data[p + 1] === 255 || transparency === 'dropped' ? data[p] : overWhite(data[p], data[p + 1]);
      break;
    case 4:
      for (let i = 0, p = 0; i < pixels; i++, p += 4) {
        const alpha = transparency === 'dropped' ? 255 : data[p + 3];
        out[i] =
          alpha === 255
            ? luma(data[p], data[p + 1], data[p + 2])
            : luma(overWhite(data[p], alpha), overWhite(data[p + 1], alpha), overWhite(data[p + 2], alpha));
      }
      break;
    default:
      throw new RangeError(`unsupported channel count ${String(channels)}`);
  }
  return { width, height, data: out };
}

/** The course's last steps: centring on a white 28x28 canvas, then inverting and scaling to [0, 1]. */
import type { GrayImage } from './grayscale';

/**
 * Pastes `image` on a `size` x `size` canvas filled with `background`, at the course's offsets
 * `(size - w) // 2` and `(size - h) // 2` (floor, so an odd margin leaves the extra pixel right and
 * bottom). Parts outside the canvas are cut off, as PIL's paste does.
 */
export function centerOnCanvas(image: GrayImage, size = 28, background = 255): GrayImage {
  const data = new Uint8Array(size * size).fill(background);
  const left = Math.floor((size - image.width) / 2);
  const top = Math.floor((size - image.height) / 2);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(image.width, size - left);
  for (let y = Math.max(0, -top); y < Math.min(image.height, size - top); y++) {
    if (x1 > x0) data.set(image.data.subarray(y * image.width + x0, y * image.width + x1), (y + top) * size + left + x0);
  }
  return { width: size, height: size, data };
}

/**
 * `(255 - p) / 255` in float32, as the course's NumPy code: white background to 0, dark garment
 * towards 1. Dividing in float64 then rounding to float32 gives the same value as NumPy's float32
 * division (double has more than twice float's precision, so the double rounding is harmless).
 */
export function invertAndScale(image: GrayImage): Float32Array {
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (255 - image.data[i]) / 255;
  return out;
}

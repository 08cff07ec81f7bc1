/** Pillow's `ImageFilter.SHARPEN` on an 8-bit grey image, with Pillow's rounding and border handling (Filter.c). */
import type { GrayImage } from './grayscale';

/**
 * Applies `ImageFilter.SHARPEN`: kernel 32 at the centre and -2 around it, divided by 16, offset 0.
 * As in Pillow, the outermost rows and columns are copied unchanged, and an image narrower or
 * shorter than 3 pixels is returned as is. Pillow sums in float32 with +0.5 and truncates; every
 * term is a multiple of 1/8 below 2^12, so that float sum is exact and integer eighths equal it.
 */
export function sharpen(image: GrayImage): GrayImage {
  const { width, height, data } = image;
  const out = data.slice();
  if (width < 3 || height < 3) return { width, height, data: out };
  for (let y = 1; y < height - 1; y++) {
    const above = (y - 1) * width;
    const row = y * width;
    const below = (y + 1) * width;
    for (let x = 1; x < width - 1; x++) {
      const neighbours =
        data[above + x - 1] + data[above + x] + data[above + x + 1] +
        data[row + x - 1] + data[row + x + 1] +
        data[below + x - 1] + data[below + x] + data[below + x + 1];
      // 8 * (0.5 + 2 * centre - neighbours / 8)
      const eighths = 4 + 16 * data[row + x] - neighbours;
      out[row + x] = eighths <= 0 ? 0 : eighths >= 255 * 8 ? 255 : eighths >> 3;
    }
  }
  return { width, height, data: out };
}

/** Photos the preprocessing tests make themselves: a garment on a plain background, noise, photo-like scenes. */
import { crc32 } from 'node:zlib';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { RawImage } from '../../../lib/preprocess';

/** Navy blue, the garment's colour: dark, and not grey. */
export const GARMENT_RGB = [30, 40, 70] as const;

/** True where a pair of trousers drawn in a `width` x `height` photo is: waistband on the top row, legs down to the bottom row. */
export function inTrousers(x: number, y: number, width: number, height: number): boolean {
  // No Math.* here: global look-ups are slow inside jest's sandbox, and this runs for every pixel.
  const u = (x + 0.5) / width - 0.5;
  const v = (y + 0.5) / height;
  const distance = u < 0 ? -u : u;
  if (distance > 0.25 + 0.05 * v) return false; // legs flare a little
  const crotch = 0.3;
  return v < crotch || distance > 0.02 + 0.06 * ((v - crotch) / (1 - crotch)); // the gap between the legs widens
}

/** Trousers of colour `rgb` (or grey `[l]`) on white, or with `transparent` on fully transparent black: what the course turned black. */
export function trousersPhoto(width: number, height: number, options: { transparent?: boolean; rgb?: readonly number[] } = {}): RawImage {
  const rgb = options.rgb ?? GARMENT_RGB;
  const ink = rgb.length === 1 ? [rgb[0], rgb[0], rgb[0]] : [rgb[0], rgb[1], rgb[2]];
  const [inkPixel, paperPixel] = options.transparent ? [[...ink, 255], [0, 0, 0, 0]] : rgb.length === 1 ? [[rgb[0]], [255]] : [ink, [255, 255, 255]];
  const channels = inkPixel.length as RawImage['channels'];
  const data = new Uint8Array(width * height * channels);
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const pixel = inTrousers(x, y, width, height) ? inkPixel : paperPixel;
      for (let c = 0; c < channels; c++, p++) data[p] = pixel[c];
    }
  }
  return { width, height, channels, data };
}

/** A sharp pipeline over raw pixels. */
export function fromRaw(image: RawImage): sharp.Sharp {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
}

/** A tiny deterministic random generator (xorshift32), so failures can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

// Module-level copies: global look-ups such as Math.sin are slow inside jest's sandbox, and these run per pixel.
const { floor, sin } = Math;

/** Random pixels (`kind` noise) or a photo-like scene: shaded background, dark blobs, slight noise, alpha outside the blobs. */
export function randomImage(random: () => number, width: number, height: number, channels: RawImage['channels'], kind: 'noise' | 'photo'): RawImage {
  const data = new Uint8Array(width * height * channels);
  const int = (max: number) => floor(random() * (max + 1));
  if (kind === 'noise') {
    for (let i = 0; i < data.length; i++) data[i] = int(255);
    return { width, height, channels, data };
  }
  const background = [150 + int(105), 150 + int(105), 150 + int(105)];
  const shadeX = random() * 60 - 30;
  const shadeY = random() * 60 - 30;
  const blobs = Array.from({ length: 1 + int(3) }, () => ({
    x: random() * width, y: random() * height, rx: (0.1 + random() * 0.4) * width, ry: (0.1 + random() * 0.4) * height, rgb: [int(120), int(120), int(120)],
  }));
  const colour = [0, 0, 0];
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p += channels) {
      let blob: (typeof blobs)[number] | undefined;
      for (const candidate of blobs) {
        const dx = (x - candidate.x) / candidate.rx;
        const dy = (y - candidate.y) / candidate.ry;
        if (dx * dx + dy * dy < 1) blob = candidate;
      }
      const texture = blob ? 20 * sin(x / 7 + y / 11) : (shadeX * x) / width + (shadeY * y) / height;
      for (let c = 0; c < 3; c++) colour[c] = (blob ? blob.rgb[c] : background[c]) + texture;
      const colourChannels = channels <= 2 ? 1 : 3;
      if (colourChannels === 1) colour[0] = 0.3 * colour[0] + 0.59 * colour[1] + 0.11 * colour[2];
      for (let c = 0; c < colourChannels; c++) {
        const value = floor(colour[c] + (random() - 0.5) * 6 + 0.5);
        data[p + c] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
      if (channels === 2 || channels === 4) data[p + channels - 1] = blob ? 255 : int(3) === 0 ? int(255) : 0;
    }
  }
  return { width, height, channels, data };
}

/** Bounding box of the pixels above `threshold` in a 28x28 image. */
export function boundingBox(pixels: Uint8Array, threshold: number, side = 28) {
  let left = side, right = -1, top = side, bottom = -1;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (pixels[y * side + x] > threshold) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  return { left, right, top, bottom, width: right - left + 1, height: bottom - top + 1 };
}

function pngChunk(type: string, body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A grey PNG whose header announces `width` x `height` pixels but whose data holds one row: a decompression bomb in miniature. */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grey
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(Buffer.alloc(width + 1))), pngChunk('IEND', Buffer.alloc(0))]);
}

/**
 * Pixels encoded as an 8-bit PNG without going through libvips, which writes a very tall image row
 * by row at a few hundred nanoseconds a row (13 s for 1 x 39 000 000): rows unfiltered, zlib at
 * `level` (9, the default, makes the smallest file; 1 is five times faster on a large image).
 */
export function pngFromPixels(image: RawImage, level = 9): Buffer {
  const { width, height, channels, data } = image;
  const stride = width * channels;
  // Zeros: every row starts with filter type 0 (none).
  const rows = new Uint8Array((stride + 1) * height);
  // A subarray per row costs more than the copy itself for 39 000 000 rows of one byte.
  if (stride === 1) for (let y = 0; y < height; y++) rows[2 * y + 1] = data[y];
  else for (let y = 0; y < height; y++) rows.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = [0, 0, 4, 2, 6][channels]; // grey, grey + alpha, RGB, RGBA
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(rows, { level })), pngChunk('IEND', Buffer.alloc(0))]);
}

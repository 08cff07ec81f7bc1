/** Decoding a photo file (PNG, JPEG, WebP, GIF) to RGBA pixels with sharp, with French errors naming the file. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import sharp from 'sharp';

/** Decoded pixels: RGBA, 8 bits per channel, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
  format: string;
}

/** Default limit on the pixels of a photo (100 megapixels): larger files are refused, not decoded. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

const SUPPORTED = new Set(['png', 'jpeg', 'webp', 'gif']);

/** An error for the user, naming the image. */
function imageError(name: string, reason: string): Error {
  return new Error(`Impossible de lire l'image « ${name} » : ${reason}`);
}

/** Reads and decodes a photo; EXIF orientation is applied (phone photos), the first frame of a GIF is used. */
export async function decodeImage(input: string | Buffer, options: { maxPixels?: number; name?: string } = {}): Promise<DecodedImage> {
  const name = options.name ?? (typeof input === 'string' ? basename(input) : 'image envoyée');
  let bytes: Buffer;
  if (typeof input === 'string') {
    try {
      bytes = await readFile(input);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw imageError(name, code === 'ENOENT' ? `le fichier n'existe pas (${input}).` : `lecture impossible (${(error as Error).message}).`);
    }
  } else {
    bytes = input;
  }
  if (bytes.length === 0) throw imageError(name, 'le fichier est vide.');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw imageError(name, "le fichier n'est pas une image reconnue (PNG, JPEG, WebP ou GIF attendus).");
  }
  if (!metadata.format || !SUPPORTED.has(metadata.format)) {
    throw imageError(name, `format « ${metadata.format ?? 'inconnu'} » non pris en charge (PNG, JPEG, WebP ou GIF attendus).`);
  }
  const pixels = (metadata.width ?? 0) * (metadata.pageHeight ?? metadata.height ?? 0);
  if (pixels > maxPixels) {
    throw imageError(name, `l'image est trop grande (${metadata.width} x ${metadata.height} pixels, ${(pixels / 1e6).toFixed(0)} mégapixels ; limite : ${(maxPixels / 1e6).toFixed(0)}).`);
  }
  try {
    // failOn 'truncated' refuses cut-off files instead of decoding a half-grey picture.
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'truncated', pages: 1 })
      .rotate()
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`${info.channels} channels`);
    return { width: info.width, height: info.height, rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), format: metadata.format };
  } catch (error) {
    throw imageError(name, `le fichier est abîmé ou incomplet (${(error as Error).message.split('\n')[0]}).`);
  }
}

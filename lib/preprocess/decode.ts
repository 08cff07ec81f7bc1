/**
 * Decoding a photo (PNG, JPEG, WebP, GIF) to 8-bit pixels with sharp, the way Pillow's `Image.open`
 * sees them, with French errors that name the file. Only decoding happens here: every pixel
 * operation of the course is done by this module's own code, to match Pillow's arithmetic.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import sharp from 'sharp';

/** 8-bit pixels, row-major, 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels interleaved. */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

/** Formats accepted for a student's photo. */
export type PhotoFormat = 'png' | 'jpeg' | 'webp' | 'gif';

/** A decoded photo: its pixels (EXIF orientation applied) and the format it was stored in. */
export interface DecodedImage extends RawImage {
  format: PhotoFormat;
}

/** Options of decodeImage. */
export interface DecodeOptions {
  /** Refuse images above this many pixels, before decoding them (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /** Name used in error messages (default: the file's name, or « image envoyée » for bytes). */
  name?: string;
  /** Refuse images whose long side exceeds this many times the short side, before decoding them (default: no limit). */
  maxAspectRatio?: number;
  /** Stop libvips' decoding after this many milliseconds (sharp's timeout, in whole seconds rounded up; default: none). */
  timeoutMs?: number;
  /** Read the photo as the Python course's Pillow code does: EXIF orientation ignored and, in preprocessPhoto, alpha dropped (a transparent background turns black; a transparent GIF pixel gets its decoded colour, not Pillow's palette entry). Default false. */
  asPythonCourse?: boolean;
}

/** Default limit on a photo's pixels (100 megapixels): a phone photo has 12 to 50. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** French duration for a time limit: « 2 s », « 1,5 s », « 250 ms ». */
function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s`;
}

const SUPPORTED: ReadonlySet<string> = new Set<PhotoFormat>(['png', 'jpeg', 'webp', 'gif']);
const EXPECTED = '(PNG, JPEG, WebP ou GIF attendus)';

/** An image that cannot be used, with the file's name and the reason, both in the French message. */
export class ImageReadError extends Error {
  constructor(
    /** The name shown to the user (file name, or the name given in the options). */
    readonly file: string,
    /** What is wrong, in French, ending with a full stop. */
    readonly reason: string,
  ) {
    super(`Impossible de lire l'image « ${file} » : ${reason}`);
    this.name = 'ImageReadError';
  }
}

/** A photo whose preparation took longer than the time allowed per photo: too costly, not damaged. */
export class PhotoTimeoutError extends Error {
  constructor(
    /** The name shown to the user. */
    readonly file: string,
    /** The time allowed, in milliseconds. */
    readonly limitMs: number,
  ) {
    super(
      `Impossible de préparer l'image « ${file} » en moins de ${duration(limitMs)}, la limite de temps par photo : ` +
        `envoyez une photo plus petite (une photo de téléphone de 12 mégapixels suffit largement : le modèle n'en garde que 28 x 28 pixels).`,
    );
    this.name = 'PhotoTimeoutError';
  }
}

async function readBytes(path: string, name: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageReadError(name, `le fichier n'existe pas (${path}).`);
    if (code === 'EISDIR') throw new ImageReadError(name, `c'est un dossier, pas un fichier (${path}).`);
    if (code === 'EACCES' || code === 'EPERM') throw new ImageReadError(name, `lecture interdite (droits insuffisants sur ${path}).`);
    throw new ImageReadError(name, `lecture impossible (${(error as Error).message}).`);
  }
}

/** The format announced by the file's first bytes, to tell a damaged photo from a file that is no photo at all. */
function sniffFormat(bytes: Buffer): PhotoFormat | undefined {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(bytes.toString('latin1', 0, 6))) return 'gif';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** The decoder's own words, for whoever has to look into the file. */
function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].trim().replace(/[.:]$/, '') || 'erreur inconnue';
}

function megapixels(pixels: number): string {
  return (pixels / 1e6).toLocaleString('fr-FR', { maximumFractionDigits: 1 });
}

/**
 * Pillow's CMYK to RGB (`cmyk2rgb`, used by `convert('L')` via RGB): naive, no colour profile,
 * with Pillow's rounded division by 255.
 */
function cmykToRgb(cmyk: Uint8Array, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, p = 0, q = 0; i < pixels; i++, p += 4, q += 3) {
    const nk = 255 - cmyk[p + 3];
    for (let c = 0; c < 3; c++) {
      const t = cmyk[p + c] * nk + 128;
      rgb[q + c] = nk - (((t >> 8) + t) >> 8);
    }
  }
  return rgb;
}

/**
 * Reads and decodes a photo (path or bytes) to 8-bit pixels as Pillow would see them: embedded ICC
 * profiles are ignored (the course ignores them), 16-bit channels keep their high byte, CMYK is
 * converted with Pillow's formula, an animated GIF gives its first frame. Deliberate differences:
 * the EXIF orientation is applied, so a phone photo taken upright stays upright (the course left
 * it lying on its side); and a 16-bit grey PNG keeps its high byte too, where Pillow's
 * `convert('L')` clips its values at 255 and so turns almost the whole picture white.
 * Throws an ImageReadError, in French and naming the file, for anything unusable.
 */
export async function decodeImage(input: string | Buffer, options: DecodeOptions = {}): Promise<DecodedImage> {
  const name = options.name ?? (typeof input === 'string' ? basename(input) : 'image envoyée');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new RangeError(`maxPixels must be positive, got ${maxPixels}`);
  const maxAspectRatio = options.maxAspectRatio ?? Infinity;
  if (!(maxAspectRatio >= 1)) throw new RangeError(`maxAspectRatio must be at least 1, got ${maxAspectRatio}`);
  const timeoutMs = options.timeoutMs ?? Infinity;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  const bytes = typeof input === 'string' ? await readBytes(input, name) : input;
  if (bytes.length === 0) throw new ImageReadError(name, 'le fichier est vide.');

  // The header alone says the format and the size: a decompression bomb is refused before decoding.
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    if (sniffFormat(bytes)) throw new ImageReadError(name, `le fichier est abîmé ou incomplet (${firstLine(error)}).`);
    throw new ImageReadError(name, `le fichier n'est pas une image reconnue ${EXPECTED}.`);
  }
  const format = metadata.format as string | undefined;
  if (!format || !SUPPORTED.has(format)) {
    // iPhones save HEIC by default: say how to get a JPEG instead.
    const heic = format === 'heif' && metadata.compression === 'hevc';
    const shown = heic ? 'HEIC' : format === 'heif' ? 'AVIF' : (format ?? 'inconnu').toUpperCase();
    const hint = heic ? ' Exportez la photo en JPEG (sur iPhone : Réglages > Appareil photo > Formats > « Le plus compatible »).' : '';
    throw new ImageReadError(name, `le format « ${shown} » n'est pas pris en charge ${EXPECTED}.${hint}`);
  }
  const width = metadata.width ?? 0;
  const height = metadata.pageHeight ?? metadata.height ?? 0;
  if (width < 1 || height < 1) throw new ImageReadError(name, "l'image n'a aucun pixel.");
  if (width * height > maxPixels) {
    throw new ImageReadError(
      name,
      `l'image est trop grande (${width} x ${height} pixels, soit ${megapixels(width * height)} mégapixels ; limite : ${megapixels(maxPixels)} mégapixels).`,
    );
  }
  // Decoding costs per row and resizing per pixel of the long side: a 1 x 39 000 000 line within the
  // pixel limit would hold the thread for tens of seconds, so such a shape is refused from the header.
  const ratio = Math.max(width, height) / Math.min(width, height);
  if (ratio > maxAspectRatio) {
    const count = (n: number) => n.toLocaleString('fr-FR', { maximumFractionDigits: 1 });
    const shape = width > height ? 'plus large que haute' : 'plus haute que large';
    throw new ImageReadError(
      name,
      `l'image fait ${count(width)} x ${count(height)} pixels : elle est ${count(ratio)} fois ${shape}, la limite est de ${count(maxAspectRatio)} fois. ` +
        `Envoyez une photo cadrée sur le vêtement, par exemple au format 4:3 ou 3:4 d'un téléphone.`,
    );
  }

  const cmyk = metadata.space === 'cmyk';
  try {
    // failOn 'error' refuses a cut-off file instead of returning a half-grey picture, as Pillow does.
    // sharp's own pixel limit stays on, in case the header understated the size.
    const limitInputPixels = Number.isFinite(maxPixels) ? Math.ceil(maxPixels) : false;
    let pipeline = sharp(bytes, { limitInputPixels, failOn: 'error', pages: 1, ignoreIcc: true });
    if (!options.asPythonCourse) pipeline = pipeline.autoOrient();
    // libvips checks its clock itself, so a decode running past the limit stops even where no one can interrupt it.
    if (Number.isFinite(timeoutMs)) pipeline = pipeline.timeout({ seconds: Math.min(3600, Math.ceil(timeoutMs / 1000)) });
    // Without this, libvips would convert CMYK through a colour profile; Pillow uses a plain formula.
    if (cmyk) pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk');
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (cmyk) {
      if (info.channels !== 4) throw new Error(`CMYK with ${info.channels} channels`);
      return { width: info.width, height: info.height, channels: 3, data: cmykToRgb(pixels, info.width * info.height), format: format as PhotoFormat };
    }
    if (info.channels < 1 || info.channels > 4) throw new Error(`${info.channels} channels`);
    return { width: info.width, height: info.height, channels: info.channels as RawImage['channels'], data: pixels, format: format as PhotoFormat };
  } catch (error) {
    if (Number.isFinite(timeoutMs) && /^timeout\b/.test(firstLine(error))) throw new PhotoTimeoutError(name, timeoutMs);
    throw new ImageReadError(name, `le fichier est abîmé ou incomplet (${firstLine(error)}).`);
  }
}

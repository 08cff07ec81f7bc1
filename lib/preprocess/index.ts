/**
 * A student's photo to the model's input exactly as the course does it with Pillow: grey levels,
 * longest side to 20 px (Lanczos), sharpen, centred on a white 28x28 canvas, inverted, scaled to
 * [0, 1] — the same 784 numbers as the course's Python code. Two deliberate improvements, both
 * harmless for ordinary photos: the EXIF orientation is applied, and transparency becomes white.
 * TensorFlow is not imported here (only its types), so the web app and tests use this cheaply.
 */
import type * as Tfjs from '@tensorflow/tfjs-node';
import sharp from 'sharp';
import { centerOnCanvas, invertAndScale } from './canvas';
import { decodeImage, type DecodeOptions, type RawImage } from './decode';
import { toGrayscale, type GrayImage, type Transparency } from './grayscale';
import { fitLongestSide, resizeLanczos } from './lanczos';
import { sharpen } from './sharpen';

export { centerOnCanvas, invertAndScale } from './canvas';
export { DEFAULT_MAX_PIXELS, ImageReadError, PhotoTimeoutError, decodeImage, type DecodeOptions, type DecodedImage, type PhotoFormat, type RawImage } from './decode';
export { toGrayscale, type GrayImage, type Transparency } from './grayscale';
export { axisWeights, fitLongestSide, resizeLanczos, roundHalfEven, type AxisWeights } from './lanczos';
export { lumaRgb, resampleHorizontal } from './wasm';
export { sharpen } from './sharpen';
export { ORIGINAL_LABEL, autocontrast, equalize, gaussianBlur, grayscale, histogram, pipeline, resize, stagesGridPng, type AutocontrastOptions, type Pipeline, type PipelineResult, type Stage, type StagesGridOptions, type StagesRow, type Step } from './pipeline';

/** Side of the model's input image. */
export const INPUT_SIDE = 28;
/** Longest side of the photo once resized, inside the input image (the course's 20). */
export const CONTENT_SIDE = 20;

/** A photo prepared for the model, with what is useful to show it. */
export interface PreprocessedPhoto {
  /** 784 values in [0, 1], row-major 28x28: the model's input. */
  input: Float32Array;
  /** The 28x28 image as the model sees it (inverted: garment bright on black), 0-255. */
  display: Uint8Array;
  /** The 28x28 canvas before inversion (garment dark on white), 0-255. */
  canvas: Uint8Array;
  /** Width of the original photo (after EXIF orientation). */
  width: number;
  /** Height of the original photo (after EXIF orientation). */
  height: number;
  /** Size of the photo once resized (longest side 20). */
  resized: { width: number; height: number };
}

/** Options of preprocessPhoto. */
export type PreprocessOptions = DecodeOptions;

/** The course's preprocessing on pixels already decoded (any size, 1 to 4 channels). */
export function preprocessPixels(image: RawImage, transparency: Transparency = 'over-white'): PreprocessedPhoto {
  const gray = toGrayscale(image, transparency);
  const resized = fitLongestSide(gray.width, gray.height, CONTENT_SIDE);
  const garment = sharpen(resizeLanczos(gray, resized.width, resized.height));
  const canvas = centerOnCanvas(garment, INPUT_SIDE, 255);
  return {
    input: invertAndScale(canvas),
    display: canvas.data.map((v) => 255 - v),
    canvas: canvas.data,
    width: image.width,
    height: image.height,
    resized,
  };
}

/**
 * Prepares a photo (a path or the file's bytes; PNG, JPEG, WebP or GIF) as the course does.
 * Throws an ImageReadError with a French message naming the file when it cannot be used.
 */
export async function preprocessPhoto(input: string | Buffer, options: PreprocessOptions = {}): Promise<PreprocessedPhoto> {
  return preprocessPixels(await decodeImage(input, options), options.asPythonCourse ? 'dropped' : 'over-white');
}

/** Stacks prepared photos into the model's input tensor [n, 28, 28, 1], with the tf module the caller loaded. */
export function photosToTensor(tf: Pick<typeof Tfjs, 'tensor4d'>, photos: readonly PreprocessedPhoto[]): Tfjs.Tensor4D {
  const size = INPUT_SIDE * INPUT_SIDE;
  const values = new Float32Array(photos.length * size);
  photos.forEach((photo, i) => {
    if (photo.input.length !== size) throw new RangeError(`photo ${i} has ${photo.input.length} input values, expected ${size}`);
    values.set(photo.input, i * size);
  });
  return tf.tensor4d(values, [photos.length, INPUT_SIDE, INPUT_SIDE, 1]);
}

/** Encodes a grey image as PNG, optionally enlarged `scale` times by repeating pixels (a 28x28 input stays crisp). */
export async function grayPng(image: GrayImage, scale = 1): Promise<Buffer> {
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`scale must be a positive integer, got ${scale}`);
  const width = image.width * scale;
  const height = image.height * scale;
  let pixels = image.data;
  if (scale > 1) {
    pixels = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      const source = Math.floor(y / scale) * image.width;
      for (let x = 0; x < width; x++) pixels[y * width + x] = image.data[source + Math.floor(x / scale)];
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 1 } }).png().toBuffer();
}

/** The photo (oriented, flattened on white) beside the 28x28 image the model receives, as one PNG `height` pixels high. */
export async function beforeAfterPng(input: string | Buffer, photo: PreprocessedPhoto, height = 168): Promise<Buffer> {
  const photoWidth = Math.min(3 * height, Math.max(1, Math.round((height * photo.width) / photo.height)));
  const original = await sharp(input, { pages: 1 })
    .autoOrient()
    .flatten({ background: '#ffffff' })
    .resize({ width: photoWidth, height, fit: 'inside' })
    .png()
    .toBuffer({ resolveWithObject: true });
  const scale = Math.max(1, Math.floor(height / INPUT_SIDE));
  const inputSide = scale * INPUT_SIDE;
  const modelInput = await grayPng({ width: INPUT_SIDE, height: INPUT_SIDE, data: photo.display }, scale);
  const gap = 16;
  const total = Math.max(height, inputSide);
  return sharp({ create: { width: original.info.width + gap + inputSide, height: total, channels: 3, background: '#ffffff' } })
    .composite([
      { input: original.data, left: 0, top: Math.floor((total - original.info.height) / 2) },
      { input: modelInput, left: original.info.width + gap, top: Math.floor((total - inputSide) / 2) },
    ])
    .png()
    .toBuffer();
}

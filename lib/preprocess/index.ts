/**
 * A photo to the model's input exactly as the course does it with Pillow: grayscale, longest side
 * to 20 px (Lanczos), sharpen, centred on a white 28x28 canvas, inverted, scaled to [0,1].
 * Does not load TensorFlow, so the web app and tests use it cheaply.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import sharp from 'sharp';
import { decodeImage } from './decode';
import { centerOnCanvas, fitLongestSide, invertAndScale, resizeLanczos, sharpen, toGrayscale, type GrayImage } from './gray';

export * from './gray';
export * from './decode';

/** Side of the model's input image. */
export const INPUT_SIDE = 28;
/** Longest side of the garment inside the input image, as in the course. */
export const CONTENT_SIDE = 20;

/** A photo prepared for the model, with what is useful to show it. */
export interface PreprocessedPhoto {
  /** 784 values in [0, 1], row-major 28x28: the model's input. */
  input: Float32Array;
  /** The 28x28 image as the model sees it (inverted: garment bright on black), 0-255. */
  display: Uint8Array;
  /** The 28x28 canvas before inversion (garment dark on white). */
  canvas: Uint8Array;
  /** Original size of the photo (after EXIF orientation). */
  width: number;
  height: number;
  /** Size of the garment once resized (longest side 20). */
  resized: { width: number; height: number };
}

/** Options of preprocessPhoto. */
export interface PreprocessOptions {
  /** Refuse photos above this many pixels (default 100 megapixels). */
  maxPixels?: number;
  /** Name used in error messages (defaults to the file name). */
  name?: string;
}

/** Prepares a photo (a path or its bytes) as the course does, for the model and for display. */
export async function preprocessPhoto(input: string | Buffer, options: PreprocessOptions = {}): Promise<PreprocessedPhoto> {
  const decoded = await decodeImage(input, options);
  const gray = toGrayscale(decoded.rgba, decoded.width, decoded.height);
  const size = fitLongestSide(gray.width, gray.height, CONTENT_SIDE);
  const garment = sharpen(resizeLanczos(gray, size.width, size.height));
  const canvas = centerOnCanvas(garment, INPUT_SIDE, 255);
  const inputValues = invertAndScale(canvas);
  return {
    input: inputValues,
    display: canvas.data.map((v) => 255 - v),
    canvas: canvas.data,
    width: decoded.width,
    height: decoded.height,
    resized: size,
  };
}

/** Stacks prepared photos into the model's input tensor [n, 28, 28, 1] (the caller passes its tf module). */
export function photosToTensor(tf: typeof tfTypes, photos: PreprocessedPhoto[]): tfTypes.Tensor4D {
  const values = new Float32Array(photos.length * INPUT_SIDE * INPUT_SIDE);
  photos.forEach((photo, i) => values.set(photo.input, i * INPUT_SIDE * INPUT_SIDE));
  return tf.tensor4d(values, [photos.length, INPUT_SIDE, INPUT_SIDE, 1]);
}

/** Encodes a grey image as PNG, optionally enlarged by an integer factor (nearest neighbour: pixels stay visible). */
export async function grayPng(image: GrayImage, scale = 1): Promise<Buffer> {
  let png = sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 1 } });
  if (scale > 1) png = png.resize(image.width * scale, image.height * scale, { kernel: 'nearest' });
  return png.png().toBuffer();
}

/** The photo (flattened on white) beside the 28x28 image the model receives, as one PNG `height` pixels high. */
export async function beforeAfterPng(input: string | Buffer, photo: PreprocessedPhoto, height = 168): Promise<Buffer> {
  const original = await sharp(input, { pages: 1 }).rotate().flatten({ background: '#ffffff' }).resize({ height, width: Math.min(3 * height, Math.max(1, Math.round((height * photo.width) / photo.height))), fit: 'inside' }).png().toBuffer();
  const originalSize = await sharp(original).metadata();
  const modelInput = await grayPng({ width: INPUT_SIDE, height: INPUT_SIDE, data: photo.display }, Math.max(1, Math.floor(height / INPUT_SIDE)));
  const gap = 16;
  const inputSide = Math.max(1, Math.floor(height / INPUT_SIDE)) * INPUT_SIDE;
  const width = (originalSize.width ?? height) + gap + inputSide;
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([
      { input: original, left: 0, top: Math.floor((height - (originalSize.height ?? height)) / 2) },
      { input: modelInput, left: (originalSize.width ?? height) + gap, top: Math.floor((height - inputSide) / 2) },
    ])
    .png()
    .toBuffer();
}

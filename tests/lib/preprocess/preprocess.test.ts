import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  DEFAULT_MAX_PIXELS,
  ImageReadError,
  PhotoTimeoutError,
  beforeAfterPng,
  centerOnCanvas,
  decodeImage,
  fitLongestSide,
  grayPng,
  invertAndScale,
  photosToTensor,
  preprocessPhoto,
  preprocessPixels,
  resizeLanczos,
  roundHalfEven,
  sharpen,
  toGrayscale,
  type GrayImage,
  type PreprocessedPhoto,
} from '../../../lib/preprocess';
import { temporaryFolder } from '../../helpers/fixtures';
import { GARMENT_RGB, boundingBox, fromRaw, inTrousers, pngFromPixels, pngHeaderOnly, trousersPhoto } from './images';

const { dir, cleanup } = temporaryFolder('analyse-image-preprocess-');
afterAll(cleanup);

function save(name: string, bytes: Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

describe('a photo made here: dark trousers on a white 300x500 background', () => {
  it.each(['png', 'jpeg'] as const)('as %s: garment bright on black, centred, longest side 20 px, background ~0', async (format) => {
    const photo = fromRaw(trousersPhoto(300, 500));
    const file = save(`trousers.${format}`, await (format === 'png' ? photo.png() : photo.jpeg({ quality: 90 })).toBuffer());
    const result = await preprocessPhoto(file);

    expect([result.width, result.height]).toEqual([300, 500]);
    expect(result.resized).toEqual({ width: 12, height: 20 }); // round(20 * 300 / 500) = 12
    expect(result.input).toBeInstanceOf(Float32Array);
    expect(result.input).toHaveLength(784);
    expect(Array.from(result.display)).toEqual(Array.from(result.canvas, (v) => 255 - v));
    expect(Array.from(result.input)).toEqual(Array.from(result.display, (v) => Math.fround(v / 255)));

    // The 12x20 photo sits at columns 8-19, rows 4-23; outside it the canvas is pure white, so the input is 0.
    const garment: number[] = [];
    const background: number[] = [];
    const margin: number[] = [];
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const value = result.input[y * 28 + x];
        if (x < 8 || x > 19 || y < 4 || y > 23) margin.push(value);
        // Where the photo is, tell garment from background by the drawing, sampled at the pixel's centre.
        else (inTrousers(((x - 8 + 0.5) * 300) / 12, ((y - 4 + 0.5) * 500) / 20, 300, 500) ? garment : background).push(value);
      }
    }
    expect(new Set(margin)).toEqual(new Set([0]));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean(garment)).toBeGreaterThan(0.7); // navy blue: grey 40, inverted ~0.84
    expect(mean(background)).toBeLessThan(0.1);

    const box = boundingBox(result.display, 64);
    expect(Math.max(box.width, box.height)).toBe(20);
    expect([box.top, box.bottom]).toEqual([4, 23]);
    expect(Math.abs((box.left + box.right) / 2 - 13.5)).toBeLessThanOrEqual(0.5);
  });

  it('gives the same result with the background transparent instead of white (the course would have made it black)', async () => {
    const onWhite = await preprocessPhoto(await fromRaw(trousersPhoto(300, 500)).png().toBuffer());
    const transparent = await preprocessPhoto(await fromRaw(trousersPhoto(300, 500, { transparent: true })).png().toBuffer());
    expect(Array.from(transparent.input)).toEqual(Array.from(onWhite.input));
    expect(transparent.display[0]).toBe(0);
  });

  it('gives the same result from a grey photo as from a colour one of the same luma', async () => {
    const luma = (GARMENT_RGB[0] * 19595 + GARMENT_RGB[1] * 38470 + GARMENT_RGB[2] * 7471 + 0x8000) >> 16;
    const colour = await preprocessPhoto(await fromRaw(trousersPhoto(300, 500)).png().toBuffer());
    const grey = await preprocessPhoto(await fromRaw(trousersPhoto(300, 500, { rgb: [luma] })).png().toBuffer());
    expect(Array.from(grey.canvas)).toEqual(Array.from(colour.canvas));
  });

  it('reads GIF and WebP to the same pixels as PNG (lossless), and lossy WebP to nearly the same', async () => {
    const raw = trousersPhoto(200, 120);
    const png = await preprocessPhoto(await fromRaw(raw).png().toBuffer());
    for (const bytes of [await fromRaw(raw).gif().toBuffer(), await fromRaw(raw).webp({ lossless: true }).toBuffer()]) {
      const photo = await preprocessPhoto(bytes);
      expect(photo.resized).toEqual({ width: 20, height: 12 });
      expect(Array.from(photo.canvas)).toEqual(Array.from(png.canvas));
    }
    const lossy = await preprocessPhoto(await fromRaw(raw).webp({ quality: 90 }).toBuffer());
    expect(Math.max(...lossy.canvas.map((v, i) => Math.abs(v - png.canvas[i])))).toBeLessThanOrEqual(24);
  });

  it('uses the first frame of an animated GIF', async () => {
    const first = trousersPhoto(60, 90);
    const black = Buffer.alloc(60 * 90 * 3);
    // Two 60x90 frames stacked in one raw image: sharp writes them as an animation of two pages.
    const animation = await sharp(Buffer.concat([first.data, black]), { raw: { width: 60, height: 180, channels: 3, pageHeight: 90 } }).gif().toBuffer();
    expect(await sharp(animation).metadata()).toMatchObject({ format: 'gif', pages: 2 });
    const photo = await preprocessPhoto(animation);
    expect([photo.width, photo.height]).toEqual([60, 90]);
    const firstFrameAlone = await preprocessPhoto(await fromRaw(first).gif().toBuffer());
    expect(Array.from(photo.canvas)).toEqual(Array.from(firstFrameAlone.canvas));
  });

  it('turns a phone photo upright from its EXIF orientation (the course does not)', async () => {
    // The sensor stored the portrait photo lying on its side; orientation 6 says "turn 90° clockwise to view".
    const upright = trousersPhoto(30, 50);
    const lying = await fromRaw(upright).rotate(-90).png().toBuffer();
    const tagged = await sharp(lying).withMetadata({ orientation: 6 }).png().toBuffer();
    expect(await sharp(tagged).metadata()).toMatchObject({ width: 50, height: 30, orientation: 6 });
    const photo = await preprocessPhoto(tagged);
    expect([photo.width, photo.height]).toEqual([30, 50]);
    expect(Array.from(photo.canvas)).toEqual(Array.from((await preprocessPhoto(await fromRaw(upright).png().toBuffer())).canvas));
  });
});

describe("sizing like the course's resize_with_aspect_ratio", () => {
  it("rounds half to even, as Python's round()", () => {
    expect([0.5, 1.5, 2.5, 12.5, 13.5, 12.49, 12.51].map(roundHalfEven)).toEqual([0, 2, 2, 12, 14, 12, 13]);
  });

  it('keeps the longest side at 20, the other at least 1', () => {
    expect(fitLongestSide(40, 25)).toEqual({ width: 20, height: 12 }); // 12.5 -> 12
    expect(fitLongestSide(40, 27)).toEqual({ width: 20, height: 14 }); // 13.5 -> 14
    expect(fitLongestSide(25, 40)).toEqual({ width: 12, height: 20 });
    expect(fitLongestSide(50, 50)).toEqual({ width: 20, height: 20 }); // square: the "else" branch
    expect(fitLongestSide(1000, 10)).toEqual({ width: 20, height: 1 }); // round(0.2) = 0 -> 1
    expect(fitLongestSide(5, 3)).toEqual({ width: 20, height: 12 }); // enlarged
  });

  it.each([
    [400, 250, { width: 20, height: 12 }, { left: 4, top: 8 }], // landscape, 20 * 250 / 400 = 12.5 -> 12
    [250, 400, { width: 12, height: 20 }, { left: 8, top: 4 }], // portrait
    [400, 270, { width: 20, height: 14 }, { left: 4, top: 7 }], // 13.5 -> 14
    [300, 195, { width: 20, height: 13 }, { left: 4, top: 7 }], // odd margin: (28 - 13) // 2 = 7
  ])('places a %ix%i photo as %o at %o', (width, height, resized, offset) => {
    const photo = preprocessPixels({ width, height, channels: 1, data: new Uint8Array(width * height) }); // all black
    expect(photo.resized).toEqual(resized);
    const box = boundingBox(photo.display, 127);
    expect({ left: box.left, top: box.top, width: box.width, height: box.height }).toEqual({ ...offset, ...resized });
  });
});

describe('building blocks, on simple grey images', () => {
  const gray = (width: number, height: number, values: number[]): GrayImage => ({ width, height, data: Uint8Array.from(values) });

  it("greys as Pillow's convert('L') and lays transparency over white", () => {
    const rgb = toGrayscale({ width: 4, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 30, 40, 70]) });
    expect(Array.from(rgb.data)).toEqual([76, 150, 29, 40]);
    const rgba = toGrayscale({ width: 3, height: 1, channels: 4, data: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 128, 10, 20, 30, 255]) });
    expect(Array.from(rgba.data)).toEqual([255, 127, 18]);
    const la = toGrayscale({ width: 2, height: 1, channels: 2, data: Uint8Array.from([0, 0, 100, 255]) });
    expect(Array.from(la.data)).toEqual([255, 100]);
    expect(() => toGrayscale({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) })).toThrow(RangeError);
  });

  it('resizes a flat image to the same flat grey, and a same-size resize is a copy', () => {
    const flat = gray(37, 23, new Array(37 * 23).fill(128));
    expect(new Set(resizeLanczos(flat, 20, 12).data)).toEqual(new Set([128]));
    expect(new Set(resizeLanczos(flat, 90, 61).data)).toEqual(new Set([128]));
    const same = resizeLanczos(flat, 37, 23);
    expect(same.data).not.toBe(flat.data);
    expect(Array.from(same.data)).toEqual(Array.from(flat.data));
    expect(() => resizeLanczos(flat, 0, 3)).toThrow(RangeError);
  });

  it('sharpens with 32/16 at the centre and -2/16 around, rounding, clipping, borders untouched', () => {
    const image = gray(3, 3, [10, 10, 10, 10, 100, 10, 10, 10, 10]);
    // 0.5 + 2 * 100 - 8 * 10 / 8 = 190.5 -> 190
    expect(Array.from(sharpen(image).data)).toEqual([10, 10, 10, 10, 190, 10, 10, 10, 10]);
    expect(sharpen(gray(3, 3, [255, 255, 255, 255, 200, 255, 255, 255, 255])).data[4]).toBe(145);
    expect(sharpen(gray(3, 3, [0, 0, 0, 0, 200, 0, 0, 0, 0])).data[4]).toBe(255);
    expect(sharpen(gray(3, 3, [255, 255, 255, 255, 10, 255, 255, 255, 255])).data[4]).toBe(0);
    expect(Array.from(sharpen(gray(2, 3, [1, 2, 3, 4, 5, 6])).data)).toEqual([1, 2, 3, 4, 5, 6]); // under 3 px: unchanged
  });

  it('centres with floor offsets on white, then inverts and scales to float32', () => {
    const canvas = centerOnCanvas(gray(3, 2, [0, 0, 0, 0, 0, 0]), 6);
    expect(Array.from(canvas.data)).toEqual([
      ...[255, 255, 255, 255, 255, 255],
      ...[255, 255, 255, 255, 255, 255],
      ...[255, 0, 0, 0, 255, 255],
      ...[255, 0, 0, 0, 255, 255],
      ...[255, 255, 255, 255, 255, 255],
      ...[255, 255, 255, 255, 255, 255],
    ]);
    expect(Array.from(invertAndScale(gray(1, 3, [255, 0, 128])))).toEqual([0, 1, Math.fround(127 / 255)]);
  });
});

describe('model input and pictures', () => {
  it('stacks photos into a [n, 28, 28, 1] tensor with the tf module it is given (no TensorFlow loaded here)', async () => {
    const photo = await preprocessPhoto(await fromRaw(trousersPhoto(300, 500)).png().toBuffer());
    const calls: { values: Float32Array; shape: number[] }[] = [];
    const fakeTf = { tensor4d: (values: Float32Array, shape: number[]) => (calls.push({ values, shape }), 'tensor') };
    expect(photosToTensor(fakeTf as unknown as Parameters<typeof photosToTensor>[0], [photo, photo])).toBe('tensor');
    expect(calls[0].shape).toEqual([2, 28, 28, 1]);
    expect(Array.from(calls[0].values.subarray(784))).toEqual(Array.from(photo.input));
    // The real module fits the parameter's type (checked by tsc, never loaded).
    const typeCheck = (tf: typeof import('@tensorflow/tfjs-node'), photos: PreprocessedPhoto[]) => photosToTensor(tf, photos);
    expect(typeof typeCheck).toBe('function');
  });

  it('never imports TensorFlow at run time (only its types)', () => {
    const folder = join(__dirname, '../../../lib/preprocess');
    for (const file of readdirSync(folder).filter((name) => name.endsWith('.ts'))) {
      for (const line of readFileSync(join(folder, file), 'utf8').split('\n')) {
        if (/['"]@tensorflow\//.test(line)) expect(line).toMatch(/^import type /);
      }
    }
  });

  it('draws a grey image as PNG, enlarged by repeating pixels', async () => {
    const image = { width: 2, height: 1, data: Uint8Array.from([0, 200]) };
    const png = await grayPng(image, 3);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([6, 3]);
    expect(Array.from(data.subarray(0, 6 * info.channels)).filter((_, i) => i % info.channels === 0)).toEqual([0, 0, 0, 200, 200, 200]);
    expect(await sharp(await grayPng(image)).metadata()).toMatchObject({ format: 'png', width: 2, height: 1 });
    await expect(grayPng(image, 1.5)).rejects.toThrow(RangeError);
  });

  it('shows the photo beside the 28x28 input the model receives', async () => {
    const png = await fromRaw(trousersPhoto(300, 500)).png().toBuffer();
    const picture = await beforeAfterPng(png, await preprocessPhoto(png), 168);
    // 101 x 168 for the photo, a 16 px gap, 168 x 168 for the input enlarged 6 times.
    expect(await sharp(picture).metadata()).toMatchObject({ format: 'png', width: 101 + 16 + 168, height: 168 });
  });
});

describe('unusable files: a French message naming the file', () => {
  let jpeg: Buffer;
  const bad = (name: string, bytes: Buffer | string) => save(name, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  beforeAll(async () => {
    jpeg = await fromRaw(trousersPhoto(300, 500)).jpeg().toBuffer();
  });

  const expectError = async (input: string | Buffer, message: RegExp, options = {}) => {
    const error = await preprocessPhoto(input, options).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ImageReadError);
    expect((error as Error).message).toMatch(/^Impossible de lire l'image « .+ » : /);
    expect((error as Error).message).toMatch(message);
  };

  it('a missing file', async () => {
    await expectError(join(dir, 'absente.jpg'), /« absente\.jpg » : le fichier n'existe pas \(.*absente\.jpg\)\.$/);
  });

  it('a folder', async () => {
    mkdirSync(join(dir, 'photos.png'), { recursive: true });
    await expectError(join(dir, 'photos.png'), /« photos\.png » : c'est un dossier, pas un fichier/);
  });

  it('an empty file', async () => {
    await expectError(bad('vide.png', ''), /« vide\.png » : le fichier est vide\.$/);
  });

  it('a file that is not an image', async () => {
    await expectError(
      bad('notes.jpg', 'Ceci est un texte, pas une photo.'),
      /^Impossible de lire l'image « notes\.jpg » : le fichier n'est pas une image reconnue \(PNG, JPEG, WebP ou GIF attendus\)\.$/,
    );
  });

  it.each(['jpeg', 'png', 'webp', 'gif'] as const)('a truncated %s', async (format) => {
    const bytes = format === 'jpeg' ? jpeg : await sharp(jpeg)[format]().toBuffer();
    await expectError(bad(`coupee.${format}`, bytes.subarray(0, Math.floor(bytes.length * 0.6))), new RegExp(`« coupee\\.${format} » : le fichier est abîmé ou incomplet`));
  });

  it('an image format other than PNG, JPEG, WebP or GIF', async () => {
    await expectError(bad('scan.tif', await sharp(jpeg).tiff().toBuffer()), /« scan\.tif » : le format « TIFF » n'est pas pris en charge \(PNG, JPEG, WebP ou GIF attendus\)/);
  });

  it(`an image above ${DEFAULT_MAX_PIXELS / 1e6} megapixels, refused from its header without decoding it`, async () => {
    await expectError(bad('immense.png', pngHeaderOnly(12_000, 9_000)), /« immense\.png » : l'image est trop grande \(12000 x 9000 pixels, soit 108 mégapixels ; limite : 100 mégapixels\)\./);
  });

  it('an image above a limit given in the options, with the name given for bytes', async () => {
    await expectError(jpeg, /« grande\.jpg » : l'image est trop grande \(300 x 500 pixels, soit 0,2 mégapixels ; limite : 0,1 mégapixels\)/, {
      maxPixels: 100_000,
      name: 'grande.jpg',
    });
    await expectError(Buffer.from('pas une image'), /« image envoyée » : /);
  });

  it('an image more elongated than maxAspectRatio, refused from its header without decoding it', async () => {
    // The headers announce 39 000 000 rows (or columns) that the files do not hold: decoding would fail.
    await expectError(pngHeaderOnly(1, 39_000_000), /« haute\.png » : l'image fait 1 x 39\s000\s000 pixels : elle est 39\s000\s000 fois plus haute que large, la limite est de 20 fois\. Envoyez une photo cadrée/u, {
      maxAspectRatio: 20,
      name: 'haute.png',
    });
    await expectError(pngHeaderOnly(2_500, 100), /2\s500 x 100 pixels : elle est 25 fois plus large que haute, la limite est de 20 fois/u, { maxAspectRatio: 20 });
    // At the limit, and without one (the notebooks' default), the shape is accepted.
    const line = pngFromPixels({ width: 20, height: 1, channels: 1, data: new Uint8Array(20).fill(90) });
    expect((await decodeImage(line, { maxAspectRatio: 20 })).width).toBe(20);
    expect((await decodeImage(pngFromPixels({ width: 1, height: 500, channels: 1, data: new Uint8Array(500) }))).height).toBe(500);
  });

  it('an image whose decoding runs past timeoutMs: a PhotoTimeoutError, stopped by libvips itself', async () => {
    // libvips decodes a one-pixel-wide PNG row by row, several seconds for 20 000 000 rows.
    const tall = pngFromPixels({ width: 1, height: 20_000_000, channels: 1, data: new Uint8Array(20_000_000).fill(255) });
    const started = performance.now();
    const error = await decodeImage(tall, { timeoutMs: 1, name: 'longue.png' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PhotoTimeoutError);
    expect((error as Error).message).toMatch(/^Impossible de préparer l'image « longue\.png » en moins de 1 ms, la limite de temps par photo : envoyez une photo plus petite/);
    // sharp counts whole seconds: 1 ms becomes 1 s.
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('keeps the file name and the reason on the error', async () => {
    const error = await decodeImage(bad('vide2.jpg', '')).catch((caught: ImageReadError) => caught);
    expect(error).toMatchObject({ name: 'ImageReadError', file: 'vide2.jpg', reason: 'le fichier est vide.' });
  });
});

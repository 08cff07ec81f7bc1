import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadNativeTf } from '../../../lib/backend';
import { beforeAfterPng, fitLongestSide, grayPng, photosToTensor, preprocessPhoto, roundHalfEven } from '../../../lib/preprocess';
import { temporaryFolder } from '../../helpers/fixtures';

/** A dark garment (a trouser-like shape) on a white background, as a product photo would show it. */
async function garmentPhoto(width: number, height: number, options: { transparent?: boolean } = {}): Promise<Buffer> {
  const legs = `<path d="M ${width * 0.3} ${height * 0.1} L ${width * 0.7} ${height * 0.1} L ${width * 0.75} ${height * 0.9} L ${width * 0.55} ${height * 0.9} L ${width * 0.5} ${height * 0.4} L ${width * 0.45} ${height * 0.9} L ${width * 0.25} ${height * 0.9} Z" fill="#1e2a44" shape-rendering="crispEdges"/>`;
  const background = options.transparent ? '' : `<rect width="${width}" height="${height}" fill="white"/>`;
  return sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${background}${legs}</svg>`)).png().toBuffer();
}

function boundingBox(pixels: Uint8Array, threshold: number) {
  let left = 28, right = -1, top = 28, bottom = -1;
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    if (pixels[y * 28 + x] > threshold) {
      left = Math.min(left, x); right = Math.max(right, x); top = Math.min(top, y); bottom = Math.max(bottom, y);
    }
  }
  return { left, right, top, bottom, width: right - left + 1, height: bottom - top + 1 };
}

describe('photo preprocessing (the course steps)', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  it.each(['png', 'jpeg'] as const)('turns a dark garment on a white 300x500 %s into a bright, centred 20 px garment on black', async (format) => {
    const file = join(dir, `garment.${format}`);
    const png = await garmentPhoto(300, 500);
    writeFileSync(file, format === 'png' ? png : await sharp(png).jpeg({ quality: 90 }).toBuffer());
    const photo = await preprocessPhoto(file);
    expect([photo.width, photo.height]).toEqual([300, 500]);
    expect(photo.resized).toEqual({ width: 12, height: 20 });
    expect(photo.input).toHaveLength(784);
    // Garment bright, background black.
    expect(photo.display[14 * 28 + 11]).toBeGreaterThan(150);
    expect(photo.display[0]).toBe(0);
    expect(photo.input[0]).toBe(0);
    expect(Math.max(...photo.input)).toBeLessThanOrEqual(1);
    // The resized photo (12x20) sits at columns 8-19 and rows 4-23; the garment fills 80 % of its height.
    const box = boundingBox(photo.display, 40);
    expect(box.top).toBeGreaterThanOrEqual(4);
    expect(box.bottom).toBeLessThanOrEqual(23);
    expect(box.height).toBeGreaterThanOrEqual(16);
    expect(Math.abs((box.left + box.right) / 2 - 13.5)).toBeLessThanOrEqual(1);
    expect(Math.abs((box.top + box.bottom) / 2 - 13.5)).toBeLessThanOrEqual(1);
  });

  it('gives the longest side 20 px when the photo is filled by the garment', async () => {
    const file = join(dir, 'dark.png');
    await sharp({ create: { width: 300, height: 500, channels: 3, background: '#202020' } }).png().toFile(file);
    const photo = await preprocessPhoto(file);
    const box = boundingBox(photo.display, 100);
    expect(box.height).toBe(20);
    expect(box.width).toBe(12);
    expect([box.left, box.top]).toEqual([8, 4]);
  });

  it('treats transparency as a white background', async () => {
    const onWhite = await preprocessPhoto(await garmentPhoto(300, 500));
    const transparent = await preprocessPhoto(await garmentPhoto(300, 500, { transparent: true }));
    expect(Array.from(transparent.canvas)).toEqual(Array.from(onWhite.canvas));
  });

  it('reads WebP and GIF, grey and colour', async () => {
    const png = await garmentPhoto(200, 120);
    const reference = await preprocessPhoto(png);
    for (const encoded of [await sharp(png).webp({ lossless: true }).toBuffer(), await sharp(png).gif().toBuffer(), await sharp(png).grayscale().png().toBuffer()]) {
      const photo = await preprocessPhoto(encoded);
      expect(photo.resized).toEqual({ width: 20, height: 12 });
      expect(photo.canvas.reduce((worst, v, i) => Math.max(worst, Math.abs(v - reference.canvas[i])), 0)).toBeLessThanOrEqual(12);
    }
  });

  it("sizes like the course, with Python's round-half-to-even", () => {
    expect(roundHalfEven(12.5)).toBe(12);
    expect(roundHalfEven(13.5)).toBe(14);
    expect(fitLongestSide(40, 25)).toEqual({ width: 20, height: 12 });
    expect(fitLongestSide(40, 27)).toEqual({ width: 20, height: 14 });
    expect(fitLongestSide(1000, 10)).toEqual({ width: 20, height: 1 });
    expect(fitLongestSide(50, 50)).toEqual({ width: 20, height: 20 });
  });

  it('stacks photos into a [n, 28, 28, 1] tensor and draws the input as PNG', async () => {
    const photo = await preprocessPhoto(await garmentPhoto(300, 500));
    const tf = loadNativeTf();
    const tensor = photosToTensor(tf, [photo, photo]);
    expect(tensor.shape).toEqual([2, 28, 28, 1]);
    tensor.dispose();
    const png = await grayPng({ width: 28, height: 28, data: photo.display }, 4);
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 112, height: 112 });
  });

  it('shows the photo beside the model input in one picture', async () => {
    const png = await garmentPhoto(300, 500);
    const picture = await beforeAfterPng(png, await preprocessPhoto(png), 168);
    // 101 x 168 for the photo, a 16 px gap, 168 x 168 for the 28x28 input enlarged 6 times.
    expect(await sharp(picture).metadata()).toMatchObject({ format: 'png', width: 101 + 16 + 168, height: 168 });
  });

  describe('bad input, named in a French message', () => {
    it.each([
      ['a missing file', async () => join(dir, 'absent.jpg'), /« absent\.jpg » : le fichier n'existe pas/],
      ['an empty file', async () => (writeFileSync(join(dir, 'vide.png'), ''), join(dir, 'vide.png')), /« vide\.png » : le fichier est vide/],
      ['a text file', async () => (writeFileSync(join(dir, 'notes.jpg'), 'bonjour'), join(dir, 'notes.jpg')), /« notes\.jpg » : le fichier n'est pas une image reconnue/],
      [
        'a truncated JPEG',
        async () => {
          const jpeg = await sharp(await garmentPhoto(300, 500)).jpeg().toBuffer();
          writeFileSync(join(dir, 'coupe.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
          return join(dir, 'coupe.jpg');
        },
        /« coupe\.jpg » : le fichier est abîmé ou incomplet/,
      ],
      [
        'an unsupported format (TIFF)',
        async () => (writeFileSync(join(dir, 'scan.tif'), await sharp(await garmentPhoto(30, 30)).tiff().toBuffer()), join(dir, 'scan.tif')),
        /« scan\.tif » : format « tiff » non pris en charge/,
      ],
    ])('rejects %s', async (_, make, message) => {
      await expect(preprocessPhoto(await make())).rejects.toThrow(message);
    });

    it('rejects an image above the pixel limit without decoding it', async () => {
      await expect(preprocessPhoto(await garmentPhoto(300, 500), { maxPixels: 100_000, name: 'grande.png' })).rejects.toThrow(
        /« grande\.png » : l'image est trop grande \(300 x 500 pixels/,
      );
    });
  });
});

/** A Python with Pillow: PILLOW_PYTHON, else the project's .venv (made on demand from pip's index). */
function pillowPython(): string | undefined {
  const candidates = [process.env.PILLOW_PYTHON];
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    candidates.push(require('../../../scripts/python-env').ensurePythonEnv({ pillow: 'PIL' }));
  } catch (error) {
    console.log(`Pillow comparison skipped: no Python with Pillow (${(error as Error).message}).`);
  }
  const hasPillow = (python: string) => {
    try {
      execFileSync(python, ['-c', 'import PIL'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  return candidates.find((python): python is string => Boolean(python) && hasPillow(python as string));
}

describe('exactness against Pillow (the course code)', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  it('matches Pillow pixel for pixel on varied images and formats', async () => {
    const python = pillowPython();
    if (!python) return;
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const files: string[] = [];
    for (let i = 0; i < 24; i++) {
      const width = 1 + Math.floor(random() * 400);
      const height = 1 + Math.floor(random() * 400);
      const channels = ([1, 3, 4] as const)[i % 3];
      const data = Buffer.alloc(width * height * channels);
      for (let p = 0; p < data.length; p++) data[p] = i % 2 ? Math.floor(random() * 256) : Math.floor(127 + 120 * Math.sin(p / 97));
      const format = ['png', 'jpg', 'webp', 'gif'][i % 4];
      const file = join(dir, `random-${i}.${format}`);
      const image = sharp(data, { raw: { width, height, channels } });
      await (format === 'jpg' ? image.jpeg() : format === 'webp' ? image.webp() : format === 'gif' ? image.gif() : image.png()).toFile(file);
      files.push(file);
    }
    const reference = execFileSync(python, [join(__dirname, 'pillow_reference.py'), ...files], { maxBuffer: 1 << 24 }).toString().trim().split('\n');
    for (let i = 0; i < files.length; i++) {
      const ours = await preprocessPhoto(files[i]);
      expect({ file: files[i], canvas: Array.from(ours.canvas) }).toEqual({ file: files[i], canvas: JSON.parse(reference[i]) });
    }
  });
});

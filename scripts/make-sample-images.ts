/**
 * `npm run images:samples` remakes the sample photos in images/: no photos can be downloaded here,
 * so each one is a Fashion-MNIST TEST item (never seen in training) rendered as a product photo:
 * a typical item of its class (closest to the class mean), upscaled 16x with Lanczos, inverted to a dark garment on white, tinted in colour, and placed on
 * a white canvas with a small margin (the course's preprocessing does not crop, so a photo must be framed tightly), saved in the formats students use (JPEG, PNG, WebP, transparent PNG).
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { FASHION_CLASSES } from '../lib/data/classes';
import { imageAt } from '../lib/data/images';
import { loadFashionMnist } from '../lib/data/fashion';
import { PROJECT_ROOT } from '../lib/paths';

interface Sample {
  file: string;
  label: number;
  tint: [number, number, number];
  canvas: [number, number];
  transparent?: boolean;
}

const SAMPLES: Sample[] = [
  { file: 'pantalon.jpg', label: 1, tint: [40, 55, 90], canvas: [470, 520] },
  { file: 'robe.png', label: 3, tint: [150, 30, 60], canvas: [480, 500] },
  { file: 'baskets.webp', label: 7, tint: [25, 25, 30], canvas: [520, 470] },
  { file: 'sac.jpg', label: 8, tint: [120, 80, 40], canvas: [500, 480] },
  { file: 'bottes.png', label: 9, tint: [70, 45, 30], canvas: [470, 470] },
  { file: 'pull-transparent.png', label: 2, tint: [30, 100, 60], canvas: [480, 480], transparent: true },
];

async function render(sample: Sample, pixels: Uint8Array): Promise<void> {
  const side = 28 * 16;
  const grey = await sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } })
    .resize(side, side, { kernel: 'lanczos3' })
    .extractChannel(0) // sharp would otherwise hand back 3 interleaved channels
    .raw()
    .toBuffer();
  // Garment intensity (bright in the data set) becomes coverage of the tint colour over white.
  const rgba = Buffer.alloc(side * side * 4);
  for (let i = 0; i < side * side; i++) {
    const coverage = Math.pow(grey[i] / 255, 0.6);
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(255 * (1 - coverage) + sample.tint[c] * coverage);
    rgba[i * 4 + 3] = sample.transparent ? Math.round(255 * Math.min(1, coverage * 1.5)) : 255;
  }
  const [width, height] = sample.canvas;
  const background = sample.transparent ? { r: 0, g: 0, b: 0, alpha: 0 } : { r: 255, g: 255, b: 255, alpha: 1 };
  const garment = await sharp(rgba, { raw: { width: side, height: side, channels: 4 } }).png().toBuffer();
  const photo = sharp({ create: { width, height, channels: 4, background } }).composite([{ input: garment, gravity: 'centre' }]);
  const target = join(PROJECT_ROOT, 'images', sample.file);
  if (sample.file.endsWith('.jpg')) await photo.flatten({ background: '#ffffff' }).jpeg({ quality: 88 }).toFile(target);
  else if (sample.file.endsWith('.webp')) await photo.webp({ quality: 85 }).toFile(target);
  else await photo.png().toFile(target);
  console.log(`images/${sample.file}: ${FASHION_CLASSES[sample.label]} (${width}x${height})`);
}

async function main(): Promise<void> {
  const test = loadFashionMnist('test');
  for (const sample of SAMPLES) {
    // A typical item: of the first 200 of the class, the closest to the class's mean image.
    const candidates = [...test.labels.keys()].filter((i) => test.labels[i] === sample.label).slice(0, 200);
    const mean = new Float64Array(784);
    for (const i of candidates) imageAt(test, i).forEach((v, p) => (mean[p] += v / candidates.length));
    const distance = (i: number) => imageAt(test, i).reduce((sum, v, p) => sum + (v - mean[p]) ** 2, 0);
    const index = candidates.reduce((best, i) => (distance(i) < distance(best) ? i : best));
    await render(sample, imageAt(test, index));
  }
}

void main();

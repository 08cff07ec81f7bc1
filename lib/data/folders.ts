/**
 * Image-folder data sets, as Keras' `image_dataset_from_directory`: one subfolder per class. The
 * train/validation/test split is decided per file from a hash of its path (so it never changes
 * between runs, and adding photos leaves the others where they were) and written to `split.json`;
 * images are decoded batch by batch, so a folder larger than memory still trains.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import sharp from 'sharp';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { writeFileAtomic } from '../io/atomic';

/** Extensions read as images. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.tif', '.tiff'];

/** One image of the folder and its class index. */
export interface FolderImage {
  /** Path relative to the data set's root, with `/` separators. */
  path: string;
  label: number;
}

/** Which part of the data set an image belongs to. */
export type SplitName = 'train' | 'validation' | 'test';

/** Fractions of the images kept for validation and test (the rest trains). */
export interface SplitFractions {
  validation: number;
  test: number;
}

/** A scanned image folder with its fixed split. */
export interface ImageFolderDataset {
  root: string;
  /** Subfolder names, sorted: class i is classNames[i]. */
  classNames: string[];
  /** Images per class, in class order. */
  counts: number[];
  splits: Record<SplitName, FolderImage[]>;
  /** Where the split was written. */
  splitFile: string;
  /** "N images trouvées dans K classes (...)", Keras' "Found N images belonging to K classes." in French. */
  summary: string;
}

/** Options of imageFolderDataset. */
export interface ImageFolderOptions extends Partial<SplitFractions> {
  /** Changes every file's draw; the same seed always gives the same split. Default 42. */
  seed?: number;
  /** Where to write the split. Default `<root>/split.json`. */
  splitFile?: string;
}

/** Lists the class subfolders and their images (sorted, so every machine sees the same order). */
export function scanImageFolder(root: string): { classNames: string[]; images: FolderImage[] } {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch (error) {
    throw new Error(`${root} : dossier d'images illisible (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Il faut un sous-dossier par classe.`);
  }
  const classNames = entries.filter((e) => !e.startsWith('.') && statSync(join(root, e)).isDirectory()).sort();
  if (classNames.length < 2) throw new Error(`${root} : ${classNames.length} sous-dossier de classe trouvé ; il en faut au moins deux (un par classe, contenant ses images).`);
  const images: FolderImage[] = [];
  const walk = (dir: string, label: number) => {
    for (const entry of readdirSync(dir).sort()) {
      if (entry.startsWith('.')) continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path, label);
      else if (IMAGE_EXTENSIONS.includes(extname(entry).toLowerCase())) images.push({ path: relative(root, path).split('\\').join('/'), label });
    }
  };
  classNames.forEach((name, label) => walk(join(root, name), label));
  return { classNames, images };
}

/** The split of one file: a uniform draw in [0, 1) from the hash of seed and path. */
export function splitOf(path: string, seed: number, fractions: SplitFractions): SplitName {
  const draw = createHash('sha256').update(`${seed}:${path}`).digest().readUInt32BE(0) / 2 ** 32;
  if (draw < fractions.test) return 'test';
  if (draw < fractions.test + fractions.validation) return 'validation';
  return 'train';
}

/** Scans `root`, splits it (default 70/20/10) the same way every run, and writes the split to disk. */
export function imageFolderDataset(root: string, options: ImageFolderOptions = {}): ImageFolderDataset {
  const fractions = { validation: options.validation ?? 0.2, test: options.test ?? 0.1 };
  if (!(fractions.validation >= 0 && fractions.test >= 0 && fractions.validation + fractions.test < 1)) {
    throw new Error(`fractions de validation (${fractions.validation}) et de test (${fractions.test}) impossibles : chacune >= 0, et leur somme < 1.`);
  }
  const seed = options.seed ?? 42;
  const { classNames, images } = scanImageFolder(root);
  const splits: Record<SplitName, FolderImage[]> = { train: [], validation: [], test: [] };
  for (const image of images) splits[splitOf(image.path, seed, fractions)].push(image);
  const counts = classNames.map((_, label) => images.filter((i) => i.label === label).length);
  const splitFile = options.splitFile ?? join(root, 'split.json');
  const record = { seed, fractions, classNames, splits: Object.fromEntries(Object.entries(splits).map(([name, list]) => [name, list.map((i) => i.path)])) };
  writeFileAtomic(splitFile, `${JSON.stringify(record, null, 1)}\n`);
  const summary = `${images.length} images trouvées dans ${classNames.length} classes (${classNames.map((c, i) => `${c} : ${counts[i]}`).join(', ')}) ; apprentissage ${splits.train.length}, validation ${splits.validation.length}, test ${splits.test.length}.`;
  return { root, classNames, counts, splits, splitFile, summary };
}

/** How images are decoded for the model. */
export interface DecodeFolderOptions {
  /** [height, width] after resizing (cover + centre crop, as Keras' `crop_to_aspect_ratio`). */
  size: [number, number];
  /** 1: grey levels, 3: RGB. */
  channels: 1 | 3;
}

/** Decodes one image to floats in [0, 1], resized to `size`. */
export async function decodeFolderImage(file: string, options: DecodeFolderOptions): Promise<Float32Array> {
  let pipeline = sharp(file, { animated: false }).resize(options.size[1], options.size[0], { fit: 'cover' }).removeAlpha();
  pipeline = options.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  let data: Buffer;
  try {
    data = await pipeline.raw().toBuffer();
  } catch (error) {
    throw new Error(`${file} : image illisible (${(error as Error).message}).`);
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] / 255;
  return out;
}

/** Batches of one split, decoded on demand: `{ xs: [n, h, w, c], ys: one-hot [n, classes] }`. */
export async function* folderBatches(
  tf: typeof tfTypes,
  dataset: ImageFolderDataset,
  split: SplitName,
  options: DecodeFolderOptions & { batchSize: number; shuffleSeed?: number },
): AsyncGenerator<{ xs: tfTypes.Tensor4D; ys: tfTypes.Tensor2D }> {
  const items = [...dataset.splits[split]];
  if (options.shuffleSeed !== undefined) {
    // Same order for the same seed: sort by a hash of seed and path.
    const key = (p: string) => createHash('sha256').update(`${options.shuffleSeed}:${p}`).digest('hex');
    items.sort((a, b) => (key(a.path) < key(b.path) ? -1 : 1));
  }
  const [height, width] = options.size;
  const pixels = height * width * options.channels;
  for (let start = 0; start < items.length; start += options.batchSize) {
    const batch = items.slice(start, start + options.batchSize);
    const xs = new Float32Array(batch.length * pixels);
    const decoded = await Promise.all(batch.map((item) => decodeFolderImage(join(dataset.root, item.path), options)));
    decoded.forEach((image, i) => xs.set(image, i * pixels));
    const ys = new Float32Array(batch.length * dataset.classNames.length);
    batch.forEach((item, i) => (ys[i * dataset.classNames.length + item.label] = 1));
    yield { xs: tf.tensor4d(xs, [batch.length, height, width, options.channels]), ys: tf.tensor2d(ys, [batch.length, dataset.classNames.length]) };
  }
}

/** A tf.data data set of one split for `model.fitDataset` (decoded batch by batch, never all in memory). */
export function folderTfDataset(tf: typeof tfTypes, dataset: ImageFolderDataset, split: SplitName, options: DecodeFolderOptions & { batchSize: number; shuffleSeed?: number }): tfTypes.data.Dataset<tfTypes.TensorContainer> {
  // Each epoch asks for a new iterator; a new generator re-reads the files.
  return tf.data.generator(() => folderBatches(tf, dataset, split, options) as unknown as Iterator<tfTypes.TensorContainer>);
}

/** Writes 28x28 grey images as PNG files, one subfolder per class (`<root>/<class>/<index>.png`); returns how many were written. */
export async function writeImageFolder(set: { count: number; labels: Uint8Array; pixels: Uint8Array }, root: string, classNames: readonly string[]): Promise<number> {
  // Every label is checked before the first file is written: a refused set leaves nothing half-written behind.
  for (let i = 0; i < set.count; i++) {
    if (classNames[set.labels[i]] === undefined) throw new Error(`Image ${i} : étiquette ${set.labels[i]} sans nom de classe (${classNames.length} noms donnés).`);
  }
  const side = 28;
  for (const name of classNames) mkdirSync(join(root, folderName(name)), { recursive: true });
  // A few hundred files at a time: thousands of pending writes would only queue up in sharp.
  const chunk = 256;
  for (let start = 0; start < set.count; start += chunk) {
    const writes: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(set.count, start + chunk); i++) {
      const pixels = set.pixels.subarray(i * side * side, (i + 1) * side * side);
      const file = join(root, folderName(classNames[set.labels[i]]), `${String(i).padStart(5, '0')}.png`);
      writes.push(sharp(Buffer.from(pixels), { raw: { width: side, height: side, channels: 1 } }).png().toFile(file));
    }
    await Promise.all(writes);
  }
  return set.count;
}

/** A class name as a portable folder name: no accents, spaces or apostrophes ("Un pantalon" -> "un_pantalon"). */
export function folderName(className: string): string {
  return className
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

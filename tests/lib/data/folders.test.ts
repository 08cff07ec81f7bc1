import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadNativeTf } from '../../../lib/backend';
import { decodeFolderImage, folderBatches, folderName, folderTfDataset, imageFolderDataset, scanImageFolder, splitOf, writeImageFolder } from '../../../lib/data/folders';
import { syntheticImages, temporaryFolder } from '../../helpers/fixtures';

const CLASSES = { chat: 12, chien: 9, oiseau: 6 };

async function writeFolder(root: string): Promise<void> {
  for (const [name, count] of Object.entries(CLASSES)) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < count; i++) {
      const value = 20 * Object.keys(CLASSES).indexOf(name) + i;
      await sharp({ create: { width: 40 + i, height: 30, channels: 3, background: { r: value, g: value, b: value } } }).png().toFile(join(root, name, `${name}-${i}.png`));
    }
  }
  writeFileSync(join(root, 'chat', 'notes.txt'), 'pas une image');
}

test('an image folder loads with the right counts, and its split is identical across runs and written to disk', async () => {
  const { dir, cleanup } = temporaryFolder();
  try {
    await writeFolder(dir);
    const first = imageFolderDataset(dir);
    expect(first.classNames).toEqual(['chat', 'chien', 'oiseau']);
    expect(first.counts).toEqual([12, 9, 6]);
    expect(first.summary).toMatch(/^27 images trouvées dans 3 classes \(chat : 12, chien : 9, oiseau : 6\)/);
    const all = [...first.splits.train, ...first.splits.validation, ...first.splits.test];
    expect(all).toHaveLength(27);
    expect(new Set(all.map((i) => i.path)).size).toBe(27);
    const written = JSON.parse(readFileSync(first.splitFile, 'utf8'));
    expect(written.splits.train).toEqual(first.splits.train.map((i) => i.path));
    // A second run, and a run after the split file is deleted, give the same split.
    expect(imageFolderDataset(dir).splits).toEqual(first.splits);
    rmSync(first.splitFile);
    expect(imageFolderDataset(dir).splits).toEqual(first.splits);
    // A new photo leaves every other one where it was.
    await sharp({ create: { width: 10, height: 10, channels: 3, background: '#fff' } }).png().toFile(join(dir, 'chien', 'nouveau.png'));
    const grown = imageFolderDataset(dir);
    for (const split of ['train', 'validation', 'test'] as const) {
      expect(grown.splits[split].filter((i) => i.path !== 'chien/nouveau.png')).toEqual(first.splits[split]);
    }
    expect(imageFolderDataset(dir, { seed: 7 }).splits).not.toEqual(grown.splits);
  } finally {
    cleanup();
  }
});

test('splitOf follows the fractions over many files', () => {
  const counts = { train: 0, validation: 0, test: 0 };
  for (let i = 0; i < 10_000; i++) counts[splitOf(`classe/${i}.png`, 42, { validation: 0.2, test: 0.1 })]++;
  expect(counts.test / 10_000).toBeCloseTo(0.1, 1);
  expect(counts.validation / 10_000).toBeCloseTo(0.2, 1);
});

test('batches are decoded on demand, resized, with one-hot labels', async () => {
  const { dir, cleanup } = temporaryFolder();
  try {
    await writeFolder(dir);
    const tf = loadNativeTf();
    const dataset = imageFolderDataset(dir, { validation: 0, test: 0 });
    const sizes: number[] = [];
    const labels: number[] = [];
    for await (const { xs, ys } of folderBatches(tf, dataset, 'train', { batchSize: 10, size: [16, 16], channels: 1 })) {
      expect(xs.shape.slice(1)).toEqual([16, 16, 1]);
      sizes.push(xs.shape[0]);
      labels.push(...(await ys.argMax(-1).data()));
      expect((await xs.max().data())[0]).toBeLessThanOrEqual(1);
      tf.dispose([xs, ys]);
    }
    expect(sizes).toEqual([10, 10, 7]);
    expect(labels.filter((l) => l === 0)).toHaveLength(12);
  } finally {
    cleanup();
  }
});

test('clear errors: a missing folder, a folder with one class', () => {
  const { dir, cleanup } = temporaryFolder();
  try {
    expect(() => scanImageFolder(join(dir, 'absent'))).toThrow(/absent : dossier d'images illisible \(ENOENT\)/);
    mkdirSync(join(dir, 'seule'));
    expect(() => scanImageFolder(dir)).toThrow(/1 sous-dossier de classe trouvé ; il en faut au moins deux/);
    expect(existsSync(join(dir, 'split.json'))).toBe(false);
  } finally {
    cleanup();
  }
});

test('folderTfDataset feeds model.fitDataset, epoch after epoch', async () => {
  const { dir, cleanup } = temporaryFolder();
  try {
    await writeFolder(dir);
    const tf = loadNativeTf();
    const dataset = imageFolderDataset(dir);
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [8, 8, 3] }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const history = await model.fitDataset(folderTfDataset(tf, dataset, 'train', { batchSize: 4, size: [8, 8], channels: 3, shuffleSeed: 1 }), { epochs: 2, verbose: 0 });
    expect(history.history.loss).toHaveLength(2);
    model.dispose();
  } finally {
    cleanup();
  }
});

test('a labelled image set exported to class folders reads back with the same labels and pixels', async () => {
  const { dir, cleanup } = temporaryFolder();
  try {
    const set = syntheticImages(30); // labels 0..9, three images each
    const names = ['Un T-shirt', 'Un pantalon', 'Un pull', 'Une robe', 'Un manteau', 'Une sandale', 'Une chemise', 'Une basket', 'Un sac', 'Des bottes de cheville'];
    expect(await writeImageFolder(set, dir, names)).toBe(30);
    expect(folderName("Des bottes de cheville")).toBe('des_bottes_de_cheville');
    expect(folderName('Élégant : été')).toBe('elegant_ete');
    const dataset = imageFolderDataset(dir, { validation: 0, test: 0 });
    expect(dataset.counts).toEqual(new Array(10).fill(3));
    const first = dataset.splits.train.find((image) => image.path === 'un_pantalon/00001.png');
    expect(first).toBeDefined();
    const pixels = await decodeFolderImage(join(dir, first!.path), { size: [28, 28], channels: 1 });
    expect(Array.from(pixels.subarray(0, 5)).map((v) => Math.round(v * 255))).toEqual(Array.from(set.pixels.subarray(784, 789)));
    const other = join(dir, 'refuse');
    await expect(writeImageFolder(set, other, names.slice(0, 5))).rejects.toThrow(/étiquette 5 sans nom de classe/);
    expect(existsSync(other)).toBe(false);
  } finally {
    cleanup();
  }
});

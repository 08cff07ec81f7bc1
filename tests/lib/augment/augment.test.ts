import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import {
  augmentBatch,
  augmentedDataset,
  COURSE_AUGMENTATION,
  flowBatches,
  IDENTITY_TRANSFORM,
  ImageFlow,
  planAugmentation,
  type AugmentedBatch,
  type BatchArrays,
  NumpyRandom,
  randomTransform,
  seededRandom,
  transformMatrix,
  warpImage,
  type AugmentationOptions,
  type TransformParameters,
} from '../../../lib/augment';
import { needsPython, needsTool, PYTHON_HOW } from '../../helpers/tools';

const tf = loadNativeTf();

/** No transformation at all: augmentBatch and flows then only copy. */
const NONE: AugmentationOptions = { rotationRange: 0, widthShiftRange: 0, heightShiftRange: 0, shearRange: 0, zoomRange: 0 };
/** Ranges wider than the course's, so that every term of the matrix and the edges matter. */
const WIDE: AugmentationOptions = { rotationRange: 40, widthShiftRange: 0.2, heightShiftRange: 0.2, shearRange: 20, zoomRange: 0.3 };

function warp(image: Float32Array, height: number, width: number, params: Partial<TransformParameters>): Float32Array {
  const out = new Float32Array(image.length);
  warpImage(image, 0, out, 0, height, width, transformMatrix({ ...IDENTITY_TRANSFORM, ...params }, height, width));
  return out;
}

function dot(side: number, row: number, col: number): Float32Array {
  const image = new Float32Array(side * side);
  image[row * side + col] = 1;
  return image;
}

/** [row, col] of the brightest pixel. */
function brightest(image: Float32Array, width: number): [number, number] {
  let best = 0;
  for (let i = 1; i < image.length; i++) if (image[i] > image[best]) best = i;
  return [Math.floor(best / width), best % width];
}

function randomImages(count: number, height: number, width: number, seed: number): Float32Array {
  const random = new NumpyRandom(seed);
  const images = new Float32Array(count * height * width);
  for (let i = 0; i < images.length; i++) images[i] = random.random();
  return images;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe("Keras' geometry (apply_affine_transform)", () => {
  it('leaves an image unchanged with identity parameters', () => {
    const image = randomImages(1, 7, 9, 1);
    expect(transformMatrix(IDENTITY_TRANSFORM, 7, 9)).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(Array.from(warp(image, 7, 9, {}))).toEqual(Array.from(image));
    expect(Array.from(augmentBatch(image, NONE, 1, [7, 9, 1]))).toEqual(Array.from(image));
  });

  it('shifts by whole pixels in the direction Keras does: tx > 0 moves the content left, ty > 0 moves it up', () => {
    expect(brightest(warp(dot(9, 4, 4), 9, 9, { tx: 2 }), 9)).toEqual([4, 2]);
    expect(brightest(warp(dot(9, 4, 4), 9, 9, { tx: -3 }), 9)).toEqual([4, 7]);
    expect(brightest(warp(dot(9, 4, 4), 9, 9, { ty: 1 }), 9)).toEqual([3, 4]);
    expect(brightest(warp(dot(9, 4, 4), 9, 9, { ty: -3 }), 9)).toEqual([7, 4]);
    // A whole-pixel shift moves values exactly, no blur.
    expect(Math.max(...warp(dot(9, 4, 4), 9, 9, { tx: 2, ty: -3 }))).toBe(1);
  });

  it('rotates counter-clockwise for a positive angle (as np.rot90)', () => {
    const side = 5;
    // An asymmetric "L": a vertical bar in column 1 and a foot to its right on the last row.
    const image = new Float32Array(side * side);
    for (let r = 0; r < side; r++) image[r * side + 1] = 1;
    image[4 * side + 2] = 0.5;
    image[4 * side + 3] = 0.25;
    const rotated = warp(image, side, side, { theta: 90 });
    const rot90 = Float32Array.from({ length: side * side }, (_, i) => image[(i % side) * side + (side - 1 - Math.floor(i / side))]);
    expect(maxAbsDiff(rotated, rot90)).toBeLessThan(1e-6);
    // The top of the image goes to the left side.
    expect(brightest(warp(dot(side, 0, 2), side, side, { theta: 90 }), side)).toEqual([2, 0]);
  });

  it('zooms OUT for factors above 1, zx along columns and zy along rows (after the axis swap)', () => {
    const side = 28;
    const square = new Float32Array(side * side);
    for (let r = 9; r < 19; r++) for (let c = 9; c < 19; c++) square[r * side + c] = 1;
    // The content's width and height: sums across the middle row and down the middle column.
    const size = (image: Float32Array) => ({
      width: image.subarray(14 * side, 15 * side).reduce((a, b) => a + b, 0),
      height: image.filter((_, i) => i % side === 14).reduce((a, b) => a + b, 0),
    });
    expect(size(square)).toEqual({ width: 10, height: 10 });
    const both = size(warp(square, side, side, { zx: 2, zy: 2 }));
    expect(both.width).toBeCloseTo(5, 0);
    expect(both.height).toBeCloseTo(5, 0);
    const columns = size(warp(square, side, side, { zx: 2 }));
    expect(columns.width).toBeCloseTo(5, 0);
    expect(columns.height).toBe(10);
    const rows = size(warp(square, side, side, { zy: 0.5 }));
    expect(rows.width).toBe(10);
    expect(rows.height).toBeCloseTo(20, 0);
  });

  it('takes the shear in degrees: the course\'s 0.3 is a tiny shear', () => {
    const m = transformMatrix({ ...IDENTITY_TRANSFORM, shear: 0.3 }, 28, 28);
    expect(m[1][0]).toBeCloseTo(-Math.sin((0.3 * Math.PI) / 180), 12);
    expect(Math.abs(m[1][0]) * 28).toBeLessThan(0.15);
  });

  it("fills with the nearest edge pixel ('nearest')", () => {
    const side = 5;
    const lastColumn = Float32Array.from({ length: side * side }, (_, i) => (i % side === side - 1 ? 1 : 0));
    const shifted = warp(lastColumn, side, side, { tx: 2 });
    for (let r = 0; r < side; r++) expect(Array.from(shifted.subarray(r * side, (r + 1) * side))).toEqual([0, 0, 1, 1, 1]);
    // Far outside: the corner value, whatever the distance.
    const corner = dot(side, 0, 0);
    expect(warp(corner, side, side, { tx: -30, ty: -30 })).toEqual(new Float32Array(side * side).fill(1));
  });

  it('transforms every channel the same way', () => {
    const [h, w] = [6, 8];
    const grey = randomImages(1, h, w, 4);
    const rgb = Float32Array.from({ length: h * w * 3 }, (_, i) => grey[Math.floor(i / 3)] * (1 + (i % 3)));
    const m = transformMatrix(randomTransform(WIDE, new NumpyRandom(8), h, w), h, w);
    const outGrey = new Float32Array(h * w);
    const outRgb = new Float32Array(h * w * 3);
    warpImage(grey, 0, outGrey, 0, h, w, m);
    warpImage(rgb, 0, outRgb, 0, h, w, m, 3);
    for (let c = 0; c < 3; c++) expect(maxAbsDiff(outRgb.filter((_, i) => i % 3 === c), outGrey.map((v) => v * (1 + c)))).toBeLessThan(1e-5);
  });
});

describe("Keras' random parameters (get_random_transform)", () => {
  it('draws NumPy\'s numbers: np.random.seed(5); np.random.random_sample() == 0.22199317108973948', () => {
    expect(seededRandom(5)()).toBe(0.22199317108973948);
  });

  it('stays within the course ranges, in Keras units (degrees, pixels), and covers them', () => {
    const random = new NumpyRandom(3);
    const draws = Array.from({ length: 5000 }, () => randomTransform(COURSE_AUGMENTATION, random));
    const span = (key: keyof TransformParameters) => [Math.min(...draws.map((p) => p[key])), Math.max(...draws.map((p) => p[key]))];
    const within = (key: keyof TransformParameters, low: number, high: number) => {
      const [min, max] = span(key);
      expect(min).toBeGreaterThanOrEqual(low);
      expect(max).toBeLessThanOrEqual(high);
      // 5000 uniform draws come within 0.2 % of the ends.
      expect(min - low).toBeLessThan((high - low) * 0.002);
      expect(high - max).toBeLessThan((high - low) * 0.002);
    };
    within('theta', -8, 8);
    within('tx', -0.08 * 28, 0.08 * 28);
    within('ty', -0.08 * 28, 0.08 * 28);
    within('shear', -0.3, 0.3);
    within('zx', 0.92, 1.08);
    within('zy', 0.92, 1.08);
    // zx and zy are drawn independently.
    expect(draws.filter((p) => p.zx > 1 !== p.zy > 1).length / draws.length).toBeGreaterThan(0.45);
  });

  it('follows Keras for integer and list shift ranges (whole pixels, random sign)', () => {
    const random = new NumpyRandom(9);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const p = randomTransform({ ...NONE, widthShiftRange: 3, heightShiftRange: [0.25, 0.5] }, random, 20, 28);
      seen.add(p.ty);
      expect([-5, -10, 5, 10]).toContain(p.tx);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
  });

  it('draws a batch\'s doubles in one call (the course\'s settings) with the very numbers and plan of one draw at a time', () => {
    const bulk = new NumpyRandom(11);
    const oneByOne = new NumpyRandom(11);
    const doubles = new Float64Array(1500);
    bulk.randomInto(doubles);
    expect(Array.from(doubles)).toEqual(Array.from({ length: 1500 }, () => oneByOne.random()));
    // A function source draws one number at a time: planAugmentation then goes parameter by parameter
    // (fractional shifts only: a function source draws whole pixels its own way, not NumPy's).
    const size = 28 * 28;
    const source = randomImages(8, 28, 28, 4);
    for (const options of [COURSE_AUGMENTATION, { ...NONE, zoomRange: 0.1 }, { ...NONE, rotationRange: 5, widthShiftRange: 2.5 }, NONE]) {
      const [fast, slow] = [new NumpyRandom(4), new NumpyRandom(4)];
      const [a, b] = [new Float32Array(8 * size), new Float32Array(8 * size)];
      const offsets = [7, 0, 3, 3, 5, 1, 6, 2].map((image) => image * size);
      const planned = planAugmentation(source, offsets, a, 28, 28, 1, options, fast);
      const reference = planAugmentation(source, offsets, b, 28, 28, 1, options, slow.random);
      expect(Array.from(planned.matrices)).toEqual(Array.from(reference.matrices));
      expect(Array.from(planned.warpFrom)).toEqual(Array.from(reference.warpFrom));
      expect(Array.from(planned.warpTo)).toEqual(Array.from(reference.warpTo));
      expect(a.every((v, k) => Object.is(v, b[k]))).toBe(true);
      expect(fast.random()).toBe(slow.random());
    }
  });

  it('refuses what Keras or this port does not do', () => {
    expect(() => augmentBatch(new Float32Array(784), { ...COURSE_AUGMENTATION, fillMode: 'reflect' as 'nearest' })).toThrow(/nearest/);
    expect(() => augmentBatch(new Float32Array(784), { ...COURSE_AUGMENTATION, zoomRange: [1] as unknown as number })).toThrow(/zoomRange/);
    expect(() => augmentBatch(new Float32Array(783))).toThrow(/whole/);
  });
});

describe('augmentBatch', () => {
  it('augments an epoch of 48 000 images well within the 5 s budget (about 0.6 s on the 2-core machines)', () => {
    const images = randomImages(48000, 28, 28, 12);
    const started = performance.now();
    const out = augmentBatch(images, COURSE_AUGMENTATION, 1);
    const seconds = (performance.now() - started) / 1000;
    console.log(`augmentBatch: 48 000 images in ${seconds.toFixed(2)} s (${Math.round(48000 / seconds)} images/s)`);
    expect(out).toHaveLength(images.length);
    expect(seconds).toBeLessThan(5);
  });

  it('is reproducible with a seed and differs between seeds, on tensors and arrays alike', () => {
    const images = tf.tensor4d(randomImages(4, 28, 28, 2), [4, 28, 28, 1]);
    const before = tf.memory().numTensors;
    const a = augmentBatch(images, COURSE_AUGMENTATION, 5);
    const b = augmentBatch(images, COURSE_AUGMENTATION, 5);
    const c = augmentBatch(images, COURSE_AUGMENTATION, 6);
    expect(a.shape).toEqual([4, 28, 28, 1]);
    expect(tf.memory().numTensors).toBe(before + 3);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    expect(Array.from(augmentBatch(images.dataSync() as Float32Array, COURSE_AUGMENTATION, new NumpyRandom(5)))).toEqual(Array.from(a.dataSync()));
    tf.dispose([images, a, b, c]);
  });
});

describe('flows (ImageDataGenerator.flow)', () => {
  const labelsOf = (ys: tfTypes.Tensor) => {
    const rows = ys.arraySync() as number[][];
    return rows.map((row) => row.indexOf(1));
  };
  let xs: tfTypes.Tensor4D;
  let ys: tfTypes.Tensor2D;
  beforeAll(() => {
    xs = tf.tensor4d(randomImages(10, 28, 28, 3), [10, 28, 28, 1]);
    ys = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'int32'), 10).toFloat()) as tfTypes.Tensor2D;
  });
  afterAll(() => tf.dispose([xs, ys]));

  it('cuts each new permutation into ceil(n / batch) batches, the last one smaller', () => {
    const flow = new ImageFlow(xs, ys, { batchSize: 4, seed: 1 });
    expect(flow.batchesPerPass).toBe(3);
    const batches = flow.arrays();
    const passes = [0, 1].map(() => [0, 1, 2].map(() => Array.from(batches.next().value!.indices)));
    for (const pass of passes) {
      expect(pass.map((b) => b.length)).toEqual([4, 4, 2]);
      expect(pass.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    expect(passes[0].flat()).not.toEqual(passes[1].flat());
    expect(flow.totalBatchesSeen).toBe(6);
  });

  it('keeps the order without shuffle, and starts a new permutation every batchesPerEpoch batches if asked', () => {
    const inOrder = new ImageFlow(xs, ys, { batchSize: 4, shuffle: false, augmentation: null }).arrays();
    expect([0, 1, 2, 3].map(() => Array.from(inOrder.next().value!.indices))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [0, 1, 2, 3]]);
    const epochs = new ImageFlow(xs, ys, { batchSize: 4, seed: 1, batchesPerEpoch: 2 }).arrays();
    const drawn = [0, 1, 2, 3, 4, 5].map(() => Array.from(epochs.next().value!.indices));
    expect(drawn.map((b) => b.length)).toEqual([4, 4, 4, 4, 4, 4]);
    for (let e = 0; e < 3; e++) expect(new Set([...drawn[2 * e], ...drawn[2 * e + 1]]).size).toBe(8);
  });

  it('pairs each image with its own label, and passes images through untouched without augmentation', () => {
    const plain = flowBatches(xs, ys, { batchSize: 4, seed: 2, augmentation: null });
    const all = xs.arraySync();
    for (let b = 0; b < 3; b++) {
      const { xs: bx, ys: by } = plain.next().value!;
      labelsOf(by).forEach((label, k) => expect((bx.arraySync() as number[][][][])[k]).toEqual(all[label]));
      tf.dispose([bx, by]);
    }
  });

  it('gives the same batches for the same seed; each new dataset iterator starts a new permutation on the same stream', async () => {
    const take = async (iterator: { next(): Promise<IteratorResult<{ xs: tfTypes.Tensor; ys: tfTypes.Tensor }>> }, n: number) => {
      const out: { labels: number[]; pixels: Float32Array }[] = [];
      for (let i = 0; i < n; i++) {
        const { value } = await iterator.next();
        out.push({ labels: labelsOf(value.ys), pixels: value.xs.dataSync() as Float32Array });
        tf.dispose([value.xs, value.ys]);
      }
      return out;
    };
    const one = augmentedDataset(xs, ys, { batchSize: 4, seed: 7 });
    const two = augmentedDataset(xs, ys, { batchSize: 4, seed: 7 });
    const first = await take(await one.iterator(), 2);
    expect(await take(await two.iterator(), 2)).toEqual(first);
    // A second iterator: back to a first batch of 4, but not the same images or transformations.
    const again = await take(await one.iterator(), 1);
    expect(again[0].labels).toHaveLength(4);
    expect(again[0].pixels).not.toEqual(first[0].pixels);
  });

  it('prefetches the very batches of arrays(): a batch drawn ahead by a dropped iterator is taken back, interleaved iterators draw in call order', async () => {
    const prefetched = new ImageFlow(xs, ys, { batchSize: 4, seed: 7 });
    const plain = new ImageFlow(xs, ys, { batchSize: 4, seed: 7 });
    const seen: { indices: number[]; images: Float32Array }[][] = [[], []];
    const take = async (side: 0 | 1, iterator: Iterator<BatchArrays> | AsyncIterator<BatchArrays>) => {
      const { value } = await iterator.next();
      seen[side].push({ indices: Array.from(value!.indices), images: value!.images });
    };
    const [a, sa] = [prefetched.prefetchedArrays(), plain.arrays()];
    for (let i = 0; i < 2; i++) await Promise.all([take(0, a), take(1, sa)]);
    // `a` is dropped with a batch drawn ahead; `b` crosses into a second permutation.
    const [b, sb] = [prefetched.prefetchedArrays(), plain.arrays()];
    for (let i = 0; i < 3; i++) await Promise.all([take(0, b), take(1, sb)]);
    const [c, sc] = [prefetched.prefetchedArrays(), plain.arrays()];
    for (const [mine, theirs] of [[c, sc], [b, sb], [c, sc], [b, sb], [b, sb], [c, sc]] as const) await Promise.all([take(0, mine), take(1, theirs)]);
    expect(seen[0].map((batch) => batch.indices)).toEqual(seen[1].map((batch) => batch.indices));
    seen[0].forEach((batch, i) => expect(batch.images.every((v, k) => Object.is(v, seen[1][i].images[k]))).toBe(true));
    // Not trivially equal: real transformations, and the batches differ from each other.
    expect(seen[0][0].images).not.toEqual(xs.dataSync().slice(0, seen[0][0].images.length));
    expect(new Set(seen[0].map((batch) => batch.indices.join())).size).toBeGreaterThan(5);
    // The batch drawn ahead is not counted as seen.
    expect(prefetched.totalBatchesSeen).toBe(plain.totalBatchesSeen);
  });

  it('hands over tensors that keep their pixels while the next batches reuse the arrays they were drawn into', async () => {
    const pooled = new ImageFlow(xs, ys, { batchSize: 4, seed: 9 });
    const plain = new ImageFlow(xs, ys, { batchSize: 4, seed: 9 });
    const [b, c] = [pooled.prefetchedBatches(), pooled.prefetchedBatches()];
    const [rb, rc] = [plain.arrays(), plain.arrays()];
    const held: AugmentedBatch[] = [];
    const expected: BatchArrays[] = [];
    // Interleaved: each switch takes back a batch drawn ahead, and redraws it into a reused array.
    for (const [iterator, reference] of [[b, rb], [b, rb], [b, rb], [c, rc], [b, rb], [c, rc], [c, rc], [b, rb], [c, rc]] as const) {
      held.push((await iterator.next()).value!);
      expected.push(reference.next().value!);
    }
    // Read only now, once every array has been written again several times.
    held.forEach((batch, i) => {
      expect(batch.xs.shape[0]).toBe(expected[i].indices.length);
      expect((batch.xs.dataSync() as Float32Array).every((v, k) => Object.is(v, expected[i].images[k]))).toBe(true);
      expect(Array.from(batch.ys.dataSync())).toEqual(Array.from(expected[i].targets));
    });
    expect(new Set(held.map((batch) => batch.xs.shape[0]))).toEqual(new Set([4, 2]));
    tf.dispose(held.flatMap((batch) => [batch.xs, batch.ys]));
  });

  it('leaks no tensor over epochs of fitDataset with augmented training and validation data', async () => {
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    model.compile({ optimizer: tf.train.adam(), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const train = augmentedDataset(xs, ys, { batchSize: 4, seed: 1 });
    const validation = augmentedDataset(xs, ys, { batchSize: 4, seed: 2 });
    const fit = (epochs: number) => model.fitDataset(train, { epochs, batchesPerEpoch: 2, validationData: validation, validationBatches: 2, verbose: 0 });
    // The first epoch makes the optimizer's slots: count after it.
    await fit(1);
    const before = tf.memory().numTensors;
    const history = await fit(5);
    expect(history.history.loss).toHaveLength(5);
    expect(history.history.val_loss).toHaveLength(5);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

/** A Python with NumPy and SciPy: $KERAS_PYTHON, else .venv/ (npm run setup:python), else python3. */
const scipy = needsPython(['numpy', 'scipy.ndimage'], 'KERAS_PYTHON');

/** Whether that Python has Keras' sources where keras_reference.py reads them (keras/src/legacy/preprocessing/image.py). */
function hasKerasSources(python: string): boolean {
  const probe = 'import importlib.util, os, sys\ns = importlib.util.find_spec("keras")\nsys.exit(0 if s and s.submodule_search_locations and os.path.exists(os.path.join(list(s.submodule_search_locations)[0], "src", "legacy", "preprocessing", "image.py")) else 1)';
  return spawnSync(python, ['-c', probe], { stdio: 'ignore', timeout: 60_000 }).status === 0;
}

interface ReferenceAnswer {
  reference: string;
  results: unknown[];
}

scipy.describe('agreement with Keras + SciPy (needs a Python with NumPy and SciPy; Keras sources for the random streams)', () => {
  const python = scipy.python!;
  // Skipped along with the block when there is no such Python at all (one message is enough).
  const kerasSources = scipy.found ? needsTool(hasKerasSources(python), `Keras' sources in ${python}`, `${PYTHON_HOW}, or \`pip install --no-deps keras\` in that Python`) : scipy;
  const optionsForPython = (o: AugmentationOptions) => ({ ...o, fillMode: undefined, seed: undefined });
  const applyImages: number[][][] = [];
  const applyParams: TransformParameters[] = [];
  const shapes: [number, number][] = [];
  const random = new NumpyRandom(11);
  for (let k = 0; k < 16; k++) {
    // Mostly 28x28, a few non-square images too: Keras' centre quirk then shows.
    const [h, w] = k < 12 ? [28, 28] : [20, 32];
    shapes.push([h, w]);
    const pixels = randomImages(1, h, w, 100 + k);
    applyImages.push(Array.from({ length: h }, (_, r) => Array.from(pixels.subarray(r * w, (r + 1) * w))));
    applyParams.push(randomTransform(k % 2 ? COURSE_AUGMENTATION : WIDE, random, h, w));
  }
  const flowPixels = randomImages(10, 28, 28, 21);
  const tasks = [
    { mode: 'apply', images: applyImages, params: applyParams },
    { mode: 'params', options: optionsForPython(COURSE_AUGMENTATION), shape: [28, 28, 1], seed: 42, count: 300 },
    { mode: 'params', options: { ...NONE, rotationRange: 10, widthShiftRange: 3, heightShiftRange: [1, 2, 4], zoomRange: [0.8, 1.3] }, shape: [20, 28, 1], seed: 3, count: 300 },
    {
      mode: 'flow',
      options: optionsForPython(COURSE_AUGMENTATION),
      images: Array.from({ length: 10 }, (_, n) => Array.from({ length: 28 }, (_, r) => Array.from(flowPixels.subarray(n * 784 + r * 28, n * 784 + r * 28 + 28)))),
      batch_size: 4,
      seed: 5,
      batches: 5,
    },
  ];
  let answer: ReferenceAnswer | undefined;
  beforeAll(() => {
    const run = spawnSync(python, [join(__dirname, 'keras_reference.py')], { input: JSON.stringify({ tasks }), maxBuffer: 1 << 26, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`keras_reference.py failed: ${run.stderr}`);
    answer = JSON.parse(run.stdout) as ReferenceAnswer;
    console.log(`Reference: ${answer.reference}`);
  });

  it('resamples as apply_affine_transform for the same parameters (max abs diff < 1e-6 on [0, 1] images)', () => {
    const reference = answer!.results[0] as number[][][];
    let worst = 0;
    applyImages.forEach((image, k) => {
      const [h, w] = shapes[k];
      worst = Math.max(worst, maxAbsDiff(warp(Float32Array.from(image.flat()), h, w, applyParams[k]), reference[k].flat()));
    });
    console.log(`apply_affine_transform: max |ours - reference| = ${worst.toExponential(2)} over ${applyImages.length} images`);
    expect(worst).toBeLessThan(1e-6);
  });

  kerasSources.it('draws exactly the parameters of get_random_transform after np.random.seed', () => {
    expect(answer!.reference).toMatch(/^keras /);
    expect(answer!.results[1]).not.toBeNull();
    const check = (taskIndex: number, options: AugmentationOptions, height: number, width: number) => {
      const task = tasks[taskIndex] as { seed: number; count: number };
      const reference = answer!.results[taskIndex] as TransformParameters[];
      const random = new NumpyRandom(task.seed);
      const ours = Array.from({ length: task.count }, () => randomTransform(options, random, height, width));
      let worst = 0;
      ours.forEach((p, i) => (Object.keys(p) as (keyof TransformParameters)[]).forEach((key) => (worst = Math.max(worst, Math.abs(p[key] - reference[i][key])))));
      expect(worst).toBeLessThan(1e-12);
    };
    check(1, COURSE_AUGMENTATION, 28, 28);
    check(2, { ...NONE, rotationRange: 10, widthShiftRange: 3, heightShiftRange: [1, 2, 4], zoomRange: [0.8, 1.3] }, 20, 28);
  });

  kerasSources.it('yields the batches of flow(x, y, batch_size) after np.random.seed: same images in the same order, same pixels', () => {
    expect(answer!.results[3]).not.toBeNull();
    const reference = answer!.results[3] as { indices: number[]; images: number[][][] }[];
    expect(reference).toHaveLength(5);
    const labels = tf.tensor2d(Array.from({ length: 10 }, (_, i) => [i]));
    const images = tf.tensor4d(flowPixels, [10, 28, 28, 1]);
    const batches = new ImageFlow(images, labels, { batchSize: 4, seed: 5, augmentation: COURSE_AUGMENTATION }).arrays();
    let worst = 0;
    for (const expected of reference) {
      const { indices, images: pixels, targets } = batches.next().value!;
      expect(Array.from(indices)).toEqual(expected.indices);
      expect(Array.from(targets)).toEqual(expected.indices);
      worst = Math.max(worst, maxAbsDiff(pixels, expected.images.flat(2)));
    }
    console.log(`flow: ${reference.length} batches, max |ours - Keras| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-6);
    tf.dispose([labels, images]);
  });
});

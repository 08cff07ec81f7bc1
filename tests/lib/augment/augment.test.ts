import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadNativeTf } from '../../../lib/backend';
import { affineMatrix, augmentBatch, augmentedDataset, COURSE_AUGMENTATION, randomTransform, seededRandom, warpImage, type TransformParameters } from '../../../lib/augment';

const IDENTITY: TransformParameters = { theta: 0, tx: 0, ty: 0, shear: 0, zx: 1, zy: 1 };

function warp(image: Float32Array, side: number, params: TransformParameters): Float32Array {
  const out = new Float32Array(image.length);
  warpImage(image, 0, out, 0, side, side, affineMatrix({ ...IDENTITY, ...params }, side, side));
  return out;
}

function dot(side: number, row: number, col: number): Float32Array {
  const image = new Float32Array(side * side);
  image[row * side + col] = 1;
  return image;
}

const brightest = (image: Float32Array, side: number) => {
  const index = image.indexOf(Math.max(...image));
  return [Math.floor(index / side), index % side];
};

describe('augmentation (Keras ImageDataGenerator semantics)', () => {
  it('leaves an image unchanged with identity parameters', () => {
    const image = Float32Array.from({ length: 49 }, (_, i) => i / 49);
    expect(Array.from(warp(image, 7, IDENTITY))).toEqual(Array.from(image));
  });

  it("shifts by whole pixels: after Keras' axis swap, tx moves columns and ty rows", () => {
    expect(brightest(warp(dot(9, 4, 4), 9, { ...IDENTITY, tx: 2 }), 9)).toEqual([4, 2]);
    expect(brightest(warp(dot(9, 4, 4), 9, { ...IDENTITY, ty: -3 }), 9)).toEqual([7, 4]);
  });

  it('replicates edge pixels where the image is shifted away', () => {
    const image = Float32Array.from({ length: 25 }, (_, i) => (i % 5 === 4 ? 1 : 0));
    const shifted = warp(image, 5, { ...IDENTITY, tx: 2 });
    expect(shifted[4]).toBe(1);
    expect(shifted[3]).toBe(1);
  });

  it('draws parameters within the course ranges, in Keras units (degrees, pixels)', () => {
    const random = seededRandom(3);
    for (let i = 0; i < 2000; i++) {
      const p = randomTransform(COURSE_AUGMENTATION, random);
      expect(Math.abs(p.theta)).toBeLessThanOrEqual(8);
      expect(Math.abs(p.tx)).toBeLessThanOrEqual(0.08 * 28);
      expect(Math.abs(p.ty)).toBeLessThanOrEqual(0.08 * 28);
      expect(Math.abs(p.shear)).toBeLessThanOrEqual(0.3);
      expect(p.zx).toBeGreaterThanOrEqual(0.92);
      expect(p.zy).toBeLessThanOrEqual(1.08);
    }
  });

  it('augments a batch reproducibly with a seed', () => {
    const tf = loadNativeTf();
    const images = tf.randomUniform([4, 28, 28, 1]);
    const a = augmentBatch(images, COURSE_AUGMENTATION, 5);
    const b = augmentBatch(images, COURSE_AUGMENTATION, 5);
    const c = augmentBatch(images, COURSE_AUGMENTATION, 6);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    expect(a.shape).toEqual([4, 28, 28, 1]);
    tf.dispose([images, a, b, c]);
  });

  it('flows shuffled augmented batches like Keras (last batch smaller) without leaking tensors', async () => {
    const tf = loadNativeTf();
    const xs = tf.randomUniform([10, 28, 28, 1]);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'int32'), 10).toFloat();
    const before = tf.memory().numTensors;
    const iterator = await augmentedDataset(xs, ys, { batchSize: 4, seed: 1 }).iterator();
    const sizes: number[] = [];
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { value } = await iterator.next();
      sizes.push(value.xs.shape[0]);
      if (i < 3) {
        const oneHot = value.ys.dataSync();
        for (let row = 0; row < value.ys.shape[0]; row++) seen.push(oneHot.subarray(row * 10, row * 10 + 10).indexOf(1));
      }
      tf.dispose([value.xs, value.ys]);
    }
    expect(sizes).toEqual([4, 4, 2, 4, 4, 2]);
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xs, ys]);
  });
});

/** A Python with SciPy and Keras' sources (keras is installed without its dependencies: only its code is read). */
function kerasReferencePython(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const python: string = require('../../../scripts/python-env').ensurePythonEnv({ scipy: 'scipy', numpy: 'numpy' });
    try {
      execFileSync(python, ['-c', "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('keras') else 1)"], { stdio: 'ignore' });
    } catch {
      execFileSync(python, ['-m', 'pip', 'install', '-q', '--no-deps', 'keras'], { stdio: 'ignore' });
    }
    return python;
  } catch (error) {
    console.log(`Keras comparison skipped: no Python with SciPy and Keras sources (${(error as Error).message}).`);
    return undefined;
  }
}

describe("agreement with Keras' apply_affine_transform", () => {
  it('gives the same images for the same parameters', () => {
    const python = kerasReferencePython();
    if (!python) return;
    const random = seededRandom(11);
    const images: number[][][] = [];
    const params: TransformParameters[] = [];
    for (let k = 0; k < 12; k++) {
      images.push(Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => Math.fround(random()))));
      // Ranges wider than the course's so every term of the matrix matters.
      params.push(randomTransform({ rotationRange: 40, widthShiftRange: 0.2, heightShiftRange: 0.2, shearRange: 20, zoomRange: 0.3 }, random));
    }
    const reference: number[][][] = JSON.parse(
      execFileSync(python, [join(__dirname, 'keras_reference.py')], { input: JSON.stringify({ images, params }), maxBuffer: 1 << 24 }).toString(),
    );
    let worst = 0;
    images.forEach((image, k) => {
      const ours = warp(Float32Array.from(image.flat()), 28, params[k]);
      reference[k].flat().forEach((value, i) => (worst = Math.max(worst, Math.abs(value - ours[i]))));
    });
    expect(worst).toBeLessThan(1e-5);
  });
});

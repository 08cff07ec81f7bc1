/**
 * How fast is the augmentation, and was plain JavaScript the right choice? Run with
 * `npx tsx tests/lib/augment/throughput.bench.ts [--fit]` (not part of jest: it takes seconds to minutes).
 *
 * 1. JavaScript (the library): one pass of 48 000 28x28 images through ImageFlow, with and without
 *    making the tensors.
 * 2. libtensorflow: the same transformations with its ImageProjectiveTransformV3 kernel (tfjs-node
 *    registers no kernel for tf.image.transform, so it is called as a raw op), matrices built in JS.
 * 3. With --fit: one epoch of the lab's 1-conv model with model.fit on plain tensors, against one
 *    epoch of fitDataset on the augmented flow (and its augmented validation), as the notebook does.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { augmentedDataset, COURSE_AUGMENTATION, ImageFlow, NumpyRandom, randomTransform, transformMatrix, type Matrix3 } from '../../../lib/augment';

const tf = loadNativeTf();
const N = 48000;
const VALIDATION = 12000;
const BATCH = 256;
const SIDE = 28;

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

function report(label: string, time: number, images = N): void {
  console.log(`${label.padEnd(58)} ${time.toFixed(3)} s  ${Math.round(images / time).toLocaleString('en').padStart(9)} images/s`);
}

/** Keras' (row, col) matrix as ImageProjectiveTransform's [a0 a1 a2 b0 b1 b2 c0 c1], which maps output (x = col, y = row) to input. */
function projective(m: Matrix3, out: Float32Array, at: number): void {
  out[at] = m[1][1];
  out[at + 1] = m[1][0];
  out[at + 2] = m[1][2];
  out[at + 3] = m[0][1];
  out[at + 4] = m[0][0];
  out[at + 5] = m[0][2];
  out[at + 6] = 0;
  out[at + 7] = 0;
}

interface NodeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_STRING: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: unknown[], inputs: tfTypes.Tensor[]): tfTypes.Tensor;
}

function nativeTransform(images: tfTypes.Tensor4D, transforms: tfTypes.Tensor2D): tfTypes.Tensor4D {
  const backend = tf.backend() as unknown as NodeBackend;
  const { binding } = backend;
  const attrs = [
    { name: 'dtype', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    { name: 'interpolation', type: binding.TF_ATTR_STRING, value: 'BILINEAR' },
    { name: 'fill_mode', type: binding.TF_ATTR_STRING, value: 'NEAREST' },
  ];
  return tf.tidy(() => backend.executeSingleOutput('ImageProjectiveTransformV3', attrs, [images, transforms, tf.tensor1d([SIDE, SIDE], 'int32'), tf.scalar(0)]) as tfTypes.Tensor4D);
}

async function main(): Promise<void> {
  const data = new Float32Array(N * SIDE * SIDE);
  const fill = new NumpyRandom(1);
  for (let i = 0; i < data.length; i++) data[i] = fill.random();
  const xs = tf.tensor4d(data, [N, SIDE, SIDE, 1]);
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: N }, (_, i) => i % 10), 'int32'), 10).toFloat() as tfTypes.Tensor2D;
  console.log(`tfjs-node ${tf.version['tfjs-node']}, backend ${tf.getBackend()}, ${N} images of ${SIDE}x${SIDE}, batches of ${BATCH}`);

  for (let run = 0; run < 2; run++) {
    const flow = new ImageFlow(xs, ys, { batchSize: BATCH, seed: 2 });
    let started = performance.now();
    const arrays = flow.arrays();
    for (let b = 0; b < flow.batchesPerPass; b++) arrays.next();
    report(`JS, arrays only (run ${run + 1})`, seconds(started));
    started = performance.now();
    const batches = flow.batches();
    for (let b = 0; b < flow.batchesPerPass; b++) tf.dispose(Object.values(batches.next().value as object));
    report(`JS, tensors {xs, ys} as fitDataset gets them (run ${run + 1})`, seconds(started));
  }

  for (let run = 0; run < 2; run++) {
    const random = new NumpyRandom(2);
    let matrices = 0;
    const started = performance.now();
    for (let start = 0; start < N; start += BATCH) {
      const n = Math.min(BATCH, N - start);
      const building = performance.now();
      const transforms = new Float32Array(n * 8);
      for (let k = 0; k < n; k++) projective(transformMatrix(randomTransform(COURSE_AUGMENTATION, random)), transforms, k * 8);
      matrices += seconds(building);
      tf.tidy(() => {
        const batch = tf.gather(xs, tf.range(start, start + n, 1, 'int32')) as tfTypes.Tensor4D;
        nativeTransform(batch, tf.tensor2d(transforms, [n, 8])).dataId;
      });
    }
    report(`libtensorflow ImageProjectiveTransformV3 (run ${run + 1})`, seconds(started));
    console.log(`  of which building the matrices in JS: ${matrices.toFixed(3)} s`);
  }

  // Do both agree? Same parameters, wider ranges so that edges matter.
  const wide = { rotationRange: 40, widthShiftRange: 0.2, heightShiftRange: 0.2, shearRange: 20, zoomRange: 0.3 };
  const flow = new ImageFlow(xs, ys, { batchSize: 512, seed: 3, augmentation: wide, shuffle: false });
  const ours = flow.arrays().next().value!.images;
  const random = new NumpyRandom(3);
  const transforms = new Float32Array(512 * 8);
  for (let k = 0; k < 512; k++) projective(transformMatrix(randomTransform(wide, random)), transforms, k * 8);
  const theirs = tf.tidy(() => nativeTransform(xs.slice([0, 0, 0, 0], [512, SIDE, SIDE, 1]), tf.tensor2d(transforms, [512, 8])).dataSync());
  let worst = 0;
  for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
  console.log(`max |JS - libtensorflow| over 512 images, wide ranges: ${worst.toExponential(2)}`);

  if (process.argv.includes('--fit')) await fitComparison(xs, ys);
  tf.dispose([xs, ys]);
}

async function fitComparison(xs: tfTypes.Tensor4D, ys: tfTypes.Tensor2D): Promise<void> {
  const { buildModel } = await import('../../../lib/models');
  const xv = xs.slice([0, 0, 0, 0], [VALIDATION, SIDE, SIDE, 1]);
  const yv = ys.slice([0, 0], [VALIDATION, 10]);
  for (let run = 0; run < 2; run++) {
    let model = buildModel('one-conv');
    let started = performance.now();
    await model.fit(xs, ys, { batchSize: BATCH, epochs: 1, validationData: [xv, yv], verbose: 0 });
    const plain = seconds(started);
    model.dispose();
    model = buildModel('one-conv');
    started = performance.now();
    await model.fitDataset(augmentedDataset(xs, ys, { batchSize: BATCH, seed: 1 }), {
      epochs: 1,
      batchesPerEpoch: Math.floor(N / BATCH),
      validationData: augmentedDataset(xv, yv, { batchSize: BATCH, seed: 2 }),
      validationBatches: Math.floor(VALIDATION / BATCH),
      verbose: 0,
    });
    const augmented = seconds(started);
    model.dispose();
    console.log(`1-conv epoch (run ${run + 1}): fit on tensors ${plain.toFixed(1)} s, fitDataset on augmented flow ${augmented.toFixed(1)} s, ratio ${(augmented / plain).toFixed(2)}`);
  }
  tf.dispose([xv, yv]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

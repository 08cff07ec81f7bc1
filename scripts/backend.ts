/** `npm run backend`: reports the TensorFlow backend and proves it computes and trains, or says what to fix; names this checkout's Jupyter kernels. */
import { join } from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { describeBackend, loadNativeTf } from '../lib/backend';
import { compiledWarpInstructions } from '../lib/kernels/compiled';
import { graphTrainingStatus } from '../lib/train/graph';
import { checkoutKernelName, checkoutKernelSpec, jupyterDataDir, KERNEL_NAME, projectKernelSpec, readKernelSpec, venvKernelsDir, type KernelSpec } from './setup/kernel';

/** One line on a registered kernel: its name, its kernel.json and whether it is this checkout's current one. */
function kernelLine(label: string, kernelsDir: string, name: string, expected: KernelSpec, missing: string): string {
  const file = join(kernelsDir, name, 'kernel.json');
  const found = readKernelSpec(kernelsDir, name);
  const state = !found ? `absent : ${missing}` : JSON.stringify(found) === JSON.stringify(expected) ? 'à jour' : 'différent de ce dossier : relancez `npm install` / `npm start`';
  return `${label}: ${name} -> ${file} (${state})`;
}

/** The kernels this checkout registers: its own in the user's Jupyter (npm install), the notebooks' `tslab` in .venv/ (npm start). */
export function kernelReport(): string[] {
  const kernels = join(jupyterDataDir().dir, 'kernels');
  return [
    kernelLine('noyau Jupyter de ce dossier', kernels, checkoutKernelName(), checkoutKernelSpec(), 'lancez `npm install`'),
    kernelLine('noyau de JupyterLab (npm start)', venvKernelsDir(), KERNEL_NAME, projectKernelSpec(), 'créé par `npm start`'),
  ];
}

async function main(): Promise<void> {
  const report = describeBackend();
  console.log(`backend: ${report.backend}`);
  console.log(`@tensorflow/tfjs-node: ${report.tfjsNodeVersion}`);
  console.log(`libtensorflow: ${report.tensorflowVersion}`);
  console.log(`route: ${report.route}${report.builtAt ? ` (${report.builtAt})` : ''}: ${report.why}`);
  console.log(`oneDNN: ${report.oneDnn ? 'on' : 'off'} (TF_ENABLE_ONEDNN_OPTS), threads: ${report.threads}`);
  console.log(`fused training kernels: ${report.fusedKernels.join(', ') || 'none'} (lib/kernels; ANALYSE_IMAGE_FUSED_KERNELS=0 turns them off)`);
  console.log(`compiled ops (first convolution + pooling + dropout in graph training): ${report.compiledOps === true ? `loaded, augmentation resampled with ${compiledWarpInstructions() === 'avx512' ? 'AVX-512' : 'portable code'}` : report.compiledOps} (lib/kernels/compiled; ANALYSE_IMAGE_COMPILED_OPS=0 turns them off)`);
  for (const line of kernelReport()) console.log(line);

  const tf = loadNativeTf();
  const conv = tf.tidy(() => tf.conv2d(tf.ones([1, 4, 4, 1]) as Tensor4D, tf.ones([2, 2, 1, 1]) as Tensor4D, 1, 'valid').dataSync());
  if (conv.length !== 9 || conv.some((v) => v !== 4)) throw new Error(`conv2d gave [${[...conv].join(', ')}] instead of nine 4s`);
  console.log('conv2d: ok');

  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const xs = tf.randomUniform([32, 28, 28, 1]);
  const ys = tf.oneHot(tf.randomUniform([32], 0, 10, 'int32'), 10).toFloat();
  const started = Date.now();
  const loss = Number(await model.trainOnBatch(xs, ys));
  if (!Number.isFinite(loss)) throw new Error(`the training step gave a loss of ${loss}`);
  const how = graphTrainingStatus(model) === 'graphe' ? 'one TensorFlow session run (lib/train/graph)' : `eager, ${graphTrainingStatus(model)}`;
  console.log(`training step: ok (loss ${loss.toFixed(3)}, ${Date.now() - started} ms, ${how}; ANALYSE_IMAGE_GRAPH_TRAINING=0 keeps it eager)`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});

/**
 * Child of `npm run bench:train`: the floor an epoch cannot go under on this machine, from the model's
 * multiply-adds and a float32 matmul measured now. Prints one JSON line.
 * Usage: tsx bench/floor.ts <one-conv|four-conv> <train images> <validation images>
 *
 * FLOPs per image: each Conv2D and Dense layer does 2 x outputs x (inputs per output) forward; training
 * adds the same again for the weights' gradient and, except for the first layer (no gradient to the
 * images), for the input's gradient. Everything else (bias, ReLU, pooling, dropout, batch norm, Adam)
 * is memory traffic, left out: the floor is the arithmetic alone at matmul speed.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../lib/backend';
import { buildModel, type ModelName } from '../lib/models';

/** Forward multiply-add FLOPs per image of each Conv2D / Dense layer, in order. */
function layerFlops(model: tfTypes.LayersModel): number[] {
  const flops: number[] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className !== 'Conv2D' && className !== 'Dense') continue;
    const output = layer.outputShape as number[];
    const outputs = output.slice(1).reduce((a, b) => a * b, 1);
    const kernel = layer.getWeights()[0].shape;
    // Inputs per output: kernel height x width x input channels (Conv2D), or input units (Dense).
    const fanIn = kernel.slice(0, -1).reduce((a, b) => a * b, 1);
    flops.push(2 * outputs * fanIn);
  }
  return flops;
}

/** The median GFLOP/s of a 2048 x 2048 float32 matmul, TensorFlow's own threads, measured now. */
function matmulGflops(tf: typeof tfTypes): number {
  const n = 2048;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const rates: number[] = [];
  for (let i = 0; i < 12; i++) {
    const started = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    const seconds = (performance.now() - started) / 1000;
    c.dispose();
    if (i >= 2) rates.push((2 * n ** 3) / seconds / 1e9);
  }
  rates.sort((x, y) => x - y);
  return rates[Math.floor(rates.length / 2)];
}

function main(): void {
  const [name, trainArg, validationArg] = process.argv.slice(2);
  const tf = loadNativeTf();
  const flops = layerFlops(buildModel(name as ModelName));
  const forward = flops.reduce((a, b) => a + b, 0);
  // Forward + weights' gradient for every layer, + input's gradient for all but the first.
  const training = 2 * forward + (forward - flops[0]);
  const epochFlops = training * Number(trainArg) + forward * Number(validationArg);
  const gflops = matmulGflops(tf);
  console.log(JSON.stringify({ model: name, forwardFlopsPerImage: forward, trainingFlopsPerImage: training, epochFlops, matmulGflops: gflops, floorSeconds: epochFlops / (gflops * 1e9) }));
}

main();

/**
 * Child script of kernels.test.ts: trains the four-conv architecture (dropout removed so both runs
 * compute the same function) for a few steps from seeded weights and prints the losses as JSON.
 * Run with the fused kernels, with ANALYSE_IMAGE_FUSED_KERNELS=0, and with the graph step
 * (ANALYSE_IMAGE_GRAPH_TRAINING=1; 0 keeps the eager kernels); `graph` says which trained.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { buildModel } from '../../../lib/models';
import { graphTrainingStatus } from '../../../lib/train/graph';

const tf = loadNativeTf();

async function modelWithoutDropout(): Promise<tfTypes.LayersModel> {
  const json = buildModel('four-conv').toJSON(null, false) as unknown as { config: { layers: { class_name: string; config: { rate?: number } }[] } };
  for (const layer of json.config.layers) if (layer.class_name === 'Dropout') layer.config.rate = 0;
  const model = await tf.models.modelFromJSON(json as never);
  model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

// Deterministic weights and data: a fixed linear congruential sequence, the same in both runs.
let state = 12345;
const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
const xs = tf.tensor4d(Float32Array.from({ length: 32 * 784 }, next), [32, 28, 28, 1]);
const ys = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 10), 'int32'), 10).toFloat();

(async () => {
  const model = await modelWithoutDropout();
  // Trainable weights drawn from the sequence; the moving statistics keep their initial 0 and 1.
  const current = model.getWeights();
  model.setWeights(model.weights.map((w, i) => (w.trainable ? tf.tensor(Float32Array.from({ length: current[i].size }, () => (next() - 0.5) * 0.2), current[i].shape) : current[i])));
  const losses: number[] = [];
  for (let step = 0; step < 4; step++) {
    const [loss] = (await model.trainOnBatch(xs, ys)) as number[];
    losses.push(loss);
  }
  const predictions = Array.from((model.predict(xs) as tfTypes.Tensor).dataSync()).slice(0, 20);
  process.stdout.write(JSON.stringify({ losses, predictions, graph: graphTrainingStatus(model) === 'graphe' ? 'graphe' : 'eager' }));
})();

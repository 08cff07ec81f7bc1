/**
 * `npx tsx bench/profile-train.ts [--model one-conv|four-conv] [--steps N]`: where a training step's
 * time goes, kernel by kernel (tf.profile over trainOnBatch on random data, batch 256). A step that
 * runs as one TensorFlow session (lib/train/graph) shows no kernel to tf.profile: the step's time
 * alone is printed; ANALYSE_IMAGE_GRAPH_TRAINING=0 profiles the eager kernels.
 */
import { loadNativeTf } from '../lib/backend';
import { buildModel, type ModelName } from '../lib/models';
import { graphTrainingStatus } from '../lib/train/graph';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

async function main(): Promise<void> {
  const tf = loadNativeTf();
  const name = option('--model', 'one-conv') as ModelName;
  const steps = Number(option('--steps', '10'));
  const batch = Number(option('--batch', '256'));
  const model = buildModel(name);
  const xs = tf.randomUniform([batch, 28, 28, 1]);
  const ys = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as never, 10).toFloat();
  for (let i = 0; i < 3; i++) await model.trainOnBatch(xs, ys);
  const totals = new Map<string, { ms: number; count: number }>();
  let wall = 0;
  for (let i = 0; i < steps; i++) {
    const started = performance.now();
    const info = await tf.profile(async () => {
      await model.trainOnBatch(xs, ys);
    });
    wall += performance.now() - started;
    for (const kernel of info.kernels) {
      const entry = totals.get(kernel.name) ?? { ms: 0, count: 0 };
      entry.ms += Number(kernel.kernelTimeMs) || 0;
      entry.count++;
      totals.set(kernel.name, entry);
    }
  }
  if (graphTrainingStatus(model) === 'graphe') console.log('the step runs as one TensorFlow session (lib/train/graph): no kernel to list; ANALYSE_IMAGE_GRAPH_TRAINING=0 lists the eager ones');
  const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const kernelMs = rows.reduce((s, [, e]) => s + e.ms, 0);
  console.log(`${name}, batch ${batch}: ${(wall / steps).toFixed(1)} ms per step (profiled), kernels ${(kernelMs / steps).toFixed(1)} ms, ${rows.reduce((s, [, e]) => s + e.count, 0) / steps} kernels per step`);
  for (const [kernel, entry] of rows.slice(0, 25)) {
    console.log(`${kernel.padEnd(28)} ${(entry.ms / steps).toFixed(2).padStart(8)} ms  x${entry.count / steps}`);
  }
  const plain: number[] = [];
  for (let i = 0; i < steps; i++) {
    const started = performance.now();
    await model.trainOnBatch(xs, ys);
    plain.push(performance.now() - started);
  }
  plain.sort((a, b) => a - b);
  console.log(`unprofiled: median ${plain[Math.floor(steps / 2)].toFixed(1)} ms per step`);
}

main();

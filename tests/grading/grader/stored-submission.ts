/**
 * A submission graded from its stored outputs (--no-execute): a small model trained and saved by
 * the test itself, and notebooks whose outputs say what that model really does. Run as a script
 * (tfjs-node refuses the typed arrays of jest's sandbox):
 * `tsx stored-submission.ts <classDir> <id>=<printed accuracy or "true">...` prints the true accuracy.
 */
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNativeTf } from '../../../lib/backend';
import { FASHION_CLASSES, head, loadFashionMnist, toTensors } from '../../../lib/data';
import { loadModel, saveModel } from '../../../lib/io';
import { PROJECT_ROOT } from '../../../lib/paths';
import { photosToTensor, preprocessPhoto } from '../../../lib/preprocess';
import { notebookJson } from '../runner/helpers';

/** Trains the fixtures' small dense model on 3 000 images and saves it; returns its test accuracy. */
export async function trainSmallModel(modelDir: string): Promise<number> {
  const tf = loadNativeTf();
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 64, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })] });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const train = toTensors(head(loadFashionMnist('train'), 3000));
  await model.fit(train.xs, train.ys, { epochs: 3, batchSize: 64, verbose: 0 });
  const test = toTensors(loadFashionMnist('test'));
  const [, accuracy] = model.evaluate(test.xs, test.ys) as import('@tensorflow/tfjs-node').Scalar[];
  await saveModel(model, modelDir);
  const value = accuracy.dataSync()[0];
  tf.dispose([train.xs, train.ys, test.xs, test.ys]);
  model.dispose();
  return value;
}

/** Writes a complete executed submission around a saved model folder (copied). */
export async function writeStoredSubmission(dir: string, modelDir: string, printedAccuracy: number): Promise<void> {
  const tf = loadNativeTf();
  mkdirSync(dir, { recursive: true });
  cpSync(modelDir, join(dir, 'modele'), { recursive: true });
  const model = await loadModel(modelDir);
  let verdicts = '';
  for (const file of readdirSync(join(PROJECT_ROOT, 'images')).sort()) {
    const input = photosToTensor(tf, [await preprocessPhoto(join(PROJECT_ROOT, 'images', file))]);
    const probabilities = Array.from((model.predict(input) as import('@tensorflow/tfjs-node').Tensor).dataSync());
    verdicts += `${file}\nSelon moi l'image est : ${FASHION_CLASSES[probabilities.indexOf(Math.max(...probabilities))]}\n\n`;
  }
  const executed = (cells: { source: string; text: string }[]) => {
    const nb = notebookJson(cells.map((c) => ({ source: c.source, outputs: c.text ? [{ output_type: 'stream', name: 'stdout', text: c.text }] : [] })));
    (nb.cells as { execution_count: number | null }[]).forEach((cell, i) => (cell.execution_count = i + 1));
    return JSON.stringify(nb, null, 1);
  };
  writeFileSync(join(dir, 'classification.ipynb'), executed([{ source: 'entrainer();', text: `Erreur: 0.5\nPrécision: ${printedAccuracy}\n` }, { source: 'await saveModel(model);', text: '' }]));
  writeFileSync(join(dir, 'test_model.ipynb'), executed([{ source: 'classer();', text: verdicts }]));
}

if (require.main === module) {
  void (async () => {
    const [classDir, ...submissions] = process.argv.slice(2);
    const modelDir = join(classDir, '..', 'modele-entraine');
    const accuracy = await trainSmallModel(modelDir);
    for (const entry of submissions) {
      const [id, printed] = entry.split('=');
      await writeStoredSubmission(join(classDir, id), modelDir, printed === 'true' ? accuracy : Number(printed));
    }
    console.log(JSON.stringify({ accuracy }));
  })();
}

/**
 * Submissions the grader tests build themselves: a small good one (a dense network trained on
 * 3 000 images in a few seconds) and one per fault the grader must catch.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/paths';
import { specFrom, type GradingSpec } from '../../../grading/grader/spec';
import { notebookJson } from '../runner/helpers';

/** A spec for the small fixtures: the good one reaches ~0.75, so the bar is 0.6; short limits. */
export function fixtureSpec(overrides: Record<string, unknown> = {}): GradingSpec {
  return specFrom({
    accuracy: { pass: 0.6, bands: [{ min: 0.4, fraction: 0.5 }] },
    timeouts: { cellSeconds: 40, notebookSeconds: 240, evaluateSeconds: 120 },
    limits: { memoryMb: 3000 },
    ...overrides,
  });
}

const IMPORTS = `import { loadNativeTf } from './lib/backend';
import { head, loadFashionMnist, toTensors } from './lib/data';
import { saveModel } from './lib/io';
const tf = loadNativeTf();`;

const BUILD = (inputShape = '[28, 28, 1]') => `const model = tf.sequential({ layers: [
  tf.layers.flatten({ inputShape: ${inputShape} }),
  tf.layers.dense({ units: 64, activation: 'relu' }),
  tf.layers.dense({ units: 10, activation: 'softmax' }),
] });
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });`;

const TRAIN = `const train = toTensors(head(loadFashionMnist('train'), 3000));
await model.fit(train.xs, train.ys, { epochs: 3, batchSize: 64, verbose: 0 });
const test = toTensors(loadFashionMnist('test'));
const [erreur, precision] = model.evaluate(test.xs, test.ys) as import('@tensorflow/tfjs-node').Scalar[];
console.log('Erreur:', erreur.dataSync()[0]);
console.log('Précision:', precision.dataSync()[0]);`;

const SAVE = `await saveModel(model);
console.log('modèle sauvegardé');`;

/** The classification notebook's code cells of each fixture. */
export const CLASSIFICATION_CELLS: Record<string, string[]> = {
  good: [IMPORTS, BUILD(), TRAIN, SAVE],
  'no-model': [IMPORTS, BUILD(), TRAIN],
  'truncated-weights': [IMPORTS, BUILD(), TRAIN, SAVE, `require('node:fs').truncateSync('modele/modele.weights.bin', 1000);`],
  'random-weights': [IMPORTS, BUILD(), `console.log('Précision: 0.95');`, SAVE],
  'syntax-error': [IMPORTS, 'const x = ;', BUILD(), TRAIN, SAVE],
  'infinite-loop': [IMPORTS, 'while (true) {}', BUILD(), TRAIN, SAVE],
  'kills-kernel': [IMPORTS, 'process.exit(3);', BUILD(), TRAIN, SAVE],
  'wrong-input-shape': [IMPORTS, BUILD('[32, 32, 1]'), SAVE],
  'fills-memory': [IMPORTS, `const kept: Buffer[] = [];\nfor (let i = 0; i < 200; i++) kept.push(Buffer.alloc(100 * 1024 * 1024, 1));`, BUILD(), TRAIN, SAVE],
};

/** Writes a submission folder: classification.ipynb from `cells` (or raw text), the course's test_model.ipynb. */
export function writeSubmission(dir: string, classification: string[] | { raw: string }): string {
  mkdirSync(dir, { recursive: true });
  const text = Array.isArray(classification) ? JSON.stringify(notebookJson(classification), null, 1) : classification.raw;
  writeFileSync(join(dir, 'classification.ipynb'), text);
  copyFileSync(join(PROJECT_ROOT, 'notebooks', 'test_model.ipynb'), join(dir, 'test_model.ipynb'));
  return dir;
}

/** A cell that tries to destroy files outside its scratch folder. */
export function vandalCells(targets: { deleteFile: string; overwriteFile: string; deleteFolder: string }): string[] {
  return [
    IMPORTS,
    `const fs = require('node:fs');
const tried: string[] = [];
for (const attempt of [
  () => fs.rmSync(${JSON.stringify(targets.deleteFile)}),
  () => fs.writeFileSync(${JSON.stringify(targets.overwriteFile)}, 'effacé'),
  () => fs.rmSync(${JSON.stringify(targets.deleteFolder)}, { recursive: true, force: true }),
]) {
  try { attempt(); tried.push('ok'); } catch (error) { tried.push((error as NodeJS.ErrnoException).code ?? 'erreur'); }
}
console.log('tentatives :', tried.join(' '));
if (tried.some((t) => t !== 'ok')) throw new Error('refusé : ' + tried.join(' '));`,
    BUILD(),
    TRAIN,
    SAVE,
  ];
}

/** Folder names an instructor's class really had (two Bobs, case and accents), and Moodle's. */
export const TRICKY_FOLDERS = [
  'bob smith',
  'bob_smith',
  'Bob Smith',
  'Élodie Durand',
  'elodie durand',
  'Élodie Durand_123456_assignsubmission_file_',
  'Elodie Durand_654321_assignsubmission_file_',
];

/**
 * Child program of the grader: inspects and evaluates one submission's saved model, inside that
 * submission's sandbox (a hostile model.json must not be able to exhaust the grader's memory).
 * Usage: node --require tsx/cjs evaluate-model.ts '<json ModelProbeRequest>'; prints one line
 * `RESULT <json ModelProbe>` on stdout.
 */
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadNativeTf } from '../../lib/backend';
import { FASHION_CLASSES, labelsToOneHot, imagesToTensor, loadFashionMnist } from '../../lib/data';
import { checkSavedModel, FORMAT_LABELS, loadModel, type SavedModelFormat } from '../../lib/io';
import { photosToTensor, preprocessPhoto } from '../../lib/preprocess';
import { confusionMatrix, evaluate, predictClasses } from '../../lib/train';

/** What the grader asks. */
export interface ModelProbeRequest {
  modelDir: string;
  imagesDir: string;
  maxModelBytes: number;
  /** Prepare the photos as the Python course's Pillow code does (a Python-edition test_model): no EXIF orientation, transparency turned black. */
  asPythonCourse?: boolean;
}

/** One stage's verdict. */
export interface ProbeStage {
  ok: boolean;
  message: string;
}

/** What the child finds out about a saved model. */
export interface ModelProbe {
  files: ProbeStage & { weightsBytes?: number; format?: SavedModelFormat };
  architecture?: ProbeStage & { inputShape?: (number | null)[]; outputShape?: (number | null)[]; activation?: string; parameters?: number; layers?: string[] };
  evaluation?: { loss: number; accuracy: number; confusion: number[][]; images: number; seconds: number };
  predictions?: { file: string; classIndex: number; label: string; probability: number }[];
}

const MARKER = 'RESULT ';

/** Bytes of the folder's own entries; links are not followed (a link to a huge file must not count as small, nor break the sum). */
function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, entry) => sum + lstatSync(join(dir, entry)).size, 0);
}

/** Runs every stage it can; a failing stage ends the probe with its message. */
export async function probeModel(request: ModelProbeRequest): Promise<ModelProbe> {
  if (!existsSync(request.modelDir) || !lstatSync(request.modelDir).isDirectory()) {
    return { files: { ok: false, message: `dossier ${request.modelDir.split('/').pop()}/ absent : le notebook n’a pas sauvegardé de modèle (saveModel).` } };
  }
  const weightsBytes = folderBytes(request.modelDir);
  if (weightsBytes > request.maxModelBytes) {
    return { files: { ok: false, message: `le dossier du modèle pèse ${(weightsBytes / 1e6).toFixed(1)} Mo, plus que la limite de ${(request.maxModelBytes / 1e6).toFixed(0)} Mo.`, weightsBytes } };
  }
  // Any format loadModel reads: this project's (size and checksum checked), Keras 3's pair or .keras (HDF5 and zip checked).
  let saved: Awaited<ReturnType<typeof checkSavedModel>>;
  try {
    saved = await checkSavedModel(request.modelDir);
  } catch (error) {
    return { files: { ok: false, message: (error as Error).message, weightsBytes } };
  }
  const message =
    saved.format === 'tfjs'
      ? 'modele.json et ses poids sont présents, de la taille annoncée, somme de contrôle juste.'
      : `modèle au format ${FORMAT_LABELS[saved.format]} : ${saved.files.map((f) => f.split('/').pop()).join(' et ')} lisible${saved.files.length > 1 ? 's' : ''}, fait${saved.files.length > 1 ? 's' : ''} de couches que le correcteur sait reconstruire.`;
  const probe: ModelProbe = { files: { ok: true, message, weightsBytes, format: saved.format } };

  const tf = loadNativeTf();
  let model: import('@tensorflow/tfjs-node').LayersModel;
  try {
    model = await loadModel(request.modelDir);
  } catch (error) {
    probe.architecture = { ok: false, message: `le modèle ne se charge pas : ${(error as Error).message}` };
    return probe;
  }
  const inputShape = model.inputs[0].shape;
  const outputShape = model.outputs[0].shape;
  const last = model.layers[model.layers.length - 1];
  const activation = String((last.getConfig() as { activation?: unknown }).activation ?? 'aucune');
  const layers = model.layers.map((layer) => layer.getClassName());
  const architecture = { inputShape, outputShape, activation, parameters: model.countParams(), layers };
  const problems: string[] = [];
  if (model.inputs.length !== 1 || inputShape.length !== 4 || inputShape[1] !== 28 || inputShape[2] !== 28 || inputShape[3] !== 1) problems.push(`entrée [${inputShape.map(String).join(', ')}] au lieu de [null, 28, 28, 1]`);
  if (model.outputs.length !== 1 || outputShape.length !== 2 || outputShape[1] !== 10) problems.push(`sortie [${outputShape.map(String).join(', ')}] au lieu de [null, 10]`);
  if (activation !== 'softmax') problems.push(`dernière couche « ${last.getClassName()} » avec l’activation ${activation} au lieu de softmax`);
  if (problems.length) {
    probe.architecture = { ok: false, message: `architecture inattendue : ${problems.join(' ; ')}.`, ...architecture };
    return probe;
  }
  probe.architecture = { ok: true, message: `entrée 28 x 28 x 1, sortie softmax à 10 classes, ${architecture.parameters} paramètres.`, ...architecture };

  // The grader's own measure, whatever the notebook printed or compiled.
  const started = Date.now();
  model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const test = loadFashionMnist('test');
  const xs = imagesToTensor(test);
  const ys = labelsToOneHot(test);
  const { loss, accuracy } = await evaluate(model, xs, ys);
  const predicted = await predictClasses(model, xs);
  tf.dispose([xs, ys]);
  probe.evaluation = { loss, accuracy, confusion: confusionMatrix(test.labels, predicted), images: test.count, seconds: (Date.now() - started) / 1000 };

  const photos = readdirSync(request.imagesDir).filter((f) => /\.(png|jpe?g|webp|gif)$/i.test(f)).sort();
  probe.predictions = [];
  for (const file of photos) {
    const input = photosToTensor(tf, [await preprocessPhoto(join(request.imagesDir, file), { asPythonCourse: request.asPythonCourse })]);
    const probabilities = Array.from(tf.tidy(() => (model.predict(input) as import('@tensorflow/tfjs-node').Tensor).dataSync()));
    input.dispose();
    const classIndex = probabilities.indexOf(Math.max(...probabilities));
    probe.predictions.push({ file, classIndex, label: FASHION_CLASSES[classIndex], probability: probabilities[classIndex] });
  }
  return probe;
}

if (require.main === module) {
  void (async () => {
    try {
      const request = JSON.parse(process.argv[2] ?? '') as ModelProbeRequest;
      const probe = await probeModel(request);
      process.stdout.write(`\n${MARKER}${JSON.stringify(probe)}\n`);
      process.exit(0);
    } catch (error) {
      process.stderr.write(`${(error as Error).stack ?? error}\n`);
      process.exit(3);
    }
  })();
}

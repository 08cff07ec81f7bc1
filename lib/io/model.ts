/**
 * Saving and loading a trained model in modele/: `modele.json` (topology + weights manifest, the
 * TensorFlow.js layers format) and `modele.weights.bin`. Writes are atomic and the JSON records the
 * weights' size and SHA-256, so a truncated or mismatched pair is detected on load.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import type { io as tfio } from '@tensorflow/tfjs-core';
import { loadNativeTf } from '../backend';
import { modelDir, PROJECT_ROOT } from '../paths';
import { writeTemporary } from './atomic';
import { tfjsTopology } from './keras3';
import { isKerasModelJson } from './keras/config';
import { checkKerasFiles, loadKerasArchiveModel, loadKerasJsonModel } from './keras/load';
import { checkedManifest, openWeightsFile, readOpenedFile, type OpenedWeightsFile } from './weights-paths';

/** File name of the model description in the model folder. */
export const MODEL_JSON = 'modele.json';
/** File name of the weights in the model folder. */
export const MODEL_WEIGHTS = 'modele.weights.bin';

/** What this project adds to the saved JSON (under userDefinedMetadata) to check the weights on load. */
export interface SavedModelIntegrity {
  readonly weightsFile: string;
  readonly weightsBytes: number;
  readonly weightsSha256: string;
  readonly savedAt: string;
}

/** What `saveModel` wrote. */
export interface SavedModelFiles {
  readonly jsonPath: string;
  readonly weightsPath: string;
  readonly weightsBytes: number;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/** A path as the user knows it: relative to the project when inside it. */
function shown(file: string): string {
  const inside = relative(PROJECT_ROOT, file);
  return inside && !inside.startsWith('..') ? inside : file;
}

function concatWeights(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  if (!Array.isArray(data)) return new Uint8Array(data);
  const total = data.reduce((sum, part) => sum + part.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of data) {
    joined.set(new Uint8Array(part), offset);
    offset += part.byteLength;
  }
  return joined;
}

/**
 * A model in memory as TensorFlow.js' own artifacts, whatever format it was loaded from: its topology
 * (toJSON, as model.save writes it) and its weights, named as model.save names them, in one buffer.
 * Written out rather than through model.save, whose encoder refuses typed arrays of another realm
 * (the native backend's, seen from a test's vm).
 */
export function modelArtifacts(model: tfTypes.LayersModel): { format: string; modelTopology: unknown; weightSpecs: tfio.WeightsManifestEntry[]; weightData: Uint8Array } {
  const values = model.weights.map((weight) => weight.read().dataSync());
  const weightData = new Uint8Array(values.reduce((sum, v) => sum + v.byteLength, 0));
  let offset = 0;
  for (const v of values) {
    weightData.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), offset);
    offset += v.byteLength;
  }
  const weightSpecs = model.weights.map((weight) => ({ name: weight.originalName, shape: weight.shape as number[], dtype: weight.dtype as 'float32' }));
  return { format: 'layers-model', modelTopology: model.toJSON(null, false), weightSpecs, weightData };
}

/** Bytes the weights manifest announces (sum over tensors of elements x dtype size). */
export function manifestBytes(specs: tfio.WeightsManifestEntry[]): number {
  let total = 0;
  for (const spec of specs) {
    const elements = spec.shape.reduce((a, b) => a * b, 1);
    const bytesPer = spec.quantization ? (spec.quantization.dtype === 'uint8' ? 1 : 2) : DTYPE_BYTES[spec.dtype];
    if (bytesPer === undefined) throw new Error(`unsupported weight dtype "${spec.dtype}" for ${spec.name}`);
    total += elements * bytesPer;
  }
  return total;
}

/** Saves a model to `dir` (default modele/) as modele.json + modele.weights.bin, atomically. */
export async function saveModel(model: tfTypes.LayersModel, dir: string = modelDir()): Promise<SavedModelFiles> {
  const tf = loadNativeTf();
  mkdirSync(dir, { recursive: true });
  const jsonPath = join(dir, MODEL_JSON);
  const weightsPath = join(dir, MODEL_WEIGHTS);
  let written: SavedModelFiles | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = concatWeights(artifacts.weightData ?? new ArrayBuffer(0));
      const integrity: SavedModelIntegrity = {
        weightsFile: MODEL_WEIGHTS,
        weightsBytes: weights.byteLength,
        weightsSha256: createHash('sha256').update(weights).digest('hex'),
        savedAt: new Date().toISOString(),
      };
      const description = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        trainingConfig: artifacts.trainingConfig,
        weightsManifest: [{ paths: [MODEL_WEIGHTS], weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: { ...(artifacts.userDefinedMetadata ?? {}), analyseImage: integrity },
      };
      // Both files are complete on disk before either replaces the old one; the JSON goes last and
      // carries the weights' checksum, so a crash between the two renames is caught on load.
      const weightsTemporary = writeTemporary(weightsPath, weights);
      let jsonTemporary: string | undefined;
      try {
        jsonTemporary = writeTemporary(jsonPath, JSON.stringify(description));
        renameSync(weightsTemporary, weightsPath);
        renameSync(jsonTemporary, jsonPath);
      } catch (error) {
        rmSync(weightsTemporary, { force: true });
        if (jsonTemporary) rmSync(jsonTemporary, { force: true });
        throw error;
      }
      written = { jsonPath, weightsPath, weightsBytes: weights.byteLength };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
  if (!written) throw new Error('The model was not saved (TensorFlow.js did not call the save handler).');
  return written;
}

/** Largest model.json read (its topology and manifest are text: big models' stay well under 1 MB). */
export const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

/** The model.json's text, read only if it is a regular file of sane size (not a FIFO or /dev/zero that never ends). */
function readModelJson(jsonPath: string, name: string): string {
  // stat first, so a device is never opened; then O_NONBLOCK, so a FIFO swapped in meanwhile does
  // not wait for a writer, and fstat on the descriptor refuses it.
  if (!statSync(jsonPath).isFile()) throw new Error(`${name} n'est pas un fichier ordinaire (dossier, tube ou périphérique). Sauvegardez le modèle à nouveau (saveModel).`);
  const fd = openSync(jsonPath, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error(`${name} n'est pas un fichier ordinaire (dossier, tube ou périphérique). Sauvegardez le modèle à nouveau (saveModel).`);
    if (stats.size > MAX_MODEL_JSON_BYTES) {
      throw new Error(`${name} pèse ${stats.size} octets, plus que les ${MAX_MODEL_JSON_BYTES} permis pour une description de modèle. Sauvegardez le modèle à nouveau (saveModel).`);
    }
    return readOpenedFile(fd, stats.size, name).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and checks a saved model's files without building it: JSON valid, topology present,
 * weights files plain files of the model folder (see weights-paths.ts), of exactly the size the
 * manifest announces (compared before reading) and with the recorded checksum.
 */
export function readModelArtifacts(jsonPathOrDir: string = modelDir()): tfio.ModelArtifacts {
  const jsonPath = jsonPathOrDir.endsWith('.json') ? jsonPathOrDir : join(jsonPathOrDir, MODEL_JSON);
  const name = shown(jsonPath);
  if (!existsSync(jsonPath)) {
    throw new Error(
      `${name} introuvable : aucun modèle sauvegardé. Entraînez puis sauvegardez un modèle ` +
        `(notebook classification, section « Sauvegarde du modèle »).`,
    );
  }
  let description: {
    modelTopology?: unknown;
    weightsManifest?: unknown;
    format?: string;
    generatedBy?: string;
    convertedBy?: string | null;
    trainingConfig?: tfio.TrainingConfig;
    userDefinedMetadata?: { analyseImage?: SavedModelIntegrity; [key: string]: unknown };
  };
  const text = readModelJson(jsonPath, name);
  try {
    description = JSON.parse(text);
  } catch (error) {
    throw new Error(`${name} n'est pas un JSON valide (fichier tronqué ou modifié ?) : ${(error as Error).message}. Sauvegardez le modèle à nouveau.`);
  }
  if (!description || typeof description.modelTopology !== 'object' || description.modelTopology === null) {
    if (isKerasModelJson(description)) throw new Error(`${name} décrit un modèle Keras (to_json()) : chargez-le avec loadModel, qui lit aussi ses poids .weights.h5.`);
    throw new Error(`${name} ne décrit pas un modèle TensorFlow.js (champ « modelTopology » absent) ni un modèle Keras.`);
  }
  const folder = dirname(jsonPath);
  const names = { json: name, folder: shown(folder) };
  const groups = checkedManifest(description.weightsManifest, names);
  const specs = groups.flatMap((group) => group.weights);
  let expected: number;
  try {
    expected = manifestBytes(specs);
  } catch (error) {
    throw new Error(`${name} : ${(error as Error).message}.`);
  }
  const paths = groups.flatMap((group) => group.paths);
  const weightsName = paths.length === 1 ? shown(join(folder, paths[0])) : `les poids (${paths.map((p) => shown(join(folder, p))).join(' + ') || 'aucun fichier'})`;
  const opened: OpenedWeightsFile[] = [];
  let weights: Uint8Array;
  try {
    for (const path of paths) opened.push(openWeightsFile(folder, path, names));
    // Sizes from fstat, compared before reading: a weights file far bigger than announced is never loaded.
    const actual = opened.reduce((sum, file) => sum + file.bytes, 0);
    if (actual !== expected) {
      throw new Error(
        `${weightsName} : ${actual} octets alors que ${basename(jsonPath)} en annonce ${expected} ` +
          `(fichier ${actual < expected ? 'tronqué' : 'trop long'}, ou poids d'un autre modèle). Sauvegardez le modèle à nouveau.`,
      );
    }
    weights = concatWeights(opened.map((file) => {
      const part = readOpenedFile(file.fd, file.bytes, shown(join(folder, file.path)));
      return part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength) as ArrayBuffer;
    }));
  } finally {
    for (const file of opened) closeSync(file.fd);
  }
  const integrity = description.userDefinedMetadata?.analyseImage;
  if (integrity?.weightsSha256) {
    const actual = createHash('sha256').update(weights).digest('hex');
    if (actual !== integrity.weightsSha256) {
      throw new Error(
        `${weightsName} ne correspond pas à ${basename(jsonPath)} (somme de contrôle différente : ` +
          `les poids viennent d'une autre sauvegarde). Sauvegardez le modèle à nouveau.`,
      );
    }
  }
  return {
    modelTopology: description.modelTopology as tfio.ModelArtifacts['modelTopology'],
    weightSpecs: specs,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    format: description.format,
    generatedBy: description.generatedBy,
    convertedBy: description.convertedBy ?? undefined,
    trainingConfig: description.trainingConfig,
    userDefinedMetadata: description.userDefinedMetadata as tfio.ModelArtifacts["userDefinedMetadata"],
  };
}

/** The formats `loadModel` reads: this project's (TensorFlow.js), Keras 3's JSON + .weights.h5 pair, a .keras file. */
export type SavedModelFormat = 'tfjs' | 'keras-json' | 'keras-zip';

/** A saved model found by `locateSavedModel`: its format and files (the JSON's text already read, bounded). */
export interface LocatedModel {
  readonly format: SavedModelFormat;
  /** The model.json / modele.json (tfjs and keras-json). */
  readonly jsonPath?: string;
  /** Its text (keras-json). */
  readonly text?: string;
  /** The .keras file (keras-zip). */
  readonly kerasPath?: string;
}

/** What each format is, in French, for messages and reports. */
export const FORMAT_LABELS: Record<SavedModelFormat, string> = {
  tfjs: 'TensorFlow.js (modele.json + modele.weights.bin)',
  'keras-json': 'Keras 3 (modele.json de to_json() + modele.weights.h5 de save_weights())',
  'keras-zip': 'Keras 3 (fichier .keras de model.save())',
};

/**
 * Finds the saved model of a folder or file, recognised by content: a `.keras` file; a JSON that
 * is a TensorFlow.js model.json (`modelTopology`) or a Keras description (`to_json()`, with its
 * `<stem>.weights.h5` beside it). In a folder: modele.json, else modele.keras, else its only `.keras`.
 */
export function locateSavedModel(pathOrDir: string = modelDir()): LocatedModel {
  if (/\.keras$/i.test(pathOrDir)) return { format: 'keras-zip', kerasPath: pathOrDir };
  let jsonPath = pathOrDir;
  if (!pathOrDir.endsWith('.json')) {
    jsonPath = join(pathOrDir, MODEL_JSON);
    if (!existsSync(jsonPath)) {
      const keras = join(pathOrDir, 'modele.keras');
      if (existsSync(keras)) return { format: 'keras-zip', kerasPath: keras };
      let entries: string[] = [];
      try {
        entries = readdirSync(pathOrDir).filter((entry) => /\.keras$/i.test(entry));
      } catch {
        // no folder: readModelArtifacts says so
      }
      if (entries.length === 1) return { format: 'keras-zip', kerasPath: join(pathOrDir, entries[0]) };
      return { format: 'tfjs', jsonPath };
    }
  }
  if (!existsSync(jsonPath)) return { format: 'tfjs', jsonPath };
  const text = readModelJson(jsonPath, shown(jsonPath));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { format: 'tfjs', jsonPath };
  }
  return isKerasModelJson(parsed) ? { format: 'keras-json', jsonPath, text } : { format: 'tfjs', jsonPath };
}

/**
 * Checks a saved model's files in any format without building it (see readModelArtifacts and
 * checkKerasFiles); returns its format and the files read, as the user knows them. Throws French errors.
 */
export async function checkSavedModel(pathOrDir: string = modelDir()): Promise<{ format: SavedModelFormat; files: string[] }> {
  const located = locateSavedModel(pathOrDir);
  if (located.format === 'tfjs') {
    const jsonPath = located.jsonPath ?? pathOrDir;
    readModelArtifacts(jsonPath);
    return { format: 'tfjs', files: [shown(jsonPath)] };
  }
  return { format: located.format, files: await checkKerasFiles(located, shown) };
}

/**
 * Loads a saved model (default modele/), checked first; errors name the faulty file. Formats, by
 * content: ours (modele.json + modele.weights.bin), converted Keras 2 or 3 models, the course's
 * Keras 3 save (modele.json from to_json() + modele.weights.h5 from save_weights()) and .keras files.
 */
export async function loadModel(jsonPathOrDir: string = modelDir()): Promise<tfTypes.LayersModel> {
  const tf = loadNativeTf();
  const located = locateSavedModel(jsonPathOrDir);
  if (located.format === 'keras-json') return loadKerasJsonModel(located.jsonPath!, located.text!, shown);
  if (located.format === 'keras-zip') return loadKerasArchiveModel(located.kerasPath!, shown);
  const artifacts = readModelArtifacts(located.jsonPath ?? jsonPathOrDir);
  try {
    // Keras 3 descriptions (converted Keras models) are rewritten; ours and Keras 2's come back unchanged.
    return await tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, modelTopology: tfjsTopology(artifacts.modelTopology) as tfio.ModelArtifacts['modelTopology'] }));
  } catch (error) {
    const jsonPath = jsonPathOrDir.endsWith('.json') ? jsonPathOrDir : join(jsonPathOrDir, MODEL_JSON);
    throw new Error(`${shown(jsonPath)} : le modèle ne peut pas être reconstruit (${(error as Error).message}).`);
  }
}

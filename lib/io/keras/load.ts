/**
 * Loading the course's Keras 3 saves without Python: `modele.json` (`model.to_json()`) with
 * `modele.weights.h5` (`model.save_weights()`), or one `.keras` file (`model.save()`). Every file
 * read is a plain file of the model's folder (no link, FIFO or device), of bounded size; the
 * weights are matched to the layers by Keras 3's own group names, their shapes checked before
 * any value is read.
 */
import { basename, dirname, join } from 'node:path';
import { closeSync, constants, fstatSync, lstatSync, openSync } from 'node:fs';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../backend';
import { notPlain, readOpenedFile } from '../weights-paths';
import { checkKerasSupport, isKerasModelJson, kerasWeightsLocations, tfjsModelTopology, type KerasModelJson } from './config';
import { MAX_H5_BYTES, openH5, type H5Reader } from './h5';
import { MAX_KERAS_JSON_BYTES, MAX_KERAS_ZIP_BYTES, readKerasArchive } from './zip';

/** The weights file Keras' course saves beside `modele.json`: `modele.weights.h5` (stem + `.weights.h5`). */
export function kerasWeightsFileFor(jsonPath: string): string {
  return join(dirname(jsonPath), `${basename(jsonPath).replace(/\.json$/i, '')}.weights.h5`);
}

/** How files are named in messages (as the user knows them), given their full path. */
export type ShowPath = (file: string) => string;

/**
 * Reads a plain file of its folder, at most `maxBytes`, or throws a French error: absent (`missing`
 * explains what was expected), a link or special file, or too big (compared before reading).
 */
export function readPlainFile(file: string, maxBytes: number, shown: ShowPath, missing: string): Buffer {
  let before;
  try {
    before = lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${shown(file)} introuvable : ${missing}`);
    throw error;
  }
  // lstat first, so a device or FIFO is never opened; O_NOFOLLOW and O_NONBLOCK, then fstat on the
  // descriptor, for a file swapped meanwhile (as openWeightsFile does).
  const refused = (reason: string) => new Error(`${shown(file)} ${reason} : refusé, le modèle doit être fait de fichiers ordinaires de son dossier.`);
  const early = notPlain(before);
  if (early) throw refused(early);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw refused('est un lien symbolique');
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    const late = notPlain(stats);
    if (late) throw refused(late);
    if (stats.size > maxBytes) throw new Error(`${shown(file)} pèse ${stats.size} octets, plus que les ${maxBytes} permis : refusé sans être lu.`);
    return readOpenedFile(fd, stats.size, shown(file));
  } finally {
    closeSync(fd);
  }
}

/** Parses a Keras model description, or throws a French error naming `name`. */
export function parseKerasJson(text: string, name: string): KerasModelJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${name} n'est pas un JSON valide (fichier tronqué ou modifié ?) : ${(error as Error).message}.`);
  }
  if (!isKerasModelJson(parsed)) throw new Error(`${name} ne décrit pas un modèle Keras (champs « class_name » Sequential ou Functional et « config.layers » attendus).`);
  return parsed;
}

/** TensorFlow.js' layer class names (what it can rebuild). */
function knownLayerClasses(tf: typeof tfTypes): Set<string> {
  const map = (tf.serialization.SerializationMap.getMap() as unknown as { classNameMap: Record<string, unknown> }).classNameMap;
  return new Set(Object.keys(map));
}

function layerAt(model: tfTypes.LayersModel, path: string[]): tfTypes.layers.Layer {
  let layer: tfTypes.layers.Layer = model;
  for (const name of path) layer = (layer as tfTypes.LayersModel).getLayer(name);
  return layer;
}

/** Copies the weights of `reader` (a Keras 3 weights file) into the rebuilt model, layer by layer; French errors name the layer and the dataset. */
function assignWeights(tf: typeof tfTypes, model: tfTypes.LayersModel, description: KerasModelJson, reader: H5Reader, weightsName: string): void {
  if (!reader.groups.has('layers') && reader.groups.has('model_weights')) {
    throw new Error(`${weightsName} est au format HDF5 de Keras 2 (groupe « model_weights ») : enregistrez les poids avec Keras 3 (model.save_weights("modele/modele.weights.h5")).`);
  }
  for (const location of kerasWeightsLocations(description)) {
    let layer: tfTypes.layers.Layer;
    try {
      layer = layerAt(model, location.layerPath);
    } catch {
      throw new Error(`${weightsName} : la couche « ${location.layerPath.join('/')} » de la description est introuvable dans le modèle reconstruit.`);
    }
    const expected = layer.weights;
    // Keras keeps a layer's variables in <group>/vars; recurrent layers keep their cell's in <group>/cell/vars.
    const group = [`${location.group}/vars`, `${location.group}/cell/vars`].find((g) => [...reader.datasets.keys()].some((d) => d.startsWith(`${g}/`))) ?? `${location.group}/vars`;
    const stored = [...reader.datasets.keys()].filter((path) => path.startsWith(`${group}/`) && !path.slice(group.length + 1).includes('/'));
    if (stored.length !== expected.length) {
      throw new Error(
        `${weightsName} : la couche « ${location.layerPath.join('/')} » (${location.className}) a ${expected.length} tableaux de poids, le fichier en a ${stored.length} dans « ${group} » ` +
          `(poids d'un autre modèle que celui de la description ?).`,
      );
    }
    if (expected.length === 0) continue;
    const values = expected.map((variable, i) => {
      const path = `${group}/${i}`;
      const info = reader.datasets.get(path);
      if (!info) throw new Error(`${weightsName} : « ${path} » manque (poids ${i} de la couche « ${location.layerPath.join('/')} »).`);
      const shape = variable.shape as number[];
      if (info.shape.length !== shape.length || info.shape.some((n, d) => n !== shape[d])) {
        throw new Error(`${weightsName} : « ${path} » a la forme [${info.shape.join(', ')}] alors que la couche « ${location.layerPath.join('/')} » attend [${shape.join(', ')}] (${variable.name}) : poids d'un autre modèle que celui de la description ?`);
      }
      return tf.tensor(reader.readFloat32(path), shape, 'float32');
    });
    try {
      layer.setWeights(values);
    } finally {
      tf.dispose(values);
    }
  }
}

/** Rebuilds a checked Keras description in TensorFlow.js, then loads the HDF5 weights into it. */
async function buildKerasModel(description: KerasModelJson, weights: Uint8Array, name: string, weightsName: string): Promise<tfTypes.LayersModel> {
  const tf = loadNativeTf();
  checkKerasSupport(description, knownLayerClasses(tf), name);
  const reader = await openH5(weights, weightsName);
  try {
    let model: tfTypes.LayersModel;
    try {
      model = await tf.models.modelFromJSON({ modelTopology: tfjsModelTopology(description) } as never);
    } catch (error) {
      throw new Error(`${name} : TensorFlow.js ne peut pas reconstruire ce modèle Keras (${(error as Error).message}).`);
    }
    try {
      assignWeights(tf, model, description, reader, weightsName);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  } finally {
    reader.close();
  }
}

/** Loads a Keras 3 description (`jsonPath`, already read as `text`) and its `.weights.h5` beside it. */
export async function loadKerasJsonModel(jsonPath: string, text: string, shown: ShowPath): Promise<tfTypes.LayersModel> {
  const description = parseKerasJson(text, shown(jsonPath));
  const weightsPath = kerasWeightsFileFor(jsonPath);
  const weights = readPlainFile(weightsPath, MAX_H5_BYTES, shown, `${shown(jsonPath)} est une description Keras ; ses poids sont attendus dans ce fichier, écrit par model.save_weights("${basename(weightsPath)}").`);
  return buildKerasModel(description, weights, shown(jsonPath), shown(weightsPath));
}

/** Loads a `.keras` file (config.json + model.weights.h5 inside). */
export async function loadKerasArchiveModel(path: string, shown: ShowPath): Promise<tfTypes.LayersModel> {
  const bytes = readPlainFile(path, MAX_KERAS_ZIP_BYTES, shown, 'aucun modèle Keras à cet endroit (model.save("modele/modele.keras")).');
  const archive = await readKerasArchive(bytes, shown(path));
  if (Buffer.byteLength(archive.config) > MAX_KERAS_JSON_BYTES) throw new Error(`${shown(path)} : config.json est trop gros.`);
  const description = parseKerasJson(archive.config, `${shown(path)} (config.json)`);
  return buildKerasModel(description, archive.weights, `${shown(path)} (config.json)`, `${shown(path)} (model.weights.h5)`);
}

/**
 * Checks a Keras save's files without building the model: description readable and made of layers
 * TensorFlow.js has, weights a sound HDF5 file (see openH5). Returns the files it read, as shown.
 */
export async function checkKerasFiles(located: { jsonPath?: string; text?: string; kerasPath?: string }, shown: ShowPath): Promise<string[]> {
  const tf = loadNativeTf();
  if (located.kerasPath) {
    const bytes = readPlainFile(located.kerasPath, MAX_KERAS_ZIP_BYTES, shown, 'aucun modèle Keras à cet endroit.');
    const archive = await readKerasArchive(bytes, shown(located.kerasPath));
    checkKerasSupport(parseKerasJson(archive.config, `${shown(located.kerasPath)} (config.json)`), knownLayerClasses(tf), `${shown(located.kerasPath)} (config.json)`);
    (await openH5(archive.weights, `${shown(located.kerasPath)} (model.weights.h5)`)).close();
    return [shown(located.kerasPath)];
  }
  const jsonPath = located.jsonPath!;
  checkKerasSupport(parseKerasJson(located.text ?? '', shown(jsonPath)), knownLayerClasses(tf), shown(jsonPath));
  const weightsPath = kerasWeightsFileFor(jsonPath);
  const weights = readPlainFile(weightsPath, MAX_H5_BYTES, shown, `${shown(jsonPath)} est une description Keras ; ses poids sont attendus dans ce fichier (model.save_weights("${basename(weightsPath)}")).`);
  (await openH5(weights, shown(weightsPath))).close();
  return [shown(jsonPath), shown(weightsPath)];
}

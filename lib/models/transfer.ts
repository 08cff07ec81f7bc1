/**
 * Transfer learning and fine-tuning: reuse the feature layers of a trained model (ours, a Keras
 * model converted with `tensorflowjs_converter`, or one served on the web such as MobileNet), freeze
 * them, put a new classification head on top, then unfreeze the last few layers to adapt them.
 */
import { fileURLToPath } from 'node:url';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../backend';
import { loadModel } from '../io/model';

/**
 * Loads a layers model from a folder or model.json path (our saves, `tensorflowjs_converter` outputs
 * and `scripts/keras_to_tfjs.py` outputs, Keras 2 or 3 alike; a file:// URL is read as that path), or from an http(s) URL.
 */
export async function loadPretrained(pathOrUrl: string): Promise<tfTypes.LayersModel> {
  const tf = loadNativeTf();
  if (/^https?:\/\//.test(pathOrUrl)) {
    try {
      return await tf.loadLayersModel(pathOrUrl);
    } catch (error) {
      throw new Error(`${pathOrUrl} : modèle impossible à télécharger ou à lire (${(error as Error).message}). Vérifiez l'adresse et la connexion.`);
    }
  }
  if (/^file:/i.test(pathOrUrl)) {
    // Not tfjs-node's own file:// loader: it would read whatever the manifest points at; ours keeps
    // the weights inside the model folder and checks their size and checksum.
    let path: string;
    try {
      path = fileURLToPath(pathOrUrl);
    } catch (error) {
      throw new Error(`${pathOrUrl} : adresse file:// invalide (${(error as Error).message}). Donnez le chemin du dossier du modèle ou de son model.json.`);
    }
    return loadModel(path);
  }
  return loadModel(pathOrUrl);
}

/** Options of `transferModel`. */
export interface TransferOptions {
  /** Last base layer kept (its name or index): the layers after it are dropped. Default: the layer before the base's output layer. */
  cutAfter?: string | number;
  /** Number of classes of the new task. */
  classCount: number;
  /** Hidden units of the new head before its softmax (none by default). */
  hiddenUnits?: number;
  /** Dropout rate before the new softmax (0 by default). */
  dropout?: number;
}

/** What `transferModel` returns: the new model and the base layers it reuses (frozen). */
export interface TransferModel {
  model: tfTypes.LayersModel;
  /** The reused layers of the base, input side first; frozen until `unfreezeLast`. */
  baseLayers: tfTypes.layers.Layer[];
  /** The layers of the new head. */
  headLayers: tfTypes.layers.Layer[];
}

function cutIndex(base: tfTypes.LayersModel, cutAfter: string | number | undefined): number {
  if (cutAfter === undefined) return base.layers.length - 2;
  if (typeof cutAfter === 'number') {
    if (!Number.isInteger(cutAfter) || cutAfter < 0 || cutAfter >= base.layers.length) {
      throw new Error(`cutAfter = ${cutAfter} : le modèle de base a ${base.layers.length} couches (indices 0 à ${base.layers.length - 1}).`);
    }
    return cutAfter;
  }
  const index = base.layers.findIndex((layer) => layer.name === cutAfter);
  if (index < 0) {
    throw new Error(`Couche « ${cutAfter} » absente du modèle de base. Couches : ${base.layers.map((layer) => layer.name).join(', ')}.`);
  }
  return index;
}

/**
 * A new model made of the base's layers up to `cutAfter` (shared, weights included, and frozen)
 * followed by a new head ending in a softmax over `classCount` classes; to compile before training.
 */
export function transferModel(base: tfTypes.LayersModel, options: TransferOptions): TransferModel {
  const tf = loadNativeTf();
  if (!Number.isInteger(options.classCount) || options.classCount < 2) {
    throw new Error(`classCount = ${options.classCount} : il faut au moins 2 classes.`);
  }
  const last = cutIndex(base, options.cutAfter);
  const baseLayers = base.layers.slice(0, last + 1).filter((layer) => layer.getClassName() !== 'InputLayer');
  for (const layer of baseLayers) layer.trainable = false;
  const headLayers: tfTypes.layers.Layer[] = [];
  let features = base.layers[last].output as tfTypes.SymbolicTensor;
  if (features.shape.length > 2) {
    // Convolution features (h, w, c) need flattening before a dense head.
    headLayers.push(tf.layers.flatten({ name: 'tete_aplatir' }));
  }
  if (options.hiddenUnits) headLayers.push(tf.layers.dense({ units: options.hiddenUnits, activation: 'relu', kernelInitializer: 'glorotUniform', name: 'tete_dense' }));
  if (options.dropout) headLayers.push(tf.layers.dropout({ rate: options.dropout, name: 'tete_dropout' }));
  headLayers.push(tf.layers.dense({ units: options.classCount, activation: 'softmax', kernelInitializer: 'glorotUniform', name: 'tete_softmax' }));
  for (const layer of headLayers) features = layer.apply(features) as tfTypes.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: features, name: `transfert_${base.name}` });
  return { model, baseLayers, headLayers };
}

/** Unfreezes the last `count` layers of the base that hold weights (fine-tuning); recompile the model afterwards. Returns their names. */
export function unfreezeLast(transfer: TransferModel, count: number): string[] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`unfreezeLast(${count}) : donnez un nombre de couches entier, 0 ou plus.`);
  const withWeights = transfer.baseLayers.filter((layer) => layer.weights.length > 0);
  const chosen = count === 0 ? [] : withWeights.slice(-count);
  for (const layer of chosen) layer.trainable = true;
  return chosen.map((layer) => layer.name);
}

/** Trainable and frozen parameter counts of a model, to show what a freeze really leaves to train. */
export function parameterCounts(model: tfTypes.LayersModel): { trainable: number; frozen: number } {
  const count = (weights: tfTypes.LayerVariable[]) => weights.reduce((sum, w) => sum + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
  return { trainable: count(model.trainableWeights), frozen: count(model.nonTrainableWeights) };
}

/**
 * Saving a model trained in TypeScript in the course's Keras 3 format, so that the Python edition
 * opens it with its own code (`model_from_json(open("modele/modele.json").read())` then
 * `load_weights("modele/modele.weights.h5")`), or with `keras.models.load_model("modele.keras")`.
 * The description is written in Keras 3's vocabulary (modules, dtype policies, an InputLayer, Keras
 * 3 tensors in a functional model's nodes), the weights in Keras 3's HDF5 layout
 * (`layers/<class in snake case>[_n]/vars/<i>`); every file is written atomically.
 */
import { renameSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { modelDir } from '../../paths';
import { writeTemporary } from '../atomic';
import { kerasWeightsLocations, type KerasLayerEntry, type KerasModelJson } from './config';
import { writeH5, type H5Tree } from './h5';
import { writeKerasArchive } from './zip';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The Keras release whose format is written (the project's .venv runs it; metadata.json names it). */
export const KERAS_FORMAT_VERSION = '3.15.1';

/** Options of `saveKerasModel`. */
export interface SaveKerasOptions {
  /** `json`: modele.json + modele.weights.h5 (the course's save, the default); `keras`: modele.keras; `both`. */
  format?: 'json' | 'keras' | 'both';
  /** File stem (default `modele`): `<stem>.json`, `<stem>.weights.h5`, `<stem>.keras`. */
  stem?: string;
}

/** What `saveKerasModel` wrote (paths of the files, by kind). */
export interface SavedKerasFiles {
  jsonPath?: string;
  weightsPath?: string;
  kerasPath?: string;
  weightsBytes: number;
}

const DTYPE_POLICY = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

/** TensorFlow.js initializer names Keras 3 spells differently. */
const INITIALIZER_NAMES: Record<string, string> = { LeCunNormal: 'LecunNormal', LeCunUniform: 'LecunUniform' };
const KERAS_INITIALIZERS = new Set(['GlorotUniform', 'GlorotNormal', 'HeNormal', 'HeUniform', 'LecunNormal', 'LecunUniform', 'Zeros', 'Ones', 'Constant', 'RandomNormal', 'RandomUniform', 'TruncatedNormal', 'VarianceScaling', 'Orthogonal', 'Identity']);
/** TensorFlow.js' `distribution: 'normal'` of VarianceScaling draws from a truncated normal, as Keras 3's `truncated_normal`. */
const DISTRIBUTIONS: Record<string, string> = { normal: 'truncated_normal', uniform: 'uniform', truncated_normal: 'truncated_normal', untruncated_normal: 'untruncated_normal' };
/** Activations written as they are (TensorFlow.js' Python names that Keras 3 computes the same way). */
const ACTIVATIONS: Record<string, string> = { linear: 'linear', relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', softmax: 'softmax', tanh: 'tanh', elu: 'elu', selu: 'selu', softplus: 'softplus', softsign: 'softsign', swish: 'silu', mish: 'mish', gelu: 'gelu', log_softmax: 'log_softmax', logSoftmax: 'log_softmax' };

/** Keys each layer class may carry (besides name, trainable, dtype), as TensorFlow.js writes them and Keras 3 reads them. */
const WEIGHT_OPTIONS = ['kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint'];
const POOLING = ['pool_size', 'strides', 'padding', 'data_format'];
const LAYER_OPTIONS: Record<string, string[]> = {
  Conv2D: ['filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'activation', 'use_bias', ...WEIGHT_OPTIONS],
  Conv1D: ['filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'activation', 'use_bias', ...WEIGHT_OPTIONS],
  Dense: ['units', 'activation', 'use_bias', ...WEIGHT_OPTIONS],
  MaxPooling2D: POOLING,
  AveragePooling2D: POOLING,
  MaxPooling1D: POOLING,
  AveragePooling1D: POOLING,
  GlobalAveragePooling2D: ['data_format', 'keepdims'],
  GlobalMaxPooling2D: ['data_format', 'keepdims'],
  Dropout: ['rate', 'noise_shape', 'seed'],
  Flatten: ['data_format'],
  Activation: ['activation'],
  Reshape: ['target_shape'],
  BatchNormalization: ['axis', 'momentum', 'epsilon', 'center', 'scale', 'beta_initializer', 'gamma_initializer', 'moving_mean_initializer', 'moving_variance_initializer', 'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint'],
  Concatenate: ['axis'],
  Add: [],
  InputLayer: [],
};

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(layer: string, what: string): Error {
  return new Error(`saveKerasModel : ${what} (couche « ${layer} ») ; le format Keras 3 écrit ici couvre les couches du cours (${Object.keys(LAYER_OPTIONS).filter((c) => c !== 'InputLayer').join(', ')}). Enregistrez ce modèle avec saveModel.`);
}

/** An initializer, regularizer or constraint of TensorFlow.js as Keras 3 writes it. */
function kerasObject(value: Json, kind: 'initializers' | 'regularizers' | 'constraints', layer: string, option: string): Json {
  if (value === null || value === undefined) return null;
  if (!isObject(value) || typeof value.class_name !== 'string') throw refuse(layer, `l'option « ${option} » n'est pas un objet { class_name, config }`);
  let className = value.class_name;
  const config: JsonObject = isObject(value.config) ? { ...value.config } : {};
  if (kind === 'initializers') {
    className = INITIALIZER_NAMES[className] ?? className;
    if (!KERAS_INITIALIZERS.has(className)) throw refuse(layer, `l'initialisation « ${value.class_name} » (${option}) n'a pas d'équivalent dans Keras 3`);
    if (className === 'VarianceScaling' && typeof config.distribution === 'string') config.distribution = DISTRIBUTIONS[config.distribution] ?? config.distribution;
  } else if (kind === 'regularizers') {
    if (className !== 'L1L2') throw refuse(layer, `la régularisation « ${className} » (${option}) n'a pas d'équivalent écrit ici`);
    config.l1 = Number(config.l1 ?? 0);
    config.l2 = Number(config.l2 ?? 0);
  } else if (!['MaxNorm', 'NonNeg', 'UnitNorm', 'MinMaxNorm'].includes(className)) {
    throw refuse(layer, `la contrainte « ${className} » (${option}) n'a pas d'équivalent écrit ici`);
  }
  return { module: `keras.${kind}`, class_name: className, config, registered_name: null };
}

/** One TensorFlow.js layer entry (from `model.toJSON`) in Keras 3's form. */
function kerasLayer(entry: JsonObject, buildShape: Json | undefined): JsonObject {
  const className = String(entry.class_name);
  const source = isObject(entry.config) ? entry.config : {};
  const name = String(source.name ?? className);
  const allowed = LAYER_OPTIONS[className];
  if (!allowed) throw refuse(name, `la couche TensorFlow.js « ${className} » n'est pas prise en charge`);
  const config: JsonObject = { name, trainable: source.trainable ?? true, dtype: DTYPE_POLICY };
  for (const [key, value] of Object.entries(source)) {
    if (['name', 'trainable', 'dtype', 'batch_input_shape', 'input_dtype'].includes(key)) continue;
    if (!allowed.includes(key)) {
      if (value === null) continue;
      throw refuse(name, `l'option « ${key} » de ${className} n'est pas prise en charge`);
    }
    if (key === 'activation') {
      const activation = ACTIVATIONS[String(value)];
      if (!activation) throw refuse(name, `l'activation « ${String(value)} » n'a pas d'équivalent identique dans Keras 3`);
      config.activation = activation;
    } else if (key.endsWith('_initializer')) config[key] = kerasObject(value, 'initializers', name, key);
    else if (key.endsWith('_regularizer')) config[key] = kerasObject(value, 'regularizers', name, key);
    else if (key.endsWith('_constraint')) config[key] = kerasObject(value, 'constraints', name, key);
    else config[key] = value;
  }
  if (className === 'Conv2D' || className === 'Conv1D') config.groups = 1;
  if (className === 'Dense') config.quantization_config = null;
  const layer: JsonObject = { module: 'keras.layers', class_name: className, config, registered_name: null };
  if (buildShape !== undefined) layer.build_config = { input_shape: buildShape };
  return layer;
}

function inputLayer(name: string, batchShape: Json): JsonObject {
  return { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: batchShape, dtype: 'float32', sparse: false, ragged: false, name, optional: false }, registered_name: null };
}

/** A layer's single shape (TensorFlow.js gives a list of shapes for multi-input layers: the first is kept). */
function shapeOf(shape: unknown): Json {
  return (Array.isArray(shape) && Array.isArray(shape[0]) ? shape[0] : shape) as Json;
}

/** A layer's input shape (`inputShape` is on TensorFlow.js layers, missing from its typings' Layer). */
function inputShapeOf(layer: tfTypes.layers.Layer): Json {
  return shapeOf((layer as unknown as { inputShape: unknown }).inputShape);
}

/** A Keras 3 tensor reference, as Keras 3 writes a functional model's node arguments. */
function kerasTensor(history: Json[], shape: Json): JsonObject {
  return { class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [history[0], history[1], history[2]] } };
}

/** The Keras 3 description of a TensorFlow.js model (Sequential or functional, course layers). */
export function kerasModelJson(model: tfTypes.LayersModel): KerasModelJson {
  const topology = model.toJSON(null, false) as unknown as JsonObject;
  const config = topology.config as JsonObject;
  const entries = (config.layers as JsonObject[]) ?? [];
  const modelInput = shapeOf(model.inputs[0]?.shape) as Json;
  if (topology.class_name === 'Sequential') {
    // A Sequential built on tf.layers.inputLayer lists it among its layers: Keras' one is written once, first.
    const explicitInput = model.layers.find((layer) => layer.getClassName() === 'InputLayer');
    const layers: JsonObject[] = [inputLayer(explicitInput?.name ?? `${model.name}_input`, modelInput)];
    model.layers.forEach((layer, i) => {
      if (layer.getClassName() === 'InputLayer') return;
      const hasWeights = layer.weights.length > 0 || layer.getClassName() === 'Flatten';
      layers.push(kerasLayer(entries[i], hasWeights ? inputShapeOf(layer) : undefined));
    });
    return { module: 'keras', class_name: 'Sequential', config: { name: model.name, trainable: true, dtype: DTYPE_POLICY, layers: layers as unknown as KerasLayerEntry[] } as KerasModelJson['config'], registered_name: null, build_config: { input_shape: modelInput } };
  }
  // Functional: each layer with its inbound nodes as Keras 3 writes them.
  const byName = new Map(model.layers.map((layer) => [layer.name, layer]));
  const layers = entries.map((entry) => {
    const layerName = String(entry.name);
    const layer = byName.get(layerName)!;
    const kerasEntry =
      entry.class_name === 'InputLayer'
        ? inputLayer(layerName, (isObject(entry.config) ? entry.config.batch_input_shape : null) ?? shapeOf(layer.outputShape))
        : kerasLayer(entry, layer.weights.length > 0 ? inputShapeOf(layer) : undefined);
    kerasEntry.name = layerName;
    const nodes = (entry.inbound_nodes as Json[][][]) ?? [];
    kerasEntry.inbound_nodes = nodes.map((node) => {
      const tensors = node.map((history) => kerasTensor(history as Json[], shapeOf(byName.get(String((history as Json[])[0]))?.outputShape)));
      return { args: tensors.length === 1 ? [tensors[0]] : [tensors], kwargs: {} };
    });
    return kerasEntry;
  });
  const single = (list: Json) => (Array.isArray(list) && list.length === 1 ? (list[0] as Json) : list);
  return {
    module: 'keras',
    class_name: 'Functional',
    config: { name: model.name, trainable: true, layers: layers as unknown as KerasLayerEntry[], input_layers: single(config.input_layers as Json), output_layers: single(config.output_layers as Json) } as unknown as KerasModelJson['config'],
    registered_name: 'Functional',
    build_config: { input_shape: null },
  };
}

/** The HDF5 tree of a model's weights in Keras 3's layout, for its Keras description. */
export function kerasWeightsTree(model: tfTypes.LayersModel, description: KerasModelJson): H5Tree {
  const groups: H5Tree['groups'] = [{ path: 'layers' }];
  const datasets: H5Tree['datasets'] = [];
  for (const location of kerasWeightsLocations(description)) {
    let layer: tfTypes.layers.Layer = model;
    for (const name of location.layerPath) layer = (layer as tfTypes.LayersModel).getLayer(name);
    groups.push({ path: location.group }, { path: `${location.group}/vars`, attributes: { name: location.layerPath[location.layerPath.length - 1] } });
    layer.getWeights().forEach((tensor, i) => {
      datasets.push({ path: `${location.group}/vars/${i}`, shape: tensor.shape as number[], values: tensor.dataSync() as Float32Array });
    });
  }
  groups.push({ path: 'vars', attributes: { name: model.name } });
  return { groups, datasets };
}

/**
 * Saves a model trained in TypeScript in the course's Keras 3 format, in `dir` (default modele/):
 * modele.json (`to_json()`'s layout) + modele.weights.h5 (`save_weights()`'s), and/or modele.keras.
 * Every file is complete on disk before it replaces the old one; the JSON is renamed last.
 */
export async function saveKerasModel(model: tfTypes.LayersModel, dir: string = modelDir(), options: SaveKerasOptions = {}): Promise<SavedKerasFiles> {
  const format = options.format ?? 'json';
  const stem = options.stem ?? 'modele';
  const description = kerasModelJson(model);
  const weights = await writeH5(kerasWeightsTree(model, description));
  const text = JSON.stringify(description);
  mkdirSync(dir, { recursive: true });
  const planned: { path: string; data: string | Uint8Array }[] = [];
  const written: SavedKerasFiles = { weightsBytes: weights.byteLength };
  if (format === 'keras' || format === 'both') {
    written.kerasPath = join(dir, `${stem}.keras`);
    const metadata = JSON.stringify({ keras_version: KERAS_FORMAT_VERSION, date_saved: new Date().toISOString().slice(0, 19).replace('T', '@'), written_by: 'analyse-image saveKerasModel (TensorFlow.js)' });
    planned.push({ path: written.kerasPath, data: await writeKerasArchive({ config: text, metadata, weights }) });
  }
  if (format === 'json' || format === 'both') {
    written.weightsPath = join(dir, `${stem}.weights.h5`);
    written.jsonPath = join(dir, `${stem}.json`);
    planned.push({ path: written.weightsPath, data: weights }, { path: written.jsonPath, data: text });
  }
  const temporaries: string[] = [];
  try {
    for (const file of planned) temporaries.push(writeTemporary(file.path, file.data));
    planned.forEach((file, i) => renameSync(temporaries[i], file.path));
  } catch (error) {
    for (const temporary of temporaries) rmSync(temporary, { force: true });
    throw error;
  }
  return written;
}

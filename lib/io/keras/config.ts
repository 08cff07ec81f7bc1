/**
 * Keras 3 model descriptions (`model.to_json()`, a `.keras`'s config.json): recognised, checked
 * against what TensorFlow.js 4 can rebuild (a layer or an option it lacks is a French error naming
 * it), rewritten for it, and mapped to the HDF5 groups where Keras 3 keeps each layer's weights.
 */
import { tfjsTopology } from '../keras3';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A Keras layer's entry in a model description. */
export interface KerasLayerEntry {
  class_name: string;
  config: JsonObject & { name?: string; layers?: KerasLayerEntry[] };
  module?: string;
  [key: string]: Json | undefined;
}

/** A Keras model description as `to_json()` writes it. */
export interface KerasModelJson {
  class_name: string;
  config: JsonObject & { name?: string; layers: KerasLayerEntry[] };
  module?: string;
  keras_version?: string;
  [key: string]: Json | undefined;
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a parsed JSON is a Keras model description (Keras 3's `to_json()`, or Keras 2's), not a TensorFlow.js model.json. */
export function isKerasModelJson(value: unknown): value is KerasModelJson {
  return isObject(value) && !('modelTopology' in value) && typeof value.class_name === 'string' && MODEL_CLASSES.has(value.class_name) && isObject(value.config) && Array.isArray(value.config.layers);
}

/** Keras' `naming.to_snake_case`: the name Keras 3 gives a layer's group in a weights file (`MaxPooling2D` -> `max_pooling2d`). */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Where one layer's variables are in a Keras 3 weights file. */
export interface KerasWeightsLocation {
  /** Names from the outer model down to the layer (one name unless models are nested). */
  readonly layerPath: string[];
  readonly className: string;
  /** The HDF5 group holding `vars/0`, `vars/1`...: `layers/conv2d`. */
  readonly group: string;
}

/**
 * Each layer's HDF5 group, as Keras 3's saving_lib names them: by class name in snake case,
 * numbered `_1`, `_2`... among same-class layers of one model, in the model's layer order (a
 * Sequential's InputLayer is not one of its layers); nested models recurse under `<group>/layers/`.
 */
export function kerasWeightsLocations(model: KerasModelJson | KerasLayerEntry, prefix = '', outer: string[] = []): KerasWeightsLocation[] {
  const layers = (model.config.layers ?? []) as KerasLayerEntry[];
  const listed = model.class_name === 'Sequential' ? layers.filter((layer) => layer.class_name !== 'InputLayer') : layers;
  const used = new Map<string, number>();
  const locations: KerasWeightsLocation[] = [];
  for (const layer of listed) {
    const base = toSnakeCase(layer.class_name);
    const seen = used.get(base);
    const unique = seen === undefined ? base : `${base}_${seen + 1}`;
    used.set(base, seen === undefined ? 0 : seen + 1);
    const group = `${prefix}layers/${unique}`;
    const layerPath = [...outer, String(layer.config?.name ?? unique)];
    if (MODEL_CLASSES.has(layer.class_name) && Array.isArray(layer.config?.layers)) locations.push(...kerasWeightsLocations(layer, `${group}/`, layerPath));
    else locations.push({ layerPath, className: layer.class_name, group });
  }
  return locations;
}

/** Keras activations TensorFlow.js computes the same way, with its name for each. */
const ACTIVATIONS: Record<string, string> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  sigmoid: 'sigmoid',
  softmax: 'softmax',
  tanh: 'tanh',
  elu: 'elu',
  selu: 'selu',
  softplus: 'softplus',
  softsign: 'softsign',
  swish: 'swish',
  silu: 'swish',
  mish: 'mish',
  gelu: 'gelu',
  log_softmax: 'logSoftmax',
};

/** Options whose Keras 3 value must be the neutral one, because TensorFlow.js has no such option. */
const NEUTRAL_OPTIONS: { option: string; neutral: Json[]; what: string }[] = [
  { option: 'groups', neutral: [1, null], what: 'les convolutions groupées' },
  { option: 'quantization_config', neutral: [null], what: 'la quantification de Keras' },
  { option: 'lora_rank', neutral: [null, 0], what: 'LoRA' },
  { option: 'renorm', neutral: [false, null], what: 'la renormalisation de lot (renorm)' },
  { option: 'sparse', neutral: [false, null], what: 'les tenseurs creux' },
  { option: 'ragged', neutral: [false, null], what: 'les tenseurs irréguliers (ragged)' },
  { option: 'optional', neutral: [false, null], what: 'les entrées facultatives' },
];

/** Layer classes whose options below TensorFlow.js also lacks, beyond NEUTRAL_OPTIONS. */
const CLASS_OPTIONS: Record<string, { option: string; neutral: Json[] }[]> = {
  ReLU: [
    { option: 'negative_slope', neutral: [0, null] },
    { option: 'threshold', neutral: [0, null] },
  ],
  Dropout: [{ option: 'noise_shape', neutral: [null] }],
};

function describeLayer(layer: KerasLayerEntry): string {
  const name = typeof layer.config?.name === 'string' ? ` « ${layer.config.name} »` : '';
  return `la couche${name} (${layer.class_name})`;
}

function dtypeName(dtype: Json | undefined): string | undefined {
  if (typeof dtype === 'string') return dtype;
  if (isObject(dtype) && isObject(dtype.config) && typeof dtype.config.name === 'string') return dtype.config.name;
  return undefined;
}

/**
 * Checks every layer of a Keras description (nested models too) against TensorFlow.js' registry
 * (`known`: its layer class names) and the options it lacks; throws a French error naming the
 * first layer or option it cannot rebuild. `name` is the description's file as the user knows it.
 */
export function checkKerasSupport(model: KerasModelJson, known: ReadonlySet<string>, name: string): void {
  const unsupported = (what: string) => new Error(`${name} : ${what}. Modifiez le modèle dans le notebook Python, ou gardez Keras pour l'utiliser.`);
  const visit = (layer: KerasLayerEntry) => {
    if (!isObject(layer) || typeof layer.class_name !== 'string' || !isObject(layer.config)) throw new Error(`${name} : une couche du modèle n'a pas de « class_name » et de « config » (description Keras mal formée).`);
    if (typeof layer.registered_name === 'string' && layer.registered_name !== layer.class_name && !layer.registered_name.startsWith('keras')) {
      throw unsupported(`${describeLayer(layer)} est une couche personnalisée (« ${layer.registered_name} ») : TensorFlow.js ne connaît que les couches standard de Keras`);
    }
    if (MODEL_CLASSES.has(layer.class_name) && Array.isArray(layer.config.layers)) {
      for (const inner of layer.config.layers as KerasLayerEntry[]) visit(inner);
      return;
    }
    if (!known.has(layer.class_name)) throw unsupported(`${describeLayer(layer)} : la couche Keras « ${layer.class_name} » n'existe pas dans TensorFlow.js`);
    const dtype = dtypeName(layer.config.dtype);
    if (dtype && dtype !== 'float32') throw unsupported(`${describeLayer(layer)} calcule en « ${dtype} » (politique de précision) : TensorFlow.js ne calcule qu'en float32`);
    for (const { option, neutral, what } of NEUTRAL_OPTIONS) {
      if (option in layer.config && !neutral.some((value) => JSON.stringify(value) === JSON.stringify(layer.config[option]))) {
        throw unsupported(`${describeLayer(layer)} utilise l'option Keras « ${option} » = ${JSON.stringify(layer.config[option])}${what ? ` (${what})` : ''}, que TensorFlow.js n'a pas`);
      }
    }
    for (const { option, neutral } of CLASS_OPTIONS[layer.class_name] ?? []) {
      if (option in layer.config && !neutral.some((value) => JSON.stringify(value) === JSON.stringify(layer.config[option]))) {
        throw unsupported(`${describeLayer(layer)} utilise l'option Keras « ${option} » = ${JSON.stringify(layer.config[option])}, que TensorFlow.js n'a pas pour cette couche`);
      }
    }
    const activation = layer.config.activation;
    if (activation !== undefined && activation !== null) {
      const named = typeof activation === 'string' ? activation : isObject(activation) && typeof activation.config === 'string' ? activation.config : undefined;
      if (named === undefined || !(named in ACTIVATIONS)) {
        throw unsupported(`${describeLayer(layer)} utilise l'activation Keras « ${named ?? JSON.stringify(activation)} », que TensorFlow.js ne calcule pas de la même façon (ou pas du tout)`);
      }
    }
  };
  for (const layer of model.config.layers) visit(layer);
}

/** A checked Keras description rewritten for `tf.models.modelFromJSON`: Keras 3 vocabulary made Keras 2's, activations and options renamed. */
export function tfjsModelTopology(model: KerasModelJson): unknown {
  const rewrite = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!isObject(value)) return value;
    const out: JsonObject = {};
    for (const [key, inner] of Object.entries(value)) out[key] = rewrite(inner);
    if (typeof value.class_name === 'string' && isObject(value.config)) {
      const config = out.config as JsonObject;
      const activation = config.activation;
      if (typeof activation === 'string' && ACTIVATIONS[activation]) config.activation = ACTIVATIONS[activation];
      else if (isObject(activation) && typeof activation.config === 'string' && ACTIVATIONS[activation.config]) config.activation = ACTIVATIONS[activation.config];
      // Keras 3's LeakyReLU says negative_slope where TensorFlow.js (and Keras 2) say alpha.
      if (value.class_name === 'LeakyReLU' && 'negative_slope' in config) {
        config.alpha = config.negative_slope;
        delete config.negative_slope;
      }
      // Keys of Keras 3 that TensorFlow.js neither needs nor knows (checked neutral above).
      for (const key of ['groups', 'quantization_config', 'lora_rank', 'lora_alpha', 'renorm', 'renorm_clipping', 'renorm_momentum', 'synchronized', 'optional', 'sparse', 'ragged']) delete config[key];
    }
    return out;
  };
  const { class_name, config } = model;
  return { class_name: class_name === 'Model' ? 'Functional' : class_name, config: tfjsTopology(rewrite(config as Json)) as Json };
}

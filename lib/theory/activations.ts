/**
 * A trained model seen from inside: every layer's output for one image (the feature maps of the
 * convolutions and poolings, the dense layers' activations, the probabilities), the learned
 * filters, and the class names that go with the model's outputs. Shared by the theory notebook and
 * the web app's "Dans le réseau" page.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { DIGIT_CLASSES, FASHION_CLASSES } from '../data/classes';

/** What a layer does, as the course names it. */
export type LayerKind = 'convolution' | 'pooling' | 'dense' | 'flatten' | 'dropout' | 'normalization' | 'other';

/** One layer's output for one image (the batch dimension removed). */
export interface LayerActivation {
  /** The layer's name in the model (conv2d_Conv2D1...). */
  readonly name: string;
  /** TensorFlow.js class name (Conv2D, MaxPooling2D, Dense...). */
  readonly className: string;
  readonly kind: LayerKind;
  /** Output shape without the batch: [height, width, channels] for maps, [units] for vectors. */
  readonly shape: number[];
  /** The values, row-major with the channels last (as TensorFlow stores them). */
  readonly values: Float32Array;
  /** The layer's activation function when it has one (relu, softmax...). */
  readonly activation?: string;
}

/** The kind of a layer from its TensorFlow.js class name. */
export function layerKind(className: string): LayerKind {
  if (/^(Conv2D|DepthwiseConv2D|SeparableConv2D)$/.test(className)) return 'convolution';
  if (/Pooling2D$/.test(className)) return 'pooling';
  if (className === 'Dense') return 'dense';
  if (className === 'Flatten') return 'flatten';
  if (/Dropout$/.test(className)) return 'dropout';
  if (/Normalization$/.test(className)) return 'normalization';
  return 'other';
}

/** French name of a kind of layer, for captions and pages. */
export const LAYER_KIND_FR: Readonly<Record<LayerKind, string>> = {
  convolution: 'Convolution',
  pooling: 'Pooling',
  dense: 'Couche dense',
  flatten: 'Mise à plat',
  dropout: 'Dropout',
  normalization: 'Normalisation',
  other: 'Couche',
};

type Tf = typeof tfTypes;

const probes = new WeakMap<tfTypes.LayersModel, { model: tfTypes.LayersModel; layers: tfTypes.layers.Layer[] }>();

/** The model with one output per layer (input layer left out), built once per model. */
function probeOf(tf: Tf, model: tfTypes.LayersModel): { model: tfTypes.LayersModel; layers: tfTypes.layers.Layer[] } {
  let probe = probes.get(model);
  if (!probe) {
    const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
    try {
      probe = { model: tf.model({ inputs: model.inputs, outputs: layers.map((layer) => layer.output as tfTypes.SymbolicTensor) }), layers };
    } catch (error) {
      throw new Error(`Impossible de lire les couches de ce modèle une à une (${(error as Error).message}) : il faut un modèle séquentiel simple, comme celui du cours.`);
    }
    probes.set(model, probe);
  }
  return probe;
}

/**
 * Every layer's output for one 28 x 28 x 1 image (`input`: 784 values in [0, 1], or a tensor
 * [1, 28, 28, 1]), in the model's order; dropout is inactive, as in any prediction.
 */
export function layerActivations(tf: Tf, model: tfTypes.LayersModel, input: ArrayLike<number> | tfTypes.Tensor): LayerActivation[] {
  const probe = probeOf(tf, model);
  const shape = model.inputs[0].shape.slice(1) as number[];
  const outputs = tf.tidy(() => {
    const x = input instanceof tf.Tensor ? input : tf.tensor(Float32Array.from(input as ArrayLike<number>), [1, ...shape]);
    const result = probe.model.predict(x);
    return (Array.isArray(result) ? result : [result]).map((tensor) => tf.keep(tensor));
  });
  try {
    return probe.layers.map((layer, i) => {
      const config = layer.getConfig() as { activation?: string };
      return {
        name: layer.name,
        className: layer.getClassName(),
        kind: layerKind(layer.getClassName()),
        shape: outputs[i].shape.slice(1),
        values: outputs[i].dataSync() as Float32Array,
        ...(typeof config.activation === 'string' && config.activation !== 'linear' ? { activation: config.activation } : {}),
      };
    });
  } finally {
    tf.dispose(outputs);
  }
}

/** A convolution's learned filters for one input channel: `filters[k]` is filter k+1 as rows of numbers, plus its bias. */
export interface LearnedFilters {
  readonly layer: string;
  readonly size: [number, number];
  readonly filters: number[][][];
  readonly biases: number[];
}

/** The filters of the model's first convolution (or of the convolution named `layerName`), for input channel `channel`. */
export function learnedFilters(model: tfTypes.LayersModel, layerName?: string, channel = 0): LearnedFilters {
  const layer = model.layers.find((candidate) => (layerName ? candidate.name === layerName : layerKind(candidate.getClassName()) === 'convolution'));
  if (!layer) throw new Error(layerName ? `Pas de couche « ${layerName} » dans ce modèle.` : "Ce modèle n'a pas de couche de convolution.");
  const [kernel, bias] = layer.getWeights();
  const [height, width, channels, count] = kernel.shape as number[];
  if (channel >= channels) throw new RangeError(`the layer has ${channels} input channels, asked for channel ${channel}`);
  const values = kernel.dataSync();
  const filters = Array.from({ length: count }, (_, k) =>
    Array.from({ length: height }, (_, r) => Array.from({ length: width }, (_, c) => values[((r * width + c) * channels + channel) * count + k])),
  );
  return { layer: layer.name, size: [height, width], filters, biases: bias ? Array.from(bias.dataSync()) : new Array(count).fill(0) };
}

/** Channel `channel` of a [height, width, channels] activation, as a flat row-major array. */
export function featureMap(activation: LayerActivation, channel: number): Float32Array {
  const [height, width, channels] = activation.shape;
  if (activation.shape.length !== 3) throw new RangeError(`${activation.name} is not a stack of feature maps (shape [${activation.shape.join(', ')}])`);
  const out = new Float32Array(height * width);
  for (let i = 0; i < out.length; i++) out[i] = activation.values[i * channels + channel];
  return out;
}

/** Where a model's class names come from. */
export type LabelsSource = 'metadata' | 'labels.json' | 'architecture' | 'default';

/** The class names of a model's outputs and how they were found. */
export interface ModelLabels {
  readonly labels: readonly string[];
  readonly source: LabelsSource;
  /** What the model classifies: garments (Fashion-MNIST), digits (MNIST), or something else. */
  readonly dataset: 'fashion' | 'digits' | 'other';
}

function datasetOf(labels: readonly string[]): ModelLabels['dataset'] {
  if (labels.length === 10 && labels.every((label, i) => label === DIGIT_CLASSES[i])) return 'digits';
  if (labels.length === 10 && labels.every((label, i) => label === FASHION_CLASSES[i])) return 'fashion';
  return 'other';
}

function stringList(value: unknown, count: number): string[] | undefined {
  return Array.isArray(value) && value.length === count && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
}

/** Whether the model is the MNIST digits CNN of tutorial 004 (two 5 x 5 convolutions of 32 and 64 filters, then softmax). */
function isDigitsArchitecture(model: tfTypes.LayersModel): boolean {
  const convolutions = model.layers.filter((layer) => layerKind(layer.getClassName()) === 'convolution').map((layer) => layer.getConfig() as { filters?: number; kernelSize?: number | number[] });
  const dense = model.layers.filter((layer) => layer.getClassName() === 'Dense');
  const kernel = (config: { kernelSize?: number | number[] }) => (Array.isArray(config.kernelSize) ? config.kernelSize[0] : config.kernelSize);
  return convolutions.length === 2 && convolutions.every((config) => kernel(config) === 5) && convolutions[0].filters === 32 && convolutions[1].filters === 64 && dense.length === 1;
}

/**
 * The class names of a model's outputs: `labels` (or `classNames`) in the model's metadata
 * (model.setUserDefinedMetadata before saving), else a `labels.json` list beside `modele.json`,
 * else the digits when the model is the MNIST tutorial's CNN, else the Fashion-MNIST classes.
 */
export function modelLabels(model: tfTypes.LayersModel, folder?: string): ModelLabels {
  const count = (model.outputs[0].shape[model.outputs[0].shape.length - 1] as number) ?? 10;
  const metadata = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  const recorded = stringList(metadata.labels, count) ?? stringList(metadata.classNames, count);
  if (recorded) return { labels: recorded, source: 'metadata', dataset: datasetOf(recorded) };
  const file = folder ? join(folder, 'labels.json') : undefined;
  if (file && existsSync(file)) {
    try {
      const listed = stringList(JSON.parse(readFileSync(file, 'utf8')), count);
      if (listed) return { labels: listed, source: 'labels.json', dataset: datasetOf(listed) };
    } catch {
      // An unreadable labels.json is ignored: the next rules still give names.
    }
  }
  if (count === 10 && isDigitsArchitecture(model)) return { labels: DIGIT_CLASSES, source: 'architecture', dataset: 'digits' };
  if (count === 10) return { labels: FASHION_CLASSES, source: 'default', dataset: 'fashion' };
  return { labels: Array.from({ length: count }, (_, i) => `classe ${i}`), source: 'default', dataset: 'other' };
}

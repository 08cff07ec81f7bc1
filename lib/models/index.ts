/**
 * Every CNN of the source documents, built by name with the course's compile settings
 * (Keras defaults made explicit where TensorFlow.js differs, e.g. Glorot-uniform kernels).
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../backend';

export * from './transfer';

/** Names of the architectures this project knows. */
export const MODEL_NAMES = ['one-conv', 'four-conv', 'baseline', 'report-cnn', 'mnist-digits'] as const;

/** One of MODEL_NAMES. */
export type ModelName = (typeof MODEL_NAMES)[number];

/** What the source documents say about a model: where it comes from and how it is trained. */
export interface ModelRecipe {
  readonly name: ModelName;
  /** French title, as shown to students. */
  readonly title: string;
  /** Source document (see shared seeds) and what it calls the model. */
  readonly source: string;
  readonly optimizer: 'adam' | 'sgd';
  readonly epochs: number;
  readonly batchSize: number;
  /** Test accuracy the source reports, when it reports one. */
  readonly publishedAccuracy?: number;
}

/** The recipes, by name. */
export const MODEL_RECIPES: Readonly<Record<ModelName, ModelRecipe>> = {
  'one-conv': {
    name: 'one-conv',
    title: 'Réseau à une couche de convolution',
    source: 'lab 001, reseauNeurone1Convolution',
    optimizer: 'adam',
    epochs: 10,
    batchSize: 256,
    publishedAccuracy: 0.9082,
  },
  'four-conv': {
    name: 'four-conv',
    title: 'Réseau à quatre couches de convolution',
    source: 'lab 001, reseauNeurones4Convolution',
    optimizer: 'adam',
    epochs: 10,
    batchSize: 256,
    publishedAccuracy: 0.9302,
  },
  baseline: {
    name: 'baseline',
    title: 'Modèle de base (freeCodeCamp)',
    source: 'tutorial 000, baseline_model',
    optimizer: 'sgd',
    epochs: 5,
    batchSize: 256,
  },
  'report-cnn': {
    name: 'report-cnn',
    title: 'CNN du rapport (2 x 2 convolutions + normalisation)',
    source: 'report 002, cnn_model (its compile settings are not legible: Adam, as in the lab)',
    optimizer: 'adam',
    epochs: 10,
    batchSize: 256,
  },
  'mnist-digits': {
    name: 'mnist-digits',
    title: 'CNN des chiffres manuscrits (MNIST)',
    source: 'tutorial 004',
    optimizer: 'sgd',
    epochs: 5,
    batchSize: 100,
  },
};

/** Shape of one input image: 28 x 28 pixels, one grey channel. */
export const INPUT_SHAPE: [number, number, number] = [28, 28, 1];

type Tf = typeof tfTypes;
type Layers = Tf['layers'];

// Keras initialises kernels with Glorot-uniform; TensorFlow.js defaults to Glorot-normal.
const KERAS_KERNEL = { kernelInitializer: 'glorotUniform' } as const;

function conv(layers: Layers, filters: number, kernel: number, extra: { padding?: 'same' | 'valid' } = {}) {
  return layers.conv2d({ filters, kernelSize: kernel, activation: 'relu', ...KERAS_KERNEL, ...extra });
}

function dense(layers: Layers, units: number, activation: 'relu' | 'softmax') {
  return layers.dense({ units, activation, ...KERAS_KERNEL });
}

const BUILDERS: Record<ModelName, (tf: Tf) => tfTypes.Sequential> = {
  'one-conv': (tf) =>
    tf.sequential({
      layers: [
        tf.layers.inputLayer({ inputShape: INPUT_SHAPE }),
        conv(tf.layers, 32, 3),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.dropout({ rate: 0.2 }),
        tf.layers.flatten(),
        dense(tf.layers, 128, 'relu'),
        dense(tf.layers, 10, 'softmax'),
      ],
    }),
  'four-conv': (tf) =>
    tf.sequential({
      layers: [
        tf.layers.inputLayer({ inputShape: INPUT_SHAPE }),
        conv(tf.layers, 32, 3),
        tf.layers.batchNormalization(),
        conv(tf.layers, 32, 3),
        tf.layers.batchNormalization(),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.dropout({ rate: 0.25 }),
        conv(tf.layers, 64, 3),
        tf.layers.batchNormalization(),
        tf.layers.dropout({ rate: 0.25 }),
        conv(tf.layers, 128, 3),
        tf.layers.batchNormalization(),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.flatten(),
        dense(tf.layers, 512, 'relu'),
        tf.layers.batchNormalization(),
        tf.layers.dropout({ rate: 0.5 }),
        dense(tf.layers, 128, 'relu'),
        tf.layers.batchNormalization(),
        tf.layers.dropout({ rate: 0.5 }),
        dense(tf.layers, 10, 'softmax'),
      ],
    }),
  baseline: (tf) =>
    tf.sequential({
      layers: [
        tf.layers.batchNormalization({ inputShape: INPUT_SHAPE }),
        conv(tf.layers, 32, 3, { padding: 'same' }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.batchNormalization(),
        conv(tf.layers, 32, 3, { padding: 'same' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.flatten(),
        dense(tf.layers, 128, 'relu'),
        tf.layers.dropout({ rate: 0.5 }),
        dense(tf.layers, 10, 'softmax'),
      ],
    }),
  'report-cnn': (tf) =>
    tf.sequential({
      layers: [
        tf.layers.inputLayer({ inputShape: INPUT_SHAPE }),
        conv(tf.layers, 32, 3, { padding: 'same' }),
        tf.layers.batchNormalization(),
        conv(tf.layers, 32, 3, { padding: 'same' }),
        tf.layers.batchNormalization(),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.dropout({ rate: 0.2 }),
        conv(tf.layers, 64, 3, { padding: 'same' }),
        tf.layers.batchNormalization(),
        conv(tf.layers, 64, 3, { padding: 'same' }),
        tf.layers.batchNormalization(),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.dropout({ rate: 0.2 }),
        tf.layers.flatten(),
        dense(tf.layers, 128, 'relu'),
        tf.layers.dropout({ rate: 0.2 }),
        dense(tf.layers, 10, 'softmax'),
      ],
    }),
  'mnist-digits': (tf) =>
    tf.sequential({
      layers: [
        tf.layers.inputLayer({ inputShape: INPUT_SHAPE }),
        conv(tf.layers, 32, 5),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        conv(tf.layers, 64, 5),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        dense(tf.layers, 10, 'softmax'),
      ],
    }),
};

/** The optimizer a recipe names, with Keras' default settings (Adam lr 0.001, SGD lr 0.01). */
export function courseOptimizer(kind: ModelRecipe['optimizer']): tfTypes.Optimizer {
  const tf = loadNativeTf();
  return kind === 'adam' ? tf.train.adam(0.001, 0.9, 0.999, 1e-7) : tf.train.sgd(0.01);
}

/** Compiles a model as the course does: categorical cross-entropy, accuracy, and the recipe's optimizer. */
export function compileAsCourse(model: tfTypes.LayersModel, optimizer: ModelRecipe['optimizer']): void {
  model.compile({ loss: 'categoricalCrossentropy', optimizer: courseOptimizer(optimizer), metrics: ['accuracy'] });
}

/** Builds and compiles the named architecture with its course settings. */
export function buildModel(name: ModelName): tfTypes.Sequential {
  const builder = BUILDERS[name];
  if (!builder) {
    throw new Error(`Unknown model "${name}". Known models: ${MODEL_NAMES.join(', ')}.`);
  }
  const model = builder(loadNativeTf());
  compileAsCourse(model, MODEL_RECIPES[name].optimizer);
  return model;
}

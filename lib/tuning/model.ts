/**
 * The tunable CNN: the lab's one-convolution network (conv → max pooling → dropout → flatten →
 * dense → softmax) whose filters, dense units, dropout, learning rate and loss come from a
 * configuration of the search space.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../backend';
import { INPUT_SHAPE } from '../models';

/** Losses the tunable CNN accepts (TensorFlow.js names); Keras' `kl_divergence` is the last one. */
export const TUNING_LOSSES = ['categoricalCrossentropy', 'meanSquaredError', 'kullbackLeiblerDivergence'] as const;

/** One of TUNING_LOSSES. */
export type TuningLoss = (typeof TUNING_LOSSES)[number];

/** A configuration of the tunable CNN. */
export interface CnnConfig {
  /** Filters of the 3 x 3 convolution. */
  filters: number;
  /** Neurons of the hidden dense layer. */
  units: number;
  /** Dropout rate after the pooling, in [0, 1). */
  dropout: number;
  /** Adam's learning rate. */
  learningRate: number;
  /** Loss the model is compiled with. */
  loss: TuningLoss;
}

/** The lab's own one-convolution model as a configuration (the baseline the search tries to beat). */
export const LAB_CONFIG: Readonly<CnnConfig> = { filters: 32, units: 128, dropout: 0.2, learningRate: 0.001, loss: 'categoricalCrossentropy' };

// Keras initialises kernels with Glorot-uniform; TensorFlow.js defaults to Glorot-normal.
const KERAS_KERNEL = { kernelInitializer: 'glorotUniform' } as const;

/** Checks a configuration before building; throws a French error naming the faulty value. */
export function validateCnnConfig(config: CnnConfig): void {
  if (!config || typeof config !== 'object') throw new Error('Configuration absente : il faut filters, units, dropout, learningRate et loss.');
  const positiveInteger = (name: keyof CnnConfig, label: string) => {
    const value = config[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new Error(`Configuration : ${label} (${name}) doit être un entier positif, reçu ${String(value)}.`);
  };
  positiveInteger('filters', 'le nombre de filtres');
  positiveInteger('units', 'le nombre de neurones');
  if (typeof config.dropout !== 'number' || !(config.dropout >= 0 && config.dropout < 1)) {
    throw new Error(`Configuration : le taux de dropout doit être entre 0 (inclus) et 1 (exclu), reçu ${String(config.dropout)}.`);
  }
  if (typeof config.learningRate !== 'number' || !(config.learningRate > 0 && Number.isFinite(config.learningRate))) {
    throw new Error(`Configuration : le taux d'apprentissage (learningRate) doit être strictement positif, reçu ${String(config.learningRate)}.`);
  }
  if (!(TUNING_LOSSES as readonly string[]).includes(config.loss)) {
    throw new Error(`Configuration : fonction de perte « ${String(config.loss)} » inconnue ; choisissez parmi ${TUNING_LOSSES.join(', ')}.`);
  }
}

/** Builds and compiles the tunable CNN: Adam(learningRate) with Keras' other defaults, the chosen loss, accuracy. */
export function buildTuningModel(config: CnnConfig): tfTypes.Sequential {
  validateCnnConfig(config);
  const tf = loadNativeTf();
  const model = tf.sequential({
    layers: [
      tf.layers.inputLayer({ inputShape: INPUT_SHAPE }),
      tf.layers.conv2d({ filters: config.filters, kernelSize: 3, activation: 'relu', ...KERAS_KERNEL }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.dropout({ rate: config.dropout }),
      tf.layers.flatten(),
      tf.layers.dense({ units: config.units, activation: 'relu', ...KERAS_KERNEL }),
      tf.layers.dense({ units: 10, activation: 'softmax', ...KERAS_KERNEL }),
    ],
  });
  // Keras' Adam epsilon is 1e-7 (TensorFlow.js would pick its backend's own).
  model.compile({ loss: config.loss, optimizer: tf.train.adam(config.learningRate, 0.9, 0.999, 1e-7), metrics: ['accuracy'] });
  return model;
}

/**
 * Training and evaluation as the course does them (fit with validation, evaluate on the test set),
 * with a live progress display and a Keras-like history.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../backend';
import { ProgressPrinter } from './progress';

export * from './progress';
export * from './early-stopping';
export * from './compare';

/** Per-epoch metrics with Keras' names: loss, accuracy, val_loss, val_accuracy, and epoch times when measured. */
export interface TrainingHistory {
  loss: number[];
  accuracy: number[];
  val_loss: number[];
  val_accuracy: number[];
  /** Wall time of each epoch, in seconds. */
  epochSeconds: number[];
}

/** Options of `train`, as in Keras' fit. */
export interface TrainOptions {
  epochs: number;
  batchSize: number;
  validationData?: [tfTypes.Tensor, tfTypes.Tensor];
  /** Progress display: true (default) prints Keras-like lines. */
  verbose?: boolean;
  /** Shuffle the training rows each epoch (Keras' default: true). */
  shuffle?: boolean;
}

/** Trains like Keras' `model.fit(x, y, batch_size, epochs, validation_data)` and returns the history with epoch times. */
export async function train(model: tfTypes.LayersModel, xs: tfTypes.Tensor, ys: tfTypes.Tensor, options: TrainOptions): Promise<TrainingHistory> {
  const tf = loadNativeTf();
  const epochSeconds: number[] = [];
  let epochStarted = 0;
  const timer = new tf.CustomCallback({
    onEpochBegin: async () => void (epochStarted = Date.now()),
    onEpochEnd: async () => void epochSeconds.push((Date.now() - epochStarted) / 1000),
  });
  const fitted = await model.fit(xs, ys, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    validationData: options.validationData,
    shuffle: options.shuffle ?? true,
    verbose: 0,
    callbacks: options.verbose === false ? [timer] : [timer, progressDisplay()],
  });
  return { ...kerasHistory(fitted), epochSeconds };
}

/** A Keras-like progress display to pass to `model.fit` / `model.fitDataset` as a callback. */
export function progressDisplay(): tfTypes.CustomCallback {
  const tf = loadNativeTf();
  let printer: ProgressPrinter | undefined;
  return new tf.CustomCallback({
    onTrainBegin: async function (this: tfTypes.CustomCallback) {
      const params = this.params as { epochs?: number; samples?: number; batchSize?: number; steps?: number };
      const batches = params.steps ?? Math.ceil((params.samples ?? 0) / (params.batchSize ?? 32));
      printer = new ProgressPrinter(params.epochs ?? 1, batches);
    },
    onEpochBegin: async (epoch) => printer?.epochBegin(epoch),
    onBatchEnd: async (batch, logs) => printer?.batchEnd(batch, logs ?? {}),
    onEpochEnd: async (_epoch, logs) => printer?.epochEnd(logs ?? {}),
  });
}

/** The history of a tfjs `fit` with Keras' metric names (accuracy, val_accuracy) instead of tfjs' (acc, val_acc). */
export function kerasHistory(history: tfTypes.History): TrainingHistory {
  const values = (...names: string[]) => (names.map((n) => history.history[n]).find((v) => v !== undefined) ?? []).map(Number);
  return {
    loss: values('loss'),
    accuracy: values('acc', 'accuracy'),
    val_loss: values('val_loss'),
    val_accuracy: values('val_acc', 'val_accuracy'),
    epochSeconds: [],
  };
}

/** Test-set loss and accuracy, as Keras' `evaluate` returns them: [Erreur, Précision]. */
export interface Evaluation {
  loss: number;
  accuracy: number;
}

/** Evaluates a compiled model (loss + accuracy) on a whole set, in batches. */
export async function evaluate(model: tfTypes.LayersModel, xs: tfTypes.Tensor, ys: tfTypes.Tensor, batchSize = 256): Promise<Evaluation> {
  const result = model.evaluate(xs, ys, { batchSize }) as tfTypes.Scalar[];
  const [loss, accuracy] = await Promise.all(result.map((t) => t.data()));
  loadNativeTf().dispose(result);
  return { loss: loss[0], accuracy: accuracy[0] };
}

/** Predicted class index of each image. */
export async function predictClasses(model: tfTypes.LayersModel, xs: tfTypes.Tensor, batchSize = 256): Promise<Int32Array> {
  const tf = loadNativeTf();
  const classes = tf.tidy(() => (model.predict(xs, { batchSize }) as tfTypes.Tensor).argMax(-1));
  const values = (await classes.data()) as Int32Array;
  classes.dispose();
  return values;
}

/** Confusion matrix: rows are the true classes, columns the predicted ones. */
export function confusionMatrix(trueLabels: ArrayLike<number>, predicted: ArrayLike<number>, classCount = 10): number[][] {
  if (trueLabels.length !== predicted.length) {
    throw new Error(`confusionMatrix: ${trueLabels.length} true labels but ${predicted.length} predictions.`);
  }
  const matrix = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  for (let i = 0; i < trueLabels.length; i++) matrix[trueLabels[i]][predicted[i]]++;
  return matrix;
}

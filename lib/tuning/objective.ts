/** The real objective: trains the tunable CNN on given tensors and scores it on the validation set. */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { evaluate, train } from '../train';
import { buildTuningModel, type CnnConfig } from './model';
import type { Objective } from './search';

/** The tensors a search trains and validates on. */
export interface TuningData {
  /** Training images [n, 28, 28, 1]. */
  xs: tfTypes.Tensor;
  /** One-hot training labels [n, 10]. */
  ys: tfTypes.Tensor;
  /** Validation images and one-hot labels: the score is the accuracy on them. */
  validationData: [tfTypes.Tensor, tfTypes.Tensor];
}

/** Options of `trainingObjective`. */
export interface TrainingObjectiveOptions {
  /** Images per batch (default 256, the lab's). */
  batchSize?: number;
  /**
   * Successive halving: a survivor goes on from the model of its previous rung instead of starting
   * over (default true), as Keras Tuner's Hyperband does; false retrains from scratch.
   */
  resume?: boolean;
}

/** An objective that builds the configuration's CNN, trains it and returns its validation accuracy and loss. */
export function trainingObjective(data: TuningData, options: TrainingObjectiveOptions = {}): Objective<CnnConfig> {
  const batchSize = options.batchSize ?? 256;
  const resume = options.resume ?? true;
  return async (config, epochs, context) => {
    const previous = resume ? context?.previous : undefined;
    const resumed = previous?.model;
    const model: tfTypes.LayersModel = resumed ?? buildTuningModel(config);
    const remaining = epochs - (resumed && previous ? previous.epochs : 0);
    const started = Date.now();
    if (remaining > 0) {
      const history = await train(model, data.xs, data.ys, { epochs: remaining, batchSize, validationData: data.validationData, verbose: false });
      const last = history.val_accuracy.length - 1;
      return { score: history.val_accuracy[last], loss: history.val_loss[last], seconds: (Date.now() - started) / 1000, model };
    }
    // Nothing left to train (a budget already reached): just score the model again.
    const scored = await evaluate(model, data.validationData[0], data.validationData[1], batchSize);
    return { score: scored.accuracy, loss: scored.loss, seconds: (Date.now() - started) / 1000, model };
  };
}

/**
 * Keras' EarlyStopping for TensorFlow.js, with `restoreBestWeights` (tfjs' own
 * `tf.callbacks.earlyStopping` cannot restore weights).
 *
 * Behaviour follows Keras 3 (keras/src/callbacks/early_stopping.py):
 * - an epoch improves when it beats the best value so far by more than `minDelta`;
 * - training stops once `patience` epochs in a row did not improve (never at the first epoch);
 * - with a `baseline`, an improvement that does not also beat the baseline does not reset the
 *   patience count: while no epoch beats the baseline, the first epoch without improvement
 *   after `patience` epochs stops the training;
 * - with `restoreBestWeights`, the best epoch's weights are put back when training ends, whether
 *   it stopped early or ran all its epochs. (Keras 2 restored them only when it stopped early;
 *   Keras 3 changed this, and restoring in both cases is what a student expects from the name.)
 * The decisions live in `ImprovementTracker`, a pure class; the callback only copies weights.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../backend';
import { PALETTE, type Figure, type ScatterTrace } from '../plot/figures';

/** Which way the monitored value should go to count as better. */
export type ImprovementDirection = 'min' | 'max';

/** 'auto' infers the direction from the monitored name (losses go down, accuracies go up). */
export type EarlyStoppingMode = 'auto' | ImprovementDirection;

/** Settings of an `ImprovementTracker`. */
export interface TrackerOptions {
  /** Epochs without improvement tolerated before stopping. */
  patience: number;
  direction: ImprovementDirection;
  /** Smallest change that counts as an improvement (its sign is ignored, as in Keras). */
  minDelta?: number;
  /** A value the monitored quantity must beat for its improvements to reset the patience count. */
  baseline?: number;
}

/** What the tracker decided at the end of one epoch. */
export interface TrackerDecision {
  improved: boolean;
  stop: boolean;
}

/** Early stopping's decision logic, without tensors: feed it one value per epoch. */
export class ImprovementTracker {
  /** Best value seen so far (undefined before the first improvement). */
  bestValue: number | undefined;
  /** Epoch (0-based) of the best value. */
  bestEpoch: number | undefined;
  /** Epochs since the patience count was last reset. */
  wait = 0;
  /** Epoch (0-based) at which the tracker asked to stop, if it did. */
  stoppedEpoch: number | undefined;

  private readonly minDelta: number;

  constructor(readonly options: TrackerOptions) {
    if (!(options.patience >= 0)) throw new Error(`Arrêt précoce : la patience doit être un entier positif ou nul (reçu ${options.patience}).`);
    this.minDelta = Math.abs(options.minDelta ?? 0);
  }

  /** Forgets everything, so that one callback can serve several trainings (as Keras' on_train_begin does). */
  reset(): void {
    this.bestValue = undefined;
    this.bestEpoch = undefined;
    this.wait = 0;
    this.stoppedEpoch = undefined;
  }

  /** Whether `value` beats `reference` by more than minDelta; NaN never does, anything beats no reference. */
  isImprovement(value: number, reference: number | undefined): boolean {
    if (Number.isNaN(value)) return false;
    if (reference === undefined) return true;
    return this.options.direction === 'min' ? value + this.minDelta < reference : value - this.minDelta > reference;
  }

  /** Records the value of `epoch` (0-based) and says whether it improved and whether to stop now. */
  update(epoch: number, value: number): TrackerDecision {
    this.wait++;
    if (this.isImprovement(value, this.bestValue)) {
      this.bestValue = value;
      this.bestEpoch = epoch;
      // Below the baseline an improvement is still the best so far, but it buys no more patience.
      const baseline = this.options.baseline;
      if (baseline === undefined || baseline === null || this.isImprovement(value, baseline)) this.wait = 0;
      return { improved: true, stop: false };
    }
    // Keras never stops at the first epoch, whatever the patience.
    if (this.wait >= this.options.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      return { improved: false, stop: true };
    }
    return { improved: false, stop: false };
  }
}

/** Options of `earlyStopping`, named as in Keras' EarlyStopping. */
export interface EarlyStoppingOptions {
  /** Logged quantity to watch (default 'val_loss'); 'val_accuracy' also finds tfjs' 'val_acc'. */
  monitor?: string;
  /** Epochs without improvement before stopping (default 0, as in Keras). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** 'min', 'max', or 'auto' (default): accuracies are maximised, losses minimised. */
  mode?: EarlyStoppingMode;
  /** Put back the best epoch's weights when training ends (default false). */
  restoreBestWeights?: boolean;
  /** Value the monitored quantity must beat (see `ImprovementTracker`). */
  baseline?: number;
  /** Print a French line when training stops or weights are restored (default true). */
  verbose?: boolean;
}

/** The callback `earlyStopping` returns: a tfjs callback plus what happened, readable after `fit`. */
export interface EarlyStoppingCallback extends tfTypes.CustomCallback {
  /** The decision logic and its state. */
  readonly tracker: ImprovementTracker;
  /** The monitored quantity, as asked. */
  readonly monitor: string;
  /** Epoch (0-based, as in Keras) where training was stopped; undefined if it ran all its epochs. */
  readonly stoppedEpoch: number | undefined;
  /** Epoch (0-based) with the best monitored value. */
  readonly bestEpoch: number | undefined;
  /** Best monitored value. */
  readonly bestValue: number | undefined;
  /** Epoch (0-based) whose weights were restored at the end of training; undefined if none were. */
  readonly restoredEpoch: number | undefined;
}

// tfjs names the 'accuracy' metric 'acc' in its logs; Keras code asks for 'accuracy'.
const LOG_ALIASES: Record<string, string> = { accuracy: 'acc', acc: 'accuracy', val_accuracy: 'val_acc', val_acc: 'val_accuracy' };

/** The direction to optimise `monitor` in: explicit, or inferred from its name in 'auto' mode. */
export function monitorDirection(monitor: string, mode: EarlyStoppingMode = 'auto'): ImprovementDirection {
  if (mode === 'min' || mode === 'max') return mode;
  const name = monitor.replace(/^val_/, '');
  if (/acc|auc|precision|recall/i.test(name)) return 'max';
  if (/loss|error|crossentropy|mse|mae/i.test(name)) return 'min';
  throw new Error(`Arrêt précoce : impossible de deviner s'il faut minimiser ou maximiser « ${monitor} ». Précisez mode: 'min' ou mode: 'max'.`);
}

function epochsText(count: number): string {
  return `${count} époque${count > 1 ? 's' : ''}`;
}

/** The French line printed when training ends (epochs shown 1-based, as in the progress display). */
export function earlyStoppingMessage(state: {
  monitor: string;
  stoppedEpoch: number | undefined;
  bestEpoch: number | undefined;
  bestValue: number | undefined;
  restoredEpoch: number | undefined;
  wait: number;
  baseline?: number;
}): string | undefined {
  const restored = state.restoredEpoch !== undefined ? `poids de l'époque ${state.restoredEpoch + 1} restaurés` : undefined;
  if (state.stoppedEpoch !== undefined) {
    const belowBaseline = state.baseline !== undefined && state.baseline !== null && state.wait > 0 && state.bestEpoch !== undefined && state.stoppedEpoch - state.bestEpoch < state.wait;
    const why = belowBaseline
      ? `${state.monitor} n'a pas dépassé la référence ${state.baseline} en ${epochsText(state.wait)}`
      : `${state.monitor} ne s'améliore plus depuis ${epochsText(state.wait)}`;
    const after = restored ?? (state.bestEpoch !== undefined ? `le modèle garde les poids de la dernière époque (la meilleure était la ${state.bestEpoch + 1})` : 'le modèle garde les poids de la dernière époque');
    return `Arrêt précoce à l'époque ${state.stoppedEpoch + 1} : ${why} ; ${after}.`;
  }
  if (restored) {
    const best = state.bestValue !== undefined ? ` (meilleure ${state.monitor} : ${state.bestValue.toFixed(4)})` : '';
    return `Pas d'arrêt précoce ; ${restored}${best}.`;
  }
  return undefined;
}

/**
 * Keras' `EarlyStopping(monitor, patience, min_delta, mode, restore_best_weights, baseline)` as a
 * tfjs callback for `model.fit` / `model.fitDataset`; see the file comment for the exact rules.
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): EarlyStoppingCallback {
  const tf = loadNativeTf();
  const monitor = options.monitor ?? 'val_loss';
  const tracker = new ImprovementTracker({
    patience: options.patience ?? 0,
    direction: monitorDirection(monitor, options.mode ?? 'auto'),
    minDelta: options.minDelta ?? 0,
    baseline: options.baseline,
  });
  const restore = options.restoreBestWeights === true;
  // Copies, not model.getWeights() itself: tfjs returns the live variables, which training overwrites.
  let bestWeights: tfTypes.Tensor[] | undefined;
  let bestWeightsEpoch: number | undefined;
  let restoredEpoch: number | undefined;
  let warnedMissing = false;
  let model: tfTypes.LayersModel | undefined;

  const replaceBestWeights = (source: tfTypes.LayersModel, epoch: number) => {
    const copies = tf.tidy(() => source.getWeights().map((weight) => weight.clone()));
    if (bestWeights) tf.dispose(bestWeights);
    bestWeights = copies;
    bestWeightsEpoch = epoch;
  };

  const state = () => ({ monitor, stoppedEpoch: tracker.stoppedEpoch, bestEpoch: tracker.bestEpoch, bestValue: tracker.bestValue, restoredEpoch });
  const callback = new tf.CustomCallback({
    onTrainBegin: async () => {
      tracker.reset();
      if (bestWeights) tf.dispose(bestWeights);
      bestWeights = undefined;
      bestWeightsEpoch = undefined;
      restoredEpoch = undefined;
    },
    onEpochEnd: async (epoch, logs) => {
      const values = (logs ?? {}) as Record<string, number | undefined>;
      const value = values[monitor] ?? values[LOG_ALIASES[monitor]];
      if (typeof value !== 'number') {
        if (!warnedMissing) {
          warnedMissing = true;
          const available = Object.keys(values).join(', ') || 'aucune';
          console.warn(`Arrêt précoce : « ${monitor} » n'est pas dans les mesures de l'époque (disponibles : ${available}). Pour val_loss, passez validationData à fit.`);
        }
        return;
      }
      if (!model) return;
      const decision = tracker.update(epoch, value);
      // As Keras: until an epoch improves (a NaN loss never does), the first monitored weights stand as the best.
      if (restore && (decision.improved || !bestWeights)) replaceBestWeights(model, epoch);
      if (decision.stop) model.stopTraining = true;
    },
    onTrainEnd: async () => {
      if (restore && bestWeights && model) {
        model.setWeights(bestWeights);
        restoredEpoch = bestWeightsEpoch;
        // setWeights assigned the values to the model's variables, which keep their own reference.
        tf.dispose(bestWeights);
        bestWeights = undefined;
      }
      if (options.verbose === false) return;
      const message = earlyStoppingMessage({ ...state(), wait: tracker.wait, baseline: options.baseline });
      if (message) console.log(message);
    },
  });

  // tfjs' CustomCallback ignores the model fit hands it (only tf.Callback keeps it): keep it here.
  callback.setModel = (trained) => void (model = trained as tfTypes.LayersModel);
  Object.defineProperties(callback, {
    tracker: { value: tracker, enumerable: true },
    monitor: { value: monitor, enumerable: true },
    stoppedEpoch: { get: () => tracker.stoppedEpoch, enumerable: true },
    bestEpoch: { get: () => tracker.bestEpoch, enumerable: true },
    bestValue: { get: () => tracker.bestValue, enumerable: true },
    restoredEpoch: { get: () => restoredEpoch, enumerable: true },
  });
  return callback as EarlyStoppingCallback;
}

/** Where an early-stopped training ended: the epochs `markEarlyStopping` draws (0-based, as the callback exposes them). */
export interface EarlyStoppingMarks {
  bestEpoch?: number | undefined;
  stoppedEpoch?: number | undefined;
  restoredEpoch?: number | undefined;
}

/** Training-curve figures with dashed vertical lines at the best epoch (weights kept) and at the stop. */
export function markEarlyStopping(figures: readonly Figure[], marks: EarlyStoppingMarks): Figure[] {
  return figures.map((figure) => {
    const values = figure.data.flatMap((trace) => (trace.type === 'scatter' ? trace.y : [])).filter(Number.isFinite);
    if (values.length === 0) return figure;
    const low = Math.min(...values);
    const high = Math.max(...values);
    const vertical = (epoch: number, name: string, color: string, dash: 'dash' | 'dot'): ScatterTrace => ({
      type: 'scatter',
      mode: 'lines',
      name,
      // Epochs are 1-based on the curves' x axis.
      x: [epoch + 1, epoch + 1],
      y: [low, high],
      line: { color, width: 2, dash },
      hovertemplate: `${name} : époque ${epoch + 1}<extra></extra>`,
    });
    const best = marks.restoredEpoch ?? marks.bestEpoch;
    const extra: ScatterTrace[] = [];
    if (best !== undefined && best !== null) {
      extra.push(vertical(best, marks.restoredEpoch !== undefined && marks.restoredEpoch !== null ? 'Meilleure époque (poids gardés)' : 'Meilleure époque', PALETTE[2], 'dash'));
    }
    if (marks.stoppedEpoch !== undefined && marks.stoppedEpoch !== null) extra.push(vertical(marks.stoppedEpoch, 'Arrêt', PALETTE[3], 'dot'));
    return { ...figure, data: [...figure.data, ...extra], layout: { ...figure.layout, showlegend: true, legend: figure.layout.legend ?? { orientation: 'h', x: 0, y: 1.02, xanchor: 'left', yanchor: 'bottom' } } };
  });
}

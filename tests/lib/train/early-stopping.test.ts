import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { trainingCurvesFigures } from '../../../lib/plot';
import { earlyStopping, earlyStoppingMessage, ImprovementTracker, markEarlyStopping, monitorDirection, type TrackerOptions } from '../../../lib/train';

/** Feeds a value sequence to a tracker until it asks to stop; returns the epoch it stopped at. */
function run(options: TrackerOptions, values: number[]): { tracker: ImprovementTracker; stoppedAt: number | undefined; improved: boolean[] } {
  const tracker = new ImprovementTracker(options);
  const improved: boolean[] = [];
  for (let epoch = 0; epoch < values.length; epoch++) {
    const decision = tracker.update(epoch, values[epoch]);
    improved.push(decision.improved);
    if (decision.stop) return { tracker, stoppedAt: epoch, improved };
  }
  return { tracker, stoppedAt: undefined, improved };
}

describe('ImprovementTracker (Keras 3 rules, no tensors)', () => {
  it('stops after `patience` epochs without a lower value in min mode', () => {
    const { tracker, stoppedAt, improved } = run({ patience: 3, direction: 'min' }, [1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.5, 0.4]);
    expect(improved).toEqual([true, true, true, false, false, false]);
    expect(stoppedAt).toBe(5);
    expect(tracker.stoppedEpoch).toBe(5);
    expect(tracker.bestEpoch).toBe(2);
    expect(tracker.bestValue).toBe(0.7);
    expect(tracker.wait).toBe(3);
  });

  it('resets its patience on every improvement', () => {
    const { stoppedAt, tracker } = run({ patience: 2, direction: 'min' }, [1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.81]);
    expect(stoppedAt).toBe(6);
    expect(tracker.bestEpoch).toBe(4);
  });

  it('wants higher values in max mode, and a tie is no improvement', () => {
    const { stoppedAt, tracker, improved } = run({ patience: 2, direction: 'max' }, [0.5, 0.6, 0.6, 0.59, 0.9]);
    expect(improved).toEqual([true, true, false, false]);
    expect(stoppedAt).toBe(3);
    expect(tracker.bestValue).toBe(0.6);
    expect(tracker.bestEpoch).toBe(1);
  });

  it('ignores changes smaller than minDelta (whatever its sign)', () => {
    for (const minDelta of [0.05, -0.05]) {
      const { stoppedAt, tracker } = run({ patience: 2, direction: 'min', minDelta }, [1.0, 0.97, 0.96, 0.9]);
      expect(stoppedAt).toBe(2);
      expect(tracker.bestValue).toBe(1.0);
    }
    const max = run({ patience: 1, direction: 'max', minDelta: 0.01 }, [0.80, 0.82, 0.825]);
    expect(max.improved).toEqual([true, true, false]);
    expect(max.stoppedAt).toBe(2);
    expect(run({ patience: 2, direction: 'min' }, [1.0, 0.97, 0.96, 0.9]).stoppedAt).toBeUndefined();
  });

  it('never stops at the first epoch, even with patience 0 or a NaN loss', () => {
    expect(run({ patience: 0, direction: 'min' }, [Number.NaN]).stoppedAt).toBeUndefined();
    const nan = run({ patience: 0, direction: 'min' }, [Number.NaN, Number.NaN]);
    expect(nan.stoppedAt).toBe(1);
    expect(nan.tracker.bestEpoch).toBeUndefined();
    expect(run({ patience: 0, direction: 'min' }, [1, 0.5, 0.6]).stoppedAt).toBe(2);
  });

  it('with a baseline, improvements that do not beat it buy no patience', () => {
    const values = [0.9, 0.8, 0.85, 0.7];
    // Without a baseline, epoch 2 is the first bad one: no stop yet with patience 2.
    expect(run({ patience: 2, direction: 'min' }, values).stoppedAt).toBeUndefined();
    const below = run({ patience: 2, direction: 'min', baseline: 0.5 }, values);
    expect(below.stoppedAt).toBe(2);
    expect(below.tracker.bestEpoch).toBe(1);
    expect(below.tracker.wait).toBe(3);
    // Once the baseline is beaten, the usual patience applies.
    const beaten = run({ patience: 2, direction: 'min', baseline: 0.5 }, [0.4, 0.45, 0.3, 0.35, 0.36, 0.2]);
    expect(beaten.stoppedAt).toBe(4);
    expect(beaten.tracker.bestEpoch).toBe(2);
  });

  it('can be reset for another training and rejects a negative patience', () => {
    const { tracker } = run({ patience: 1, direction: 'min' }, [1, 2]);
    expect(tracker.stoppedEpoch).toBe(1);
    tracker.reset();
    expect([tracker.stoppedEpoch, tracker.bestEpoch, tracker.bestValue, tracker.wait]).toEqual([undefined, undefined, undefined, 0]);
    expect(() => new ImprovementTracker({ patience: -1, direction: 'min' })).toThrow(/patience/);
  });

  it('infers the direction from the monitored name in auto mode', () => {
    expect(monitorDirection('val_loss')).toBe('min');
    expect(monitorDirection('loss')).toBe('min');
    expect(monitorDirection('val_accuracy')).toBe('max');
    expect(monitorDirection('val_acc')).toBe('max');
    expect(monitorDirection('val_loss', 'max')).toBe('max');
    expect(() => monitorDirection('val_score')).toThrow(/mode: 'min' ou mode: 'max'/);
  });

  it('writes the French messages with 1-based epochs', () => {
    const base = { monitor: 'val_loss', stoppedEpoch: 6, bestEpoch: 3, bestValue: 0.29, wait: 3 };
    expect(earlyStoppingMessage({ ...base, restoredEpoch: 3 })).toBe("Arrêt précoce à l'époque 7 : val_loss ne s'améliore plus depuis 3 époques ; poids de l'époque 4 restaurés.");
    expect(earlyStoppingMessage({ ...base, restoredEpoch: undefined })).toBe(
      "Arrêt précoce à l'époque 7 : val_loss ne s'améliore plus depuis 3 époques ; le modèle garde les poids de la dernière époque (la meilleure était la 4).",
    );
    expect(earlyStoppingMessage({ ...base, stoppedEpoch: 4, wait: 1, restoredEpoch: 3 })).toMatch(/depuis 1 époque ;/);
    expect(earlyStoppingMessage({ ...base, stoppedEpoch: undefined, restoredEpoch: 3 })).toBe("Pas d'arrêt précoce ; poids de l'époque 4 restaurés (meilleure val_loss : 0.2900).");
    expect(earlyStoppingMessage({ ...base, stoppedEpoch: undefined, restoredEpoch: undefined })).toBeUndefined();
    expect(earlyStoppingMessage({ ...base, stoppedEpoch: 2, bestEpoch: 1, wait: 3, baseline: 0.5, restoredEpoch: 1 })).toBe(
      "Arrêt précoce à l'époque 3 : val_loss n'a pas dépassé la référence 0.5 en 3 époques ; poids de l'époque 2 restaurés.",
    );
  });

  it('marks the best epoch and the stop on the training curves', () => {
    const history = { loss: [1, 0.8, 0.7, 0.6], val_loss: [1, 0.9, 0.95, 1.1], accuracy: [0.5, 0.6, 0.7, 0.8], val_accuracy: [0.5, 0.55, 0.54, 0.5] };
    const [accuracy, loss] = markEarlyStopping(trainingCurvesFigures(history), { bestEpoch: 1, stoppedEpoch: 3, restoredEpoch: 1 });
    const marks = loss.data.slice(2) as { name?: string; x: number[]; y: number[] }[];
    expect(marks.map((trace) => trace.name)).toEqual(['Meilleure époque (poids gardés)', 'Arrêt']);
    expect(marks[0].x).toEqual([2, 2]);
    expect(marks[1].x).toEqual([4, 4]);
    expect(marks[0].y).toEqual([0.6, 1.1]);
    expect(accuracy.data).toHaveLength(4);
    expect(markEarlyStopping(trainingCurvesFigures(history), {})[0].data).toHaveLength(2);
  });
});

describe('earlyStopping callback on a real model', () => {
  const tf = loadNativeTf();
  const n = 64;
  let xs: tfTypes.Tensor2D;
  let ys: tfTypes.Tensor2D;
  let yValidation: tfTypes.Tensor2D;

  beforeAll(() => {
    // Class = first feature > 0.5. The validation set reuses the images with 30 % of its labels
    // flipped: as the model grows confident, val_loss first falls, then rises. A classic overfit.
    xs = tf.randomUniform([n, 4], 0, 1, 'float32', 7) as tfTypes.Tensor2D;
    const labels = Array.from(xs.slice([0, 0], [n, 1]).dataSync(), (v) => (v > 0.5 ? 1 : 0));
    ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 2).toFloat()) as tfTypes.Tensor2D;
    yValidation = tf.tidy(() => tf.oneHot(tf.tensor1d(labels.map((l, i) => (i % 10 < 3 ? 1 - l : l)), 'int32'), 2).toFloat()) as tfTypes.Tensor2D;
  });
  afterAll(() => tf.dispose([xs, ys, yValidation]));

  function tinyModel(): tfTypes.Sequential {
    // Zero kernels and full-batch SGD without shuffling: the same curve on every run.
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'softmax', kernelInitializer: 'zeros' })] });
    model.compile({ optimizer: tf.train.sgd(1), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    return model;
  }

  /** A callback that snapshots the weights (as plain arrays) at the end of every epoch. */
  function weightRecorder(model: tfTypes.LayersModel): { callback: tfTypes.CustomCallback; epochs: Float32Array[][] } {
    const epochs: Float32Array[][] = [];
    const callback = new tf.CustomCallback({ onEpochEnd: async () => void epochs.push(model.getWeights().map((w) => w.dataSync() as Float32Array).map((d) => Float32Array.from(d))) });
    return { callback, epochs };
  }

  const weightsNow = (model: tfTypes.LayersModel) => model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));

  it('stops `patience` epochs after the best val_loss and restores that epoch\'s weights exactly, without leaking tensors', async () => {
    const model = tinyModel();
    const stopper = earlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true, verbose: false });
    const recorder = weightRecorder(model);
    const before = tf.memory().numTensors;
    const history = await model.fit(xs, ys, { epochs: 30, batchSize: n, shuffle: false, validationData: [xs, yValidation], callbacks: [stopper, recorder.callback], verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);

    const valLoss = history.history.val_loss.map(Number);
    const best = valLoss.indexOf(Math.min(...valLoss));
    expect(best).toBeGreaterThan(0);
    expect(stopper.bestEpoch).toBe(best);
    expect(stopper.bestValue).toBeCloseTo(valLoss[best], 6);
    expect(stopper.stoppedEpoch).toBe(best + 2);
    expect(history.epoch).toHaveLength(best + 3);
    expect(stopper.restoredEpoch).toBe(best);
    // The model's weights are now those recorded at the end of the best epoch, bit for bit, not the last ones.
    const restored = weightsNow(model);
    expect(restored).toEqual(recorder.epochs[best]);
    expect(restored).not.toEqual(recorder.epochs[recorder.epochs.length - 1]);
    // And the model scores the best val_loss again.
    const [loss] = model.evaluate(xs, yValidation, { batchSize: n }) as tfTypes.Scalar[];
    expect(loss.dataSync()[0]).toBeCloseTo(valLoss[best], 5);
    tf.dispose(loss);
    model.dispose();
  });

  it('prints the French line, keeps the last weights without restoreBestWeights, and can be reused', async () => {
    const model = tinyModel();
    const stopper = earlyStopping({ patience: 2 });
    const recorder = weightRecorder(model);
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const before = tf.memory().numTensors;
    await model.fit(xs, ys, { epochs: 30, batchSize: n, shuffle: false, validationData: [xs, yValidation], callbacks: [stopper, recorder.callback], verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    const printed = log.mock.calls.map((call) => String(call[0]));
    log.mockRestore();
    const best = stopper.bestEpoch as number;
    expect(printed).toEqual([`Arrêt précoce à l'époque ${best + 3} : val_loss ne s'améliore plus depuis 2 époques ; le modèle garde les poids de la dernière époque (la meilleure était la ${best + 1}).`]);
    expect(stopper.restoredEpoch).toBeUndefined();
    expect(weightsNow(model)).toEqual(recorder.epochs[recorder.epochs.length - 1]);

    // A second fit starts afresh (Keras' on_train_begin): a few epochs on a falling val_loss, no stop.
    const again = tinyModel();
    const history = await again.fit(xs, ys, { epochs: 3, batchSize: n, shuffle: false, validationData: [xs, ys], callbacks: [stopper], verbose: 0 });
    expect(history.epoch).toHaveLength(3);
    expect(stopper.stoppedEpoch).toBeUndefined();
    expect(stopper.bestEpoch).toBe(2);
    model.dispose();
    again.dispose();
  });

  it('restores the best weights even when training runs all its epochs (Keras 3), monitoring val_accuracy', async () => {
    const model = tinyModel();
    const stopper = earlyStopping({ monitor: 'val_accuracy', patience: 50, restoreBestWeights: true, verbose: false });
    const recorder = weightRecorder(model);
    const before = tf.memory().numTensors;
    const history = await model.fit(xs, ys, { epochs: 6, batchSize: n, shuffle: false, validationData: [xs, yValidation], callbacks: [stopper, recorder.callback], verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(history.epoch).toHaveLength(6);
    expect(stopper.stoppedEpoch).toBeUndefined();
    const accuracies = history.history.val_acc.map(Number);
    // The first epoch reaching the highest accuracy: later ties are no improvement.
    expect(stopper.bestEpoch).toBe(accuracies.indexOf(Math.max(...accuracies)));
    expect(weightsNow(model)).toEqual(recorder.epochs[stopper.restoredEpoch as number]);
    model.dispose();
  });

  it('warns once, in French, when the monitored value is missing, and never stops', async () => {
    const model = tinyModel();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const history = await model.fit(xs, ys, { epochs: 3, batchSize: n, callbacks: [earlyStopping({ patience: 0, restoreBestWeights: true })], verbose: 0 });
    const warnings = warn.mock.calls.map((call) => String(call[0]));
    warn.mockRestore();
    expect(history.epoch).toHaveLength(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/« val_loss » n'est pas dans les mesures.*validationData/);
    model.dispose();
  });
});

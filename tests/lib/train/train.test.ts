import { loadNativeTf } from '../../../lib/backend';
import { bar, confusionMatrix, evaluate, formatDuration, formatLogs, predictClasses, ProgressPrinter, train } from '../../../lib/train';

describe('training helpers', () => {
  const tf = loadNativeTf();

  function separableProblem(n: number) {
    // Class 0: dark images, class 1: bright images.
    const xs = tf.tidy(() => tf.concat([tf.zeros([n, 28, 28, 1]), tf.ones([n, 28, 28, 1])]));
    const labels = [...new Array(n).fill(0), ...new Array(n).fill(1)];
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat());
    return { xs, ys, labels };
  }

  function tinyModel() {
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    return model;
  }

  it('trains with validation and returns a Keras-like history', async () => {
    const { xs, ys } = separableProblem(32);
    const model = tinyModel();
    const history = await train(model, xs, ys, { epochs: 3, batchSize: 16, validationData: [xs, ys], verbose: false });
    expect(history.loss).toHaveLength(3);
    expect(history.accuracy).toHaveLength(3);
    expect(history.val_loss).toHaveLength(3);
    expect(history.val_accuracy[2]).toBe(1);
    expect(history.epochSeconds.every((s) => s >= 0)).toBe(true);
    const evaluation = await evaluate(model, xs, ys);
    expect(evaluation.accuracy).toBe(1);
    expect(evaluation.loss).toBeLessThan(history.loss[0]);
    tf.dispose([xs, ys]);
  });

  it('predicts classes and builds the confusion matrix', async () => {
    const { xs, ys, labels } = separableProblem(8);
    const model = tinyModel();
    await train(model, xs, ys, { epochs: 5, batchSize: 8, verbose: false });
    const predicted = await predictClasses(model, xs);
    const matrix = confusionMatrix(labels, predicted);
    expect(matrix[0][0] + matrix[1][1]).toBe(16);
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(16);
    tf.dispose([xs, ys]);
  });

  it('rejects mismatched lengths in the confusion matrix', () => {
    expect(() => confusionMatrix([1, 2], [1])).toThrow(/2 true labels but 1 predictions/);
  });

  it('prints French progress lines', () => {
    const lines: string[] = [];
    const printer = new ProgressPrinter(2, 10, 0, (text) => void lines.push(text));
    printer.epochBegin(0);
    printer.batchEnd(4, { loss: 0.5, acc: 0.8 });
    printer.epochEnd({ loss: 0.4, acc: 0.85, val_loss: 0.45, val_acc: 0.83 });
    const text = lines.join('');
    expect(text).toMatch(/^Époque 1\/2\n/);
    expect(text).toMatch(/5\/10 \[/);
    expect(text).toMatch(/erreur 0\.4000 - précision 0\.8500 - val_erreur 0\.4500 - val_précision 0\.8300\n$/);
    expect(formatLogs({ batch: 3, loss: 1 })).toBe('erreur 1.0000');
    expect(bar(1, 2, 4)).toBe('[██··]');
    expect(formatDuration(125)).toBe('2 min 05 s');
  });
});

describe('progress display callback for model.fit', () => {
  it('prints epochs from fit params and converts the history to Keras names', async () => {
    const tf = loadNativeTf();
    const { kerasHistory, progressDisplay } = await import('../../../lib/train');
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 10, activation: 'softmax' })] });
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const xs = tf.randomUniform([20, 4]);
    const ys = tf.oneHot(tf.tensor1d(new Array(20).fill(3), 'int32'), 10).toFloat();
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((text) => (written.push(String(text)), true));
    const fitHistory = await model.fit(xs, ys, { epochs: 2, batchSize: 10, validationData: [xs, ys], callbacks: [progressDisplay()], verbose: 0 });
    spy.mockRestore();
    expect(written.join('')).toMatch(/Époque 2\/2\n/);
    expect(written.join('')).toMatch(/2\/2 \[█+\] .* val_précision/);
    const history = kerasHistory(fitHistory);
    expect(history.accuracy).toHaveLength(2);
    expect(history.val_loss).toHaveLength(2);
  });
});

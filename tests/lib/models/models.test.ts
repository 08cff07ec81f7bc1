import { loadNativeTf } from '../../../lib/backend';
import { buildModel, MODEL_NAMES, MODEL_RECIPES } from '../../../lib/models';

// Parameter counts follow from each architecture (and are what Keras' summary() prints for it).
const EXPECTED_PARAMS: Record<string, number> = {
  'one-conv': 693962,
  'four-conv': 1221546,
  'mnist-digits': 62346,
  baseline: 211822,
  'report-cnn': 468586,
};

describe('course models', () => {
  const tf = loadNativeTf();

  it.each(MODEL_NAMES)('%s takes 28x28x1 images and outputs 10 softmax probabilities', (name) => {
    const model = buildModel(name);
    expect(model.inputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(model.outputs[0].shape).toEqual([null, 10]);
    const last = model.layers[model.layers.length - 1].getConfig();
    expect(last.activation).toBe('softmax');
    const probabilities = tf.tidy(() => model.predict(tf.zeros([2, 28, 28, 1])) as import('@tensorflow/tfjs-node').Tensor);
    const sums = probabilities.sum(1).dataSync();
    expect(sums[0]).toBeCloseTo(1, 5);
    probabilities.dispose();
    model.dispose();
  });

  it.each(Object.entries(EXPECTED_PARAMS))('%s has the expected number of parameters', (name, count) => {
    const model = buildModel(name as (typeof MODEL_NAMES)[number]);
    expect(model.countParams()).toBe(count);
    model.dispose();
  });

  it('compiles with the course settings (Adam for the lab, SGD for the tutorials)', () => {
    expect(MODEL_RECIPES['one-conv']).toMatchObject({ optimizer: 'adam', epochs: 10, batchSize: 256, publishedAccuracy: 0.9082 });
    expect(MODEL_RECIPES['mnist-digits']).toMatchObject({ optimizer: 'sgd', epochs: 5, batchSize: 100 });
    const model = buildModel('one-conv');
    expect(model.optimizer.getClassName()).toBe('Adam');
    expect(model.loss).toBe('categoricalCrossentropy');
    model.dispose();
  });

  it('learns: one-conv loss drops on a tiny separable problem', async () => {
    const model = buildModel('one-conv');
    const xs = tf.tidy(() => tf.concat([tf.zeros([32, 28, 28, 1]), tf.ones([32, 28, 28, 1])]));
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d([...new Array(32).fill(0), ...new Array(32).fill(1)], 'int32'), 10).toFloat());
    const history = await model.fit(xs, ys, { epochs: 5, batchSize: 16, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('names the known models when asked for an unknown one', () => {
    expect(() => buildModel('resnet' as never)).toThrow(/Unknown model "resnet". Known models: one-conv, four-conv/);
  });
});

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { PROJECT_ROOT } from '../../../lib/paths';
import { tfjsTopology } from '../../../lib/io/keras3';
import { loadPretrained } from '../../../lib/models/transfer';
import { temporaryFolder } from '../../helpers/fixtures';
import { needsPython } from '../../helpers/tools';

const tf = loadNativeTf();

describe('Keras 3 topologies', () => {
  it('are rewritten in the Keras 2 vocabulary that TensorFlow.js reads', () => {
    const keras3 = {
      class_name: 'Sequential',
      config: {
        name: 'sequential',
        dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
        layers: [{ module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 28, 28, 1], dtype: 'float32', name: 'input_layer' } }],
      },
    };
    expect(tfjsTopology(keras3)).toEqual({
      class_name: 'Sequential',
      config: { name: 'sequential', dtype: 'float32', layers: [{ module: 'keras.layers', class_name: 'InputLayer', config: { batch_input_shape: [null, 28, 28, 1], dtype: 'float32', name: 'input_layer' } }] },
    });
    const node = { args: [[{ class_name: '__keras_tensor__', config: { shape: [null, 4], dtype: 'float32', keras_history: ['a', 0, 0] } }, { class_name: '__keras_tensor__', config: { keras_history: ['b', 1, 0] } }]], kwargs: {} };
    expect(tfjsTopology({ inbound_nodes: [node] })).toEqual({ inbound_nodes: [[['a', 0, 0, {}], ['b', 1, 0, {}]]] });
    expect(tfjsTopology({ input_layers: ['image', 0, 0], output_layers: [['a', 0, 0], ['b', 0, 0]] })).toEqual({ input_layers: [['image', 0, 0]], output_layers: [['a', 0, 0], ['b', 0, 0]] });
    const keras2 = { class_name: 'InputLayer', config: { batch_input_shape: [null, 2], dtype: 'float32' }, inbound_nodes: [[['x', 0, 0, {}]]] };
    expect(tfjsTopology(keras2)).toEqual(keras2);
  });
});

// Keras 3 on its TensorFlow backend: $KERAS_PYTHON, else .venv/ (npm run setup:python), else python3.
const keras = needsPython(['keras', 'tensorflow'], 'KERAS_PYTHON');
const python = keras.python;

keras.describe('a real Keras 3 model, converted by scripts/keras_to_tfjs.py', () => {
  const { dir, cleanup } = temporaryFolder();
  let reference: { input: number[]; predictions: Record<string, number[][]>; keras: string };
  beforeAll(() => {
    const made = spawnSync(python!, [join(__dirname, 'keras_models.py'), dir], { encoding: 'utf8', timeout: 300_000 });
    if (made.status !== 0) throw new Error(`keras_models.py failed: ${made.stderr}`);
    reference = JSON.parse(readFileSync(join(dir, 'predictions.json'), 'utf8'));
  }, 300_000);
  afterAll(cleanup);

  it.each(['sequentiel', 'fonctionnel'])('%s: loads and predicts what Keras predicts', async (name) => {
    const converted = spawnSync(python!, [join(PROJECT_ROOT, 'scripts', 'keras_to_tfjs.py'), join(dir, `${name}.keras`), join(dir, name)], { encoding: 'utf8', timeout: 300_000 });
    expect(converted.stderr).not.toMatch(/keras_to_tfjs :/);
    expect(converted.status).toBe(0);
    const model = await loadPretrained(join(dir, name, 'model.json'));
    const output = tf.tidy(() => model.predict(tf.tensor4d(reference.input, [4, 28, 28, 1])) as tfTypes.Tensor);
    const values = Array.from(output.dataSync());
    output.dispose();
    const expected = reference.predictions[name].flat();
    expect(values.length).toBe(expected.length);
    values.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThan(1e-5));
  }, 300_000);

  it('the converter says which file is missing', () => {
    const run = spawnSync(python!, [join(PROJECT_ROOT, 'scripts', 'keras_to_tfjs.py'), join(dir, 'absent.keras'), join(dir, 'x')], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('absent.keras introuvable');
  });
});

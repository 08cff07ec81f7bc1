import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { tableText } from '../../../lib/plot';
import { compareModels, comparisonColumns, earlyStopping, measureTraining, showComparison } from '../../../lib/train';

describe('model comparison', () => {
  const tf = loadNativeTf();
  const n = 64;
  let xs: tfTypes.Tensor;
  let ys: tfTypes.Tensor;

  beforeAll(() => {
    xs = tf.randomUniform([n, 8], 0, 1, 'float32', 3);
    const labels = Array.from(xs.slice([0, 0], [n, 1]).dataSync(), (v) => (v > 0.5 ? 1 : 0));
    ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 2).toFloat());
  });
  afterAll(() => tf.dispose([xs, ys]));

  function model(hidden: number): tfTypes.Sequential {
    const layers = [
      ...(hidden > 0 ? [tf.layers.dense({ inputShape: [8], units: hidden, activation: 'relu' })] : []),
      tf.layers.dense({ ...(hidden > 0 ? {} : { inputShape: [8] }), units: 2, activation: 'softmax' }),
    ];
    const built = tf.sequential({ layers });
    built.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    return built;
  }

  it('trains each model and returns rows with epochs, test scores and times', async () => {
    const stopper = earlyStopping({ patience: 0, restoreBestWeights: true, verbose: false });
    const rows = await compareModels(
      [
        { name: 'Linéaire', model: model(0), epochs: 3, batchSize: 16 },
        { name: 'Caché 16', model: model(16), epochs: 4, batchSize: 16, callbacks: [stopper] },
      ],
      { xs, ys, validationData: [xs, ys], test: [xs, ys] },
      { verbose: false },
    );
    expect(rows.map((row) => row.model)).toEqual(['Linéaire', 'Caché 16']);
    expect(rows[0].epochs).toBe(3);
    expect(rows[1].epochs).toBeGreaterThanOrEqual(1);
    expect(rows[1].epochs).toBeLessThanOrEqual(4);
    for (const row of rows) {
      expect(row.seconds).toBeGreaterThan(0);
      expect(row.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(row.testAccuracy).toBeLessThanOrEqual(1);
      expect(row.testLoss).toBeGreaterThan(0);
      expect(row.history.loss).toHaveLength(row.epochs);
      expect(row.history.val_accuracy).toHaveLength(row.epochs);
    }
    expect(rows[0].bestEpoch).toBeUndefined();
    expect(rows[1].bestEpoch).toBe((stopper.restoredEpoch as number) + 1);
  });

  it('times a fit written by the caller and shows a French table', async () => {
    const linear = model(0);
    const row = await measureTraining('Le mien', linear, () => linear.fit(xs, ys, { epochs: 2, batchSize: 32, verbose: 0 }), [xs, ys]);
    expect(row).toMatchObject({ model: 'Le mien', epochs: 2 });
    expect(row.seconds).toBeGreaterThan(0);

    const headers = comparisonColumns([row]).map((column) => column.header);
    expect(headers).toEqual(['Modèle', 'Époques', 'Précision test', 'Erreur test', "Temps d'apprentissage (s)"]);
    expect(comparisonColumns([row, { ...row, bestEpoch: 2 }]).map((column) => column.header)).toContain('Meilleure époque');
    const text = tableText([row], comparisonColumns([row]));
    expect(text.split('\n')[2]).toMatch(/^Le mien\s+2\s+0\.\d{4}\s+\d+\.\d{4}\s+\d+\.\d$/);

    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line) => void printed.push(String(line)));
    showComparison([row]);
    log.mockRestore();
    expect(printed.join('\n')).toContain("Temps d'apprentissage (s)");
  });
});

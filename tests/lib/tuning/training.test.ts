import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { toTensors } from '../../../lib/data/tensors';
import { MODEL_JSON, MODEL_WEIGHTS } from '../../../lib/io';
import { buildModel } from '../../../lib/models';
import {
  buildTuningModel,
  choice,
  CONFIG_JSON,
  LAB_CONFIG,
  loadTunedConfiguration,
  randomSearch,
  saveTunedModel,
  successiveHalving,
  trainingObjective,
  type CnnConfig,
} from '../../../lib/tuning';
import { runTsCli } from '../../helpers/cli';
import { syntheticImages, temporaryFolder } from '../../helpers/fixtures';
import type { SaveTunedReport } from './save-tuned';

const quiet = () => undefined;

describe('the tunable CNN', () => {
  const tf = loadNativeTf();

  it('is the lab’s one-convolution model for the lab’s configuration', () => {
    const tuned = buildTuningModel(LAB_CONFIG);
    const lab = buildModel('one-conv');
    expect(tuned.countParams()).toBe(lab.countParams());
    expect(tuned.layers.map((l) => l.getClassName())).toEqual(lab.layers.map((l) => l.getClassName()));
    expect(tuned.loss).toBe('categoricalCrossentropy');
    expect(tuned.optimizer.getClassName()).toBe('Adam');
    // Glorot-uniform serialises as variance scaling (fan average, uniform), like lib/models' kernels.
    for (const i of [1, 5, 6]) expect(tuned.layers[i].getConfig().kernelInitializer).toEqual(lab.layers[i].getConfig().kernelInitializer);
    expect(tuned.layers[1].getConfig().kernelInitializer).toMatchObject({ config: { mode: 'fanAvg', distribution: 'uniform' } });
    tuned.dispose();
    lab.dispose();
  });

  it('takes its sizes, dropout, learning rate and loss from the configuration', () => {
    const model = buildTuningModel({ filters: 8, units: 16, dropout: 0.4, learningRate: 0.005, loss: 'meanSquaredError' });
    expect(model.layers[1].getConfig().filters).toBe(8);
    expect(model.layers[3].getConfig().rate).toBe(0.4);
    expect(model.layers[5].getConfig().units).toBe(16);
    expect(model.loss).toBe('meanSquaredError');
    expect((model.optimizer.getConfig() as { learningRate: number }).learningRate).toBe(0.005);
    const output = tf.tidy(() => (model.predict(tf.zeros([1, 28, 28, 1])) as Tensor).sum().dataSync()[0]);
    expect(output).toBeCloseTo(1, 5);
    model.dispose();
  });

  it.each<[Partial<CnnConfig>, RegExp]>([
    [{ filters: 0 }, /le nombre de filtres \(filters\) doit être un entier positif, reçu 0/],
    [{ units: 12.5 }, /le nombre de neurones \(units\) doit être un entier positif, reçu 12\.5/],
    [{ dropout: 1 }, /le taux de dropout doit être entre 0 \(inclus\) et 1 \(exclu\), reçu 1/],
    [{ learningRate: 0 }, /le taux d'apprentissage \(learningRate\) doit être strictement positif, reçu 0/],
    [{ loss: 'hinge' as never }, /fonction de perte « hinge » inconnue/],
  ])('refuses %j in French', (change, message) => {
    expect(() => buildTuningModel({ ...LAB_CONFIG, ...change })).toThrow(message);
  });
});

describe('searching with real training', () => {
  const tf = loadNativeTf();
  const { dir, cleanup } = temporaryFolder();
  const train = toTensors(syntheticImages(64));
  const validation = toTensors(syntheticImages(32));
  const data = { xs: train.xs, ys: train.ys, validationData: [validation.xs, validation.ys] as [Tensor, Tensor] };
  const space = {
    filters: choice([4, 8]),
    units: choice([16]),
    dropout: choice([0.2]),
    learningRate: choice([0.001]),
    loss: choice(['categoricalCrossentropy', 'meanSquaredError'] as const),
  };
  afterAll(() => {
    tf.dispose([train.xs, train.ys, validation.xs, validation.ys]);
    cleanup();
  });

  it('trains two configurations for one epoch and keeps the best model', async () => {
    const result = await randomSearch(space, trainingObjective(data, { batchSize: 32 }), { trials: 2, seed: 1, onTrial: quiet });
    expect(result.trials).toHaveLength(2);
    expect(new Set(result.trials.map((t) => t.config.filters + t.config.loss)).size).toBe(2);
    for (const trial of result.trials) {
      expect(trial.score).toBeGreaterThanOrEqual(0);
      expect(trial.score).toBeLessThanOrEqual(1);
      expect(Number.isFinite(trial.loss)).toBe(true);
      expect(trial.seconds).toBeGreaterThan(0);
    }
    expect(result.best.model).toBeDefined();
    expect(result.trials.filter((t) => t !== result.best).every((t) => t.model === undefined)).toBe(true);
  });

  // Saving a trained model needs a child process: in jest's sandbox tfjs-node rejects the weights
  // ("Unsupported TypedArray subtype: Float32Array").
  it('saves the best model with its configuration, both read back identical', async () => {
    const folder = join(dir, 'recherche');
    const run = await runTsCli(join(__dirname, 'save-tuned.ts'), [folder]);
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout.trim().split('\n').pop()!) as SaveTunedReport;
    expect(report.trials).toBe(2);
    expect(readdirSync(folder).sort()).toEqual([CONFIG_JSON, MODEL_JSON, MODEL_WEIGHTS]);
    expect(report.files).toEqual([MODEL_JSON, MODEL_WEIGHTS, CONFIG_JSON].map((file) => join(folder, file)));
    expect(report.savedConfiguration).toEqual(report.best);
    expect(report.savedAccuracy).toBe(report.score);
    expect(report.samePredictions).toBe(true);
    const saved = loadTunedConfiguration<CnnConfig>(folder);
    expect(saved.configuration).toEqual(report.best);
    expect(Date.parse(saved.savedAt)).not.toBeNaN();
  }, 120000);

  it('resumes the survivors of successive halving from their previous model', async () => {
    const result = await successiveHalving(space, trainingObjective(data, { batchSize: 32 }), { candidates: 2, minEpochs: 1, maxEpochs: 2, eta: 2, seed: 3, onTrial: quiet });
    expect(result.rungs.map((r) => [r.epochs, r.trials.length])).toEqual([[1, 2], [2, 1]]);
    const [first, second] = [result.rungs[0].trials.find((t) => t.candidate === result.best.candidate), result.best];
    expect(first?.model).toBeUndefined();
    expect(second.model).toBeDefined();
  });

  it('says in French when there is no model to save', async () => {
    await expect(saveTunedModel(undefined as never, LAB_CONFIG, join(dir, 'rien'))).rejects.toThrow(/Aucun modèle à sauvegarder/);
    expect(() => loadTunedConfiguration(join(dir, 'rien'))).toThrow(/configuration\.json introuvable/);
  });
});

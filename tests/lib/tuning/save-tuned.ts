/**
 * Runs a tiny real search (2 configurations, 1 epoch, 64 synthetic images), saves the best model with
 * its configuration, loads both back and prints what it checked as JSON. Run as a script
 * (`tsx save-tuned.ts <dir>`): tfjs-node refuses the typed arrays of jest's sandbox once a model has trained.
 */
import type { Tensor } from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { toTensors } from '../../../lib/data/tensors';
import { loadModel } from '../../../lib/io';
import { choice, loadTunedConfiguration, randomSearch, saveTunedModel, trainingObjective, type CnnConfig } from '../../../lib/tuning';
import { syntheticImages } from '../../helpers/fixtures';

/** What the script checked, printed as one JSON line. */
export interface SaveTunedReport {
  trials: number;
  best: CnnConfig;
  score: number;
  files: string[];
  savedConfiguration: CnnConfig;
  savedAccuracy: unknown;
  samePredictions: boolean;
}

async function main(dir: string): Promise<SaveTunedReport> {
  const tf = loadNativeTf();
  const train = toTensors(syntheticImages(64));
  const validation = toTensors(syntheticImages(32));
  const space = {
    filters: choice([4, 8]),
    units: choice([16]),
    dropout: choice([0.2]),
    learningRate: choice([0.001]),
    loss: choice(['categoricalCrossentropy', 'meanSquaredError'] as const),
  };
  const objective = trainingObjective({ xs: train.xs, ys: train.ys, validationData: [validation.xs, validation.ys] }, { batchSize: 32 });
  const result = await randomSearch(space, objective, { trials: 2, seed: 1, onTrial: () => undefined });
  const model = result.best.model!;
  const files = await saveTunedModel(model, result.best.config, dir, { validationAccuracy: result.best.score });
  const saved = loadTunedConfiguration<CnnConfig>(dir);
  const loaded = await loadModel(dir);
  const input = validation.xs.slice([0, 0, 0, 0], [4, 28, 28, 1]);
  const expected = Array.from((model.predict(input) as Tensor).dataSync());
  const actual = Array.from((loaded.predict(input) as Tensor).dataSync());
  tf.dispose([train.xs, train.ys, validation.xs, validation.ys, input]);
  return {
    trials: result.trials.length,
    best: result.best.config,
    score: result.best.score,
    files: [files.jsonPath, files.weightsPath, files.configPath],
    savedConfiguration: saved.configuration,
    savedAccuracy: saved.validationAccuracy,
    samePredictions: expected.length === 40 && expected.every((value, i) => value === actual[i]),
  };
}

if (require.main === module) {
  main(process.argv[2]).then(
    (report) => console.log(JSON.stringify(report)),
    (error: Error) => {
      console.error(error.stack ?? error.message);
      process.exit(1);
    },
  );
}

/**
 * Child of `npm run bench:train`: trains a course model the way notebooks/classification.ipynb does
 * (lib/data split, model.fit with validation and the progress display) and prints one JSON line.
 * Usage: tsx bench/train-project.ts <one-conv|four-conv> <epochs> <batch> [plain|augmented]
 * `augmented` trains on augmented batches with fitDataset, as the notebook's augmentation section.
 */
import { loadNativeTf, describeBackend } from '../lib/backend';
import { imagesToTensor, labelsToOneHot, loadFashionMnist, subset, trainValidationSplit } from '../lib/data';
import { buildModel, type ModelName } from '../lib/models';
import { augmentedDataset, COURSE_AUGMENTATION } from '../lib/augment';
import { evaluate, progressDisplay } from '../lib/train';

async function main(): Promise<void> {
  const [name, epochsArg, batchArg, mode = 'plain'] = process.argv.slice(2);
  const tf = loadNativeTf();
  const all = loadFashionMnist('train');
  const { train, validation } = trainValidationSplit(all.count, 0.2, 13);
  const xs = imagesToTensor(subset(all, train));
  const ys = labelsToOneHot(subset(all, train));
  const validationData: [typeof xs, typeof ys] = [imagesToTensor(subset(all, validation)), labelsToOneHot(subset(all, validation))];
  const test = loadFashionMnist('test');
  const model = buildModel(name as ModelName);
  const epochSeconds: number[] = [];
  let started = 0;
  const timer = new tf.CustomCallback({
    onEpochBegin: async () => void (started = performance.now()),
    onEpochEnd: async () => void epochSeconds.push((performance.now() - started) / 1000),
  });
  const epochs = Number(epochsArg);
  const batchSize = Number(batchArg);
  const fitStarted = performance.now();
  if (mode === 'augmented') {
    // The notebook's augmentation section: fitDataset on augmented batches, augmented validation.
    await model.fitDataset(augmentedDataset(xs, ys, { batchSize, augmentation: COURSE_AUGMENTATION, seed: 1 }), {
      epochs,
      batchesPerEpoch: Math.floor(train.length / batchSize),
      validationData: augmentedDataset(validationData[0], validationData[1], { batchSize, augmentation: COURSE_AUGMENTATION, seed: 2 }),
      validationBatches: Math.floor(validation.length / batchSize),
      callbacks: [timer, progressDisplay()],
      verbose: 0,
    });
  } else {
    // The notebooks' call: fit with validation data and the live progress display.
    await model.fit(xs, ys, { epochs, batchSize, validationData, callbacks: [timer, progressDisplay()], verbose: 0 });
  }
  const fitSeconds = (performance.now() - fitStarted) / 1000;
  const { loss, accuracy } = await evaluate(model, imagesToTensor(test), labelsToOneHot(test));
  const backend = describeBackend();
  console.log(JSON.stringify({ side: `analyse-image ${mode}`, epochSeconds, fitSeconds, testLoss: loss, testAccuracy: accuracy, version: `tfjs-node ${backend.tfjsNodeVersion}, libtensorflow ${backend.tensorflowVersion}` }));
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});

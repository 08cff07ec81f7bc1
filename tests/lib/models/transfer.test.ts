import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { buildModel } from '../../../lib/models';
import { loadPretrained, parameterCounts, transferModel, unfreezeLast } from '../../../lib/models/transfer';
import { temporaryFolder } from '../../helpers/fixtures';

const tf = loadNativeTf();

/** Writes a model as tensorflowjs_converter lays it out: model.json + group1-shard1of1.bin. */
async function saveAsConverterDoes(model: tfTypes.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData as ArrayBuffer;
      writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.from(weights));
      const manifest = [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }];
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', generatedBy: 'keras v3', convertedBy: 'TensorFlow.js Converter', modelTopology: artifacts.modelTopology, weightsManifest: manifest }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

function weightsOf(layer: tfTypes.layers.Layer): Float32Array[] {
  return layer.getWeights().map((w) => w.dataSync() as Float32Array).map((a) => Float32Array.from(a));
}

function sameWeights(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((w, i) => w.length === b[i].length && w.every((v, j) => v === b[i][j]));
}

const xs = tf.randomUniform([32, 28, 28, 1], 0, 1, 'float32', 1);
const ys = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 3), 'int32'), 3).toFloat();

describe('transfer learning', () => {
  it('keeps the base layers frozen while the new head learns', async () => {
    const transfer = transferModel(buildModel('one-conv'), { classCount: 3 });
    expect(transfer.model.outputs[0].shape).toEqual([null, 3]);
    expect(parameterCounts(transfer.model)).toEqual({ trainable: 128 * 3 + 3, frozen: 320 + 5408 * 128 + 128 });
    const conv = transfer.baseLayers.find((layer) => layer.getClassName() === 'Conv2D')!;
    const head = transfer.headLayers[transfer.headLayers.length - 1];
    const [convBefore, headBefore] = [weightsOf(conv), weightsOf(head)];
    transfer.model.compile({ loss: 'categoricalCrossentropy', optimizer: tf.train.adam(0.01), metrics: ['accuracy'] });
    await transfer.model.fit(xs, ys, { epochs: 2, batchSize: 16, verbose: 0 });
    expect(sameWeights(weightsOf(conv), convBefore)).toBe(true);
    expect(sameWeights(weightsOf(head), headBefore)).toBe(false);
  });

  it('fine-tunes only the unfrozen last layers once recompiled', async () => {
    const transfer = transferModel(buildModel('one-conv'), { classCount: 3 });
    expect(unfreezeLast(transfer, 1)).toEqual([transfer.baseLayers[transfer.baseLayers.length - 1].name]);
    const conv = transfer.baseLayers.find((layer) => layer.getClassName() === 'Conv2D')!;
    const dense = transfer.baseLayers[transfer.baseLayers.length - 1];
    const [convBefore, denseBefore] = [weightsOf(conv), weightsOf(dense)];
    transfer.model.compile({ loss: 'categoricalCrossentropy', optimizer: tf.train.adam(0.001), metrics: ['accuracy'] });
    await transfer.model.fit(xs, ys, { epochs: 1, batchSize: 16, verbose: 0 });
    expect(sameWeights(weightsOf(conv), convBefore)).toBe(true);
    expect(sameWeights(weightsOf(dense), denseBefore)).toBe(false);
    expect(unfreezeLast(transfer, 10).length).toBe(2);
  });

  it('loads a converted model (model.json + shards) from a folder and reuses its trained weights', async () => {
    const { dir, cleanup } = temporaryFolder();
    try {
      const original = buildModel('mnist-digits');
      await saveAsConverterDoes(original, dir);
      const loaded = await loadPretrained(join(dir, 'model.json'));
      const transfer = transferModel(loaded, { classCount: 3, hiddenUnits: 16, dropout: 0.2 });
      const firstConv = transfer.baseLayers.find((layer) => layer.getClassName() === 'Conv2D')!;
      expect(sameWeights(weightsOf(firstConv), weightsOf(original.layers.find((layer) => layer.getClassName() === 'Conv2D')!))).toBe(true);
      expect(transfer.headLayers.map((layer) => layer.getClassName())).toEqual(['Dense', 'Dropout', 'Dense']);
    } finally {
      cleanup();
    }
  });

  it('names the layers when the cut point does not exist, and explains a missing model', async () => {
    expect(() => transferModel(buildModel('one-conv'), { classCount: 3, cutAfter: 'absente' })).toThrow(/Couche « absente » absente du modèle de base\. Couches : .*conv2d/);
    expect(() => transferModel(buildModel('one-conv'), { classCount: 1 })).toThrow(/au moins 2 classes/);
    await expect(loadPretrained('/nonexistent/model.json')).rejects.toThrow(/model\.json introuvable/);
  });
});

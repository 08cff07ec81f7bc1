/** A model seen from inside: every layer's output, the learned filters, the class names, and their pictures. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { DIGIT_CLASSES, FASHION_CLASSES } from '../../../lib/data';
import { loadModel, saveModel } from '../../../lib/io';
import { buildModel } from '../../../lib/models';
import {
  activationsStripPng, convolveByHand, convolutionStepsPng, COURSE_EXAMPLE, featureMap, featureMapsPng, filtersPng, layerActivations,
  learnedFilters, matricesPng, modelLabels, poolByHand, reluByHand, toMatrix,
} from '../../../lib/theory';
import { temporaryFolder } from '../../helpers/fixtures';

const tf = loadNativeTf();

function randomInput(seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: 784 }, () => (state = (state * 16807) % 2147483647) / 2147483647);
}

describe('layer activations', () => {
  const model = buildModel('one-conv');
  const input = randomInput(3);
  const layers = layerActivations(tf, model, input);

  it("gives every layer of the lab's model in order, with its kind and shape", () => {
    expect(layers.map((layer) => [layer.kind, layer.shape])).toEqual([
      ['convolution', [26, 26, 32]],
      ['pooling', [13, 13, 32]],
      ['dropout', [13, 13, 32]],
      ['flatten', [5408]],
      ['dense', [128]],
      ['dense', [10]],
    ]);
    expect(layers[0].activation).toBe('relu');
    expect(layers[5].activation).toBe('softmax');
  });

  it("ends with the model's own prediction, and dropout changes nothing when predicting", () => {
    const predicted = tf.tidy(() => (model.predict(tf.tensor4d(input, [1, 28, 28, 1])) as tfTypes.Tensor).dataSync());
    expect(Array.from(layers[5].values)).toEqual(Array.from(predicted));
    expect(layers[2].values).toEqual(layers[1].values);
    expect(layers[3].values).toEqual(layers[2].values);
  });

  it('computes the first feature maps as the hand convolution with the learned filters, plus bias, then ReLU', () => {
    const filters = learnedFilters(model);
    expect(filters.size).toEqual([3, 3]);
    expect(filters.filters).toHaveLength(32);
    const image = toMatrix(input, 28, 28);
    for (const k of [0, 7, 31]) {
      const hand = reluByHand(convolveByHand(image, filters.filters[k], { bias: filters.biases[k] }).output);
      const map = toMatrix(featureMap(layers[0], k), 26, 26);
      hand.forEach((row, r) => row.forEach((value, c) => expect(Math.abs(value - map[r][c])).toBeLessThan(1e-5)));
      // And the pooling layer is the hand max pooling of that map.
      const pooled = poolByHand(map, { size: 2, stride: 2, mode: 'max' }).output;
      expect(pooled.flat()).toEqual(Array.from(featureMap(layers[1], k)));
    }
  });

  it('accepts a tensor as input and refuses an unusable model with a French message', () => {
    const tensor = tf.tensor4d(input, [1, 28, 28, 1]);
    const fromTensor = layerActivations(tf, model, tensor);
    tensor.dispose();
    expect(fromTensor[5].values).toEqual(layers[5].values);
    expect(() => featureMap(layers[4], 0)).toThrow(/not a stack of feature maps/);
    expect(() => learnedFilters(model, 'absente')).toThrow(/Pas de couche « absente »/);
  });
});

describe('model labels', () => {
  it('come from the metadata, else labels.json, else the architecture, else Fashion-MNIST', async () => {
    const folder = temporaryFolder('analyse-image-labels-');
    try {
      const fashion = buildModel('one-conv');
      expect(modelLabels(fashion)).toEqual({ labels: FASHION_CLASSES, source: 'default', dataset: 'fashion' });
      const digits = buildModel('mnist-digits');
      expect(modelLabels(digits)).toEqual({ labels: DIGIT_CLASSES, source: 'architecture', dataset: 'digits' });
      // Recorded before saving, the names come back with the loaded model.
      const named = buildModel('one-conv');
      named.setUserDefinedMetadata({ labels: [...DIGIT_CLASSES] });
      await saveModel(named, join(folder.dir, 'a'));
      expect(modelLabels(await loadModel(join(folder.dir, 'a')), join(folder.dir, 'a'))).toMatchObject({ source: 'metadata', dataset: 'digits' });
      const names = Array.from({ length: 10 }, (_, i) => `chose ${i}`);
      await saveModel(buildModel('one-conv'), join(folder.dir, 'b'));
      writeFileSync(join(folder.dir, 'b', 'labels.json'), JSON.stringify(names));
      expect(modelLabels(await loadModel(join(folder.dir, 'b')), join(folder.dir, 'b'))).toEqual({ labels: names, source: 'labels.json', dataset: 'other' });
      // A list of the wrong length is ignored.
      writeFileSync(join(folder.dir, 'b', 'labels.json'), JSON.stringify(['a', 'b']));
      expect(modelLabels(await loadModel(join(folder.dir, 'b')), join(folder.dir, 'b')).source).toBe('default');
    } finally {
      folder.cleanup();
    }
  });
});

describe('pictures of the theory', () => {
  async function size(png: Buffer): Promise<{ width?: number; height?: number; density?: number }> {
    const { width, height, density } = await sharp(png).metadata();
    return { width, height, density };
  }

  it('draw matrices with their numbers, the convolution steps, filters, feature maps and a strip of neurons', async () => {
    const hand = convolveByHand(COURSE_EXAMPLE.image, COURSE_EXAMPLE.kernel);
    const one = await size(await matricesPng([{ matrix: COURSE_EXAMPLE.image, palette: 'course', title: 'Image' }]));
    expect(one.width).toBeGreaterThan(5 * 34 * 2);
    expect(one.density).toBeCloseTo(144, 0);
    const steps = await size(await convolutionStepsPng(COURSE_EXAMPLE.image, COURSE_EXAMPLE.kernel, hand));
    // Three rows of steps (one per output row), six panels wide (image and products for three windows).
    expect(steps.width!).toBeGreaterThan(steps.height!);
    const model = buildModel('one-conv');
    const layers = layerActivations(tf, model, randomInput(5));
    expect((await size(await filtersPng(learnedFilters(model)))).width).toBeGreaterThan(0);
    expect((await size(await featureMapsPng(layers[0]))).width).toBeGreaterThan(0);
    expect((await size(await activationsStripPng(layers[4].values))).width).toBeGreaterThan(0);
    expect(await matricesPng([]).catch((error: Error) => error.message)).toMatch(/aucune matrice/);
  });
});

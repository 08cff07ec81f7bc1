/** The fused training kernels compute what tfjs' own gradients compute, without leaking tensors. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { activeFusedKernels, CONV_BIAS_KERNEL, fusedKernelsEnabled, nativeBackend } from '../../../lib/kernels';
import { PROJECT_ROOT } from '../../../lib/paths';

const tf = loadNativeTf();

function maxAbsDiff(a: tfTypes.Tensor, b: tfTypes.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('fused training kernels', () => {
  it('are on by default, all six with oneDNN on', () => {
    expect(fusedKernelsEnabled()).toBe(true);
    const oneDnn = process.env.TF_ENABLE_ONEDNN_OPTS === '1';
    expect(activeFusedKernels()).toEqual(['ReluGrad', 'FusedBatchNormV3', ...(oneDnn ? ['_MklNativeMaxPoolGrad'] : []), 'RandomUniform', ...(oneDnn ? ['_MklNativeConv2DWithBias'] : []), 'ResourceApplyAdam']);
  });

  describe('dropout with a native mask', () => {
    const shape = [64, 12, 12, 8];

    it('keeps each value scaled by 1 / (1 - rate) or zeroes it, in the right proportion', () => {
      const x = tf.add(tf.randomUniform(shape), 1);
      const y = tf.layers.dropout({ rate: 0.25 }).apply(x, { training: true }) as tfTypes.Tensor;
      const xs = x.dataSync();
      const ys = y.dataSync();
      const scale = Math.fround(1 / Math.fround(0.75));
      let zeros = 0;
      let wrong = 0;
      for (let i = 0; i < xs.length; i++) {
        if (ys[i] === 0) zeros++;
        else if (ys[i] !== Math.fround(xs[i] * scale)) wrong++;
      }
      expect(wrong).toBe(0);
      // 73 728 draws: the dropped fraction is 0.25 within 5 standard deviations (0.008).
      expect(Math.abs(zeros / xs.length - 0.25)).toBeLessThan(0.008);
    });

    it('draws a new mask at each call, and none at inference', () => {
      const x = tf.ones(shape);
      const layer = tf.layers.dropout({ rate: 0.5 });
      const first = (layer.apply(x, { training: true }) as tfTypes.Tensor).dataSync();
      const second = (layer.apply(x, { training: true }) as tfTypes.Tensor).dataSync();
      expect(first.some((v, i) => v !== second[i])).toBe(true);
      expect(maxAbsDiff(layer.apply(x, { training: false }) as tfTypes.Tensor, x)).toBe(0);
    });

    it('passes the gradient through the kept values only, scaled like them', () => {
      const x = tf.randomNormal(shape);
      let y: tfTypes.Tensor | undefined;
      const dx = tf.grad((input: tfTypes.Tensor) => (y = tf.keep(tf.dropout(input, 0.3))))(x);
      // y = x * m and dy = 1, so dx = m = y / x wherever x is not zero.
      const multiplier = tf.divNoNan(y!, x);
      expect(maxAbsDiff(dx, multiplier)).toBeLessThan(1e-6);
    });

    it("keeps tfjs' seeded generator when a seed is given (reproducible), and leaks no tensor", () => {
      const x = tf.randomNormal(shape);
      const a = tf.dropout(x, 0.4, undefined, 7);
      const b = tf.dropout(x, 0.4, undefined, 7);
      expect(maxAbsDiff(a, b)).toBe(0);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) tf.dispose(tf.dropout(x, 0.4));
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it("ReLU's gradient is dy where x > 0 and 0 elsewhere (x = 0 included)", () => {
    const x = tf.tensor1d([-2, -0.5, 0, 0.5, 3]);
    const dy = tf.tensor1d([10, 20, 30, 40, 50]);
    const grad = tf.grad((input: tfTypes.Tensor) => tf.relu(input))(x, dy);
    expect(Array.from(grad.dataSync())).toEqual([0, 0, 0, 40, 50]);
  });

  it('ReLU inside a layer model trains to the same gradient as the formula', () => {
    const x = tf.randomNormal([8, 5, 5, 3]);
    const dy = tf.randomNormal([8, 5, 5, 3]);
    const grad = tf.grad((input: tfTypes.Tensor) => tf.relu(input))(x, dy);
    const expected = tf.tidy(() => tf.where(tf.greater(x, 0), dy, tf.zerosLike(dy)));
    expect(maxAbsDiff(grad, expected)).toBe(0);
  });

  it("max pooling's gradient equals TensorFlow's MaxPoolGrad, ties included (first maximum of each window)", () => {
    // Where windows overlap (stride below the window), a pixel's gradient is a sum over windows, and
    // the two kernels add in different orders on some CPUs (seen on AVX-512: 1 ulp apart). What must
    // be identical everywhere is where the gradient goes (the tie rule); the sums then agree to a few
    // ulps. Without overlap there is no sum and the values must be bit for bit the same.
    const backend = nativeBackend(tf)!;
    // Rounded ReLU outputs: many windows hold equal maxima (zeros and repeated values).
    const x = tf.tidy(() => tf.round(tf.mul(tf.relu(tf.randomNormal([8, 26, 26, 16])), 2)));
    for (const [filterSize, strides, pad] of [[2, 2, 'valid'], [3, 2, 'same'], [2, 1, 'valid']] as const) {
      const y = tf.maxPool(x as tfTypes.Tensor4D, filterSize, strides, pad);
      const dy = tf.randomNormal(y.shape);
      const dx = tf.grad((input: tfTypes.Tensor) => tf.maxPool(input as tfTypes.Tensor4D, filterSize, strides, pad))(x, dy);
      const { TF_ATTR_INT, TF_ATTR_STRING } = backend.binding;
      const expected = backend.executeSingleOutput('MaxPoolGrad', [
        { name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT },
        { name: 'ksize', type: TF_ATTR_INT, value: [1, filterSize, filterSize, 1] },
        { name: 'strides', type: TF_ATTR_INT, value: [1, strides, strides, 1] },
        { name: 'padding', type: TF_ATTR_STRING, value: pad.toUpperCase() },
        { name: 'data_format', type: TF_ATTR_STRING, value: 'NHWC' },
      ], [x, y, dy]);
      if (strides >= filterSize) {
        expect(maxAbsDiff(dx, expected)).toBe(0);
        continue;
      }
      const [ours, theirs] = [dx.dataSync(), expected.dataSync()];
      let misrouted = 0;
      let beyondUlps = 0;
      for (let i = 0; i < ours.length; i++) {
        if ((ours[i] !== 0) !== (theirs[i] !== 0)) misrouted++;
        if (Math.abs(ours[i] - theirs[i]) > 4 * 2 ** -23 * Math.max(1, Math.abs(theirs[i]))) beyondUlps++;
      }
      expect({ filterSize, strides, misrouted, beyondUlps }).toEqual({ filterSize, strides, misrouted: 0, beyondUlps: 0 });
    }
  });

  it("max pooling keeps oneDNN's workspace from the forward for the gradient only: none left after it, none at inference", () => {
    const x = tf.randomNormal([4, 12, 12, 8]);
    const dy = tf.randomNormal([4, 6, 6, 8]);
    const expected = tf.grad((input: tfTypes.Tensor) => tf.maxPool(input as tfTypes.Tensor4D, 2, 2, 'valid'))(x, dy);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const dx = tf.grad((input: tfTypes.Tensor) => tf.maxPool(input as tfTypes.Tensor4D, 2, 2, 'valid'))(x, dy);
      expect(maxAbsDiff(dx, expected)).toBe(0);
      dx.dispose();
      tf.dispose(tf.maxPool(x as tfTypes.Tensor4D, 2, 2, 'valid'));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  describe('Adam with ResourceApplyAdam', () => {
    // epsilon large enough, and gradients small enough (1e-6), that where it sits shows in the weights.
    const [lr, beta1, beta2, epsilon] = [0.01, 0.9, 0.999, 1e-6];
    const gradients = [[0.5, -1, 1e-6, 2e-3], [0.4, -0.8, 1e-6, -3], [-0.2, 0.9, 0, 1]];

    it("follows tfjs' formula step by step, epsilon included (float64 reference), and getWeights gives m and v", async () => {
      const weights: tfTypes.Variable = tf.variable(tf.tensor1d([1, 2, -3, 0]), true, 'adam-formula-w');
      const optimizer = tf.train.adam(lr, beta1, beta2, epsilon);
      let [p, m, v] = [[1, 2, -3, 0], [0, 0, 0, 0], [0, 0, 0, 0]];
      gradients.forEach((g, step) => {
        const t = step + 1;
        optimizer.applyGradients({ 'adam-formula-w': tf.tensor1d(g) } as never);
        m = m.map((mi, i) => mi * beta1 + g[i] * (1 - beta1));
        v = v.map((vi, i) => vi * beta2 + g[i] ** 2 * (1 - beta2));
        p = p.map((pi, i) => pi - (lr * (m[i] / (1 - beta1 ** t))) / (Math.sqrt(v[i] / (1 - beta2 ** t)) + epsilon));
        Array.from(weights.dataSync()).forEach((value, i) => expect(Math.abs(value - p[i])).toBeLessThan(1e-6));
      });
      const saved = await optimizer.getWeights();
      expect(saved.map((w) => w.name)).toEqual(['iter', 'adam-formula-w/m', 'adam-formula-w/v']);
      expect(saved[0].tensor.dataSync()[0]).toBe(3);
      Array.from(saved[1].tensor.dataSync()).forEach((value, i) => expect(Math.abs(value - m[i])).toBeLessThan(1e-6));
      Array.from(saved[2].tensor.dataSync()).forEach((value, i) => expect(Math.abs(value - v[i])).toBeLessThan(1e-6));
      tf.dispose(saved.map((w) => w.tensor));
      optimizer.dispose();
      weights.dispose();
    });

    it('starts again from a value set from elsewhere between steps, and leaks no tensor', () => {
      const weights: tfTypes.Variable = tf.variable(tf.tensor1d([1, 2, -3, 0]), true, 'adam-reset-w');
      const optimizer = tf.train.adam(lr, beta1, beta2, epsilon);
      const before = tf.memory().numTensors;
      tf.tidy(() => optimizer.applyGradients({ 'adam-reset-w': tf.tensor1d(gradients[0]) } as never));
      tf.tidy(() => weights.assign(tf.tensor1d([10, 10, 10, 10])));
      tf.tidy(() => optimizer.applyGradients({ 'adam-reset-w': tf.tensor1d(gradients[0]) } as never));
      // Step 2 from 10 moves each weight by about lr at most (not back to where step 1 left it).
      Array.from(weights.dataSync()).forEach((value) => expect(Math.abs(value - 10)).toBeLessThan(1.01 * lr));
      expect(tf.memory().numTensors).toBe(before);
      optimizer.dispose();
      weights.dispose();
    });
  });

  describe.each([
    ['ReLU, valid padding, stride 1 (the lab\'s layers)', 'relu', 'valid', 1],
    ['no activation, same padding, stride 2', 'linear', 'same', 2],
  ] as const)('a Conv2D layer with its bias inside the convolution: %s', (_name, activation, padding, strides) => {
    // tfjs' own formula for the layer: conv2d, add the bias, then the activation.
    const formula = (x: tfTypes.Tensor, kernel: tfTypes.Tensor, bias: tfTypes.Tensor) =>
      tf.tidy(() => {
        const z = tf.add(tf.conv2d(x as tfTypes.Tensor4D, kernel as tfTypes.Tensor4D, strides, padding), bias);
        return activation === 'relu' ? tf.relu(z) : z;
      });

    it('gives the same output and the same gradients (input, kernel, bias) as the formula', () => {
      const layer = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides, padding, activation, biasInitializer: 'randomNormal' });
      const x = tf.randomNormal([4, 9, 9, 3]);
      const y = layer.apply(x) as tfTypes.Tensor;
      const [kernel, bias] = layer.getWeights();
      expect(maxAbsDiff(y, formula(x, kernel, bias))).toBeLessThan(1e-5);
      const dy = tf.randomNormal(y.shape);
      const loss = (f: (input: tfTypes.Tensor, k: tfTypes.Tensor, b: tfTypes.Tensor) => tfTypes.Tensor) =>
        tf.grads((input: tfTypes.Tensor, k: tfTypes.Tensor, b: tfTypes.Tensor) => tf.sum(tf.mul(f(input, k, b), dy)))([x, kernel, bias]);
      // The layer reads its own variables: take its gradients with variableGrads, the input's with grads.
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tfTypes.Tensor, dy)) as tfTypes.Scalar, layer.trainableWeights.map((w) => (w as unknown as { val: tfTypes.Variable }).val));
      const [dxFormula, dKernelFormula, dBiasFormula] = loss(formula);
      const dxLayer = tf.grad((input: tfTypes.Tensor) => tf.sum(tf.mul(layer.apply(input) as tfTypes.Tensor, dy)))(x);
      const [dKernel, dBias] = layer.trainableWeights.map((w) => grads[(w as unknown as { val: tfTypes.Variable }).val.name]);
      expect(maxAbsDiff(dxLayer, dxFormula)).toBeLessThan(1e-4);
      expect(maxAbsDiff(dKernel, dKernelFormula)).toBeLessThan(1e-3);
      expect(maxAbsDiff(dBias, dBiasFormula)).toBeLessThan(1e-3);
      // A ReLU zeroes some outputs (the gradient test would be empty otherwise).
      if (activation === 'relu') expect(tf.tidy(() => tf.sum(tf.equal(y, 0)).dataSync()[0])).toBeGreaterThan(0);
    });

    it('takes the fused kernel, and leaks no tensor over training calls', async () => {
      const layer = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides, padding, activation });
      const x = tf.randomNormal([2, 8, 8, 2]);
      tf.dispose(layer.apply(x) as tfTypes.Tensor);
      const variables = layer.trainableWeights.map((w) => (w as unknown as { val: tfTypes.Variable }).val);
      const step = () => {
        const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x) as tfTypes.Tensor) as tfTypes.Scalar, variables);
        tf.dispose([value, ...Object.values(grads)]);
      };
      step();
      const info = await tf.profile(step);
      expect(info.kernelNames).toContain(CONV_BIAS_KERNEL);
      expect(info.kernelNames).not.toContain('Conv2D');
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) step();
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  describe.each([
    ['convolution maps (rank 4)', [16, 6, 6, 8]],
    ['dense features (rank 2)', [32, 12]],
  ])('batch normalisation in training, %s', (_name, shape) => {
    const epsilon = 1e-3;
    const channels = shape[shape.length - 1];
    const axes = shape.slice(0, -1).map((_, i) => i);

    // tfjs' own unfused formula: moments over every axis but the last, then normalise.
    const unfused = (x: tfTypes.Tensor, gamma: tfTypes.Tensor, beta: tfTypes.Tensor) =>
      tf.tidy(() => {
        const { mean, variance } = tf.moments(x, axes);
        return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta);
      });

    it('gives the same output, gradients and moving averages as tfjs-layers computes them', () => {
      const layer = tf.layers.batchNormalization({ momentum: 0.9, epsilon, gammaInitializer: 'randomNormal', betaInitializer: 'randomNormal' });
      const x = tf.add(tf.mul(tf.randomNormal(shape), 3), 2);
      layer.build(x.shape);
      const [gamma, beta, movingMean, movingVariance] = layer.getWeights();
      const dy = tf.randomNormal(shape);

      const fused = tf.grads((input: tfTypes.Tensor, g: tfTypes.Tensor, b: tfTypes.Tensor) => {
        // The layer reads its own gamma and beta: make them these tensors for the gradient.
        layer.setWeights([g, b, movingMean, movingVariance]);
        return layer.apply(input, { training: true }) as tfTypes.Tensor;
      });
      const expected = tf.grads((input: tfTypes.Tensor, g: tfTypes.Tensor, b: tfTypes.Tensor) => unfused(input, g, b));
      const y = layer.apply(x, { training: true }) as tfTypes.Tensor;
      expect(maxAbsDiff(y, unfused(x, gamma, beta))).toBeLessThan(1e-5);
      const [dx] = fused([x, gamma, beta], dy);
      const [dxExpected, dGammaExpected, dBetaExpected] = expected([x, gamma, beta], dy);
      expect(maxAbsDiff(dx, dxExpected)).toBeLessThan(1e-4);

      // Gradients with respect to gamma and beta, through the layer's own variables.
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tfTypes.Tensor, dy)) as tfTypes.Scalar, layer.trainableWeights.map((w) => (w as unknown as { val: tfTypes.Variable }).val));
      const names = Object.keys(grads);
      expect(maxAbsDiff(grads[names.find((n) => n.includes('gamma'))!], dGammaExpected)).toBeLessThan(1e-3);
      expect(maxAbsDiff(grads[names.find((n) => n.includes('beta'))!], dBetaExpected)).toBeLessThan(1e-4);

      // Moving averages: one training call moves them by (1 - momentum) towards the batch's biased statistics.
      layer.setWeights([gamma, beta, tf.zeros([channels]), tf.ones([channels])]);
      layer.apply(x, { training: true });
      const { mean, variance } = tf.moments(x, axes);
      const [, , newMean, newVariance] = layer.getWeights();
      expect(maxAbsDiff(newMean, tf.mul(mean, 0.1))).toBeLessThan(1e-5);
      expect(maxAbsDiff(newVariance, tf.add(tf.mul(variance, 0.1), 0.9))).toBeLessThan(1e-4);
    });

    it('leaks no tensor over training calls, and inference is untouched', () => {
      const layer = tf.layers.batchNormalization();
      const x = tf.randomNormal(shape);
      layer.apply(x, { training: true });
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) tf.dispose(layer.apply(x, { training: true }) as tfTypes.Tensor);
      expect(tf.memory().numTensors).toBe(before);
      const [gamma, beta, movingMean, movingVariance] = layer.getWeights();
      const inference = layer.apply(x, { training: false }) as tfTypes.Tensor;
      const expected = tf.batchNorm(x, movingMean, movingVariance, beta, gamma, 1e-3);
      expect(maxAbsDiff(inference, expected)).toBe(0);
    });
  });

  it('train the four-conv architecture to the same losses as tfjs without them, and so does the graph step (same seeded weights and data)', () => {
    const run = (fused: boolean, graph: boolean) => {
      const child = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), [join(__dirname, 'train-steps.ts')], {
        encoding: 'utf8',
        env: { ...process.env, ANALYSE_IMAGE_FUSED_KERNELS: fused ? '1' : '0', ANALYSE_IMAGE_GRAPH_TRAINING: graph ? '1' : '0' },
        timeout: 120_000,
      });
      if (child.status !== 0) throw new Error(child.stderr);
      return JSON.parse(child.stdout) as { losses: number[]; predictions: number[]; graph: string };
    };
    const without = run(false, false);
    for (const [withKernels, how] of [[run(true, false), 'eager'], [run(true, true), 'graphe']] as const) {
      expect(withKernels.graph).toBe(how);
      expect(withKernels.losses).toHaveLength(4);
      // The losses move (it trains) and agree to float32 round-off.
      expect(withKernels.losses[3]).toBeLessThan(withKernels.losses[0]);
      withKernels.losses.forEach((loss, i) => expect(Math.abs(loss - without.losses[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(loss))));
      withKernels.predictions.forEach((p, i) => expect(Math.abs(p - without.predictions[i])).toBeLessThan(1e-4));
    }
  }, 360_000);
});

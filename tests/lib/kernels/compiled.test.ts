/**
 * The project's compiled TensorFlow ops (lib/kernels/compiled), built by `npm install`: loaded into
 * libtensorflow, and equal to TensorFlow's own Conv2D + BiasAdd + MaxPool + Relu and their gradients,
 * with the dropout after them or without.
 * The data are small integers and halves, so every sum is exact in float32 whatever its order and the
 * comparisons are exact, the many ties of the pooling windows included.
 */
import { readFileSync } from 'node:fs';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { warpImage } from '../../../lib/augment/transform';
import { CONV_POOL_RELU_GRAD_OP, CONV_POOL_RELU_OP, compiledOpsLibrary, compiledOpsStatus, compiledWarpImages, compiledWarpImagesAsync, compiledWarpInstructions, loadCompiledOps } from '../../../lib/kernels/compiled';
import { DT, FLOAT_T, GraphBuilder, GraphSession } from '../../../lib/train/graph/graph-def';

const tf = loadNativeTf();
const NHWC = { data_format: { s: 'NHWC' } };
const VALID = { strides: { ints: [1, 1, 1, 1] }, padding: { s: 'VALID' }, dilations: { ints: [1, 1, 1, 1] }, use_cudnn_on_gpu: { b: true }, explicit_paddings: { ints: [] } };
const POOL = { ksize: { ints: [1, 2, 2, 1] }, strides: { ints: [1, 2, 2, 1] }, padding: { s: 'VALID' } };

/**
 * TensorFlow's ops and the compiled ones on the same placeholders x, filter, bias; dy is the compiled
 * gradient's output gradient, tf_dy TensorFlow's; seed, threshold and scale the compiled dropout's.
 */
function bothGraphs(filterShape: number[]): GraphSession {
  const g = new GraphBuilder();
  const [x, filter, bias, dy, scale] = ['x', 'filter', 'bias', 'dy', 'scale'].map((name) => g.placeholder(name, null));
  const [seed, threshold] = ['seed', 'threshold'].map((name) => g.op('Placeholder', [], { dtype: { type: DT.INT32 }, shape: { shape: null } }, name));
  const tfDy = g.placeholder('tf_dy', null);
  const conv = g.op('BiasAdd', [g.op('Conv2D', [x, filter], { ...FLOAT_T, ...NHWC, ...VALID }), bias], { ...FLOAT_T, ...NHWC });
  const pooled = g.op('MaxPool', [conv], { ...FLOAT_T, ...NHWC, ...POOL });
  const y = g.op('Relu', [pooled], FLOAT_T, 'tf_y');
  const dPooled = g.op('ReluGrad', [tfDy, y], FLOAT_T);
  const dConv = g.op('MaxPoolGrad', [conv, pooled, dPooled], { ...FLOAT_T, ...NHWC, ...POOL });
  g.op('Conv2DBackpropFilter', [x, g.ints(filterShape), dConv], { ...FLOAT_T, ...NHWC, ...VALID }, 'tf_dfilter');
  g.op('Sum', [dPooled, g.ints([0, 1, 2])], { ...FLOAT_T, Tidx: { type: DT.INT32 }, keep_dims: { b: false } }, 'tf_dbias');
  const compiled = g.op(CONV_POOL_RELU_OP, [x, filter, bias, seed, threshold, scale]);
  g.identityAfter('y', compiled, []);
  const gradients = g.op(CONV_POOL_RELU_GRAD_OP, [x, filter, `${compiled}:1`, dy, scale]);
  g.identityAfter('dfilter', gradients, []);
  g.identityAfter('dbias', `${gradients}:1`, []);
  return GraphSession.load(tf, g);
}

/** The compiled dropout's feeds: no dropout by default. */
function dropoutFeeds(threshold = 0, scale = 1, seed = [0, 0]): [string, tfTypes.Tensor][] {
  return [['seed', tf.tensor1d(seed, 'int32')], ['threshold', tf.scalar(threshold, 'int32')], ['scale', tf.scalar(scale)]];
}

/** Values drawn from {low, ..., high - 1} times `scale`. */
function integers(shape: number[], low: number, high: number, scale: number, seed: number): tfTypes.Tensor {
  return tf.tidy(() => tf.mul(tf.floor(tf.randomUniform(shape, low, high, 'float32', seed)), scale));
}

describe('compiled ops', () => {
  it('are loaded into libtensorflow from the library npm install built', () => {
    expect(loadCompiledOps()).toBe(true);
    expect(compiledOpsStatus()).toBe(true);
    expect(compiledOpsLibrary()).toMatch(/node_modules\/\.cache\/analyse-image-kernels\/ops-[0-9a-f]{12}\.node$/);
  });

  it.each([
    ['the lab\'s first layer', [256, 28, 28, 1], [3, 3, 1, 32]],
    ['filters by eights, two channels, an odd map', [3, 9, 12, 2], [3, 2, 2, 16]],
    ['any filter count', [2, 8, 8, 3], [2, 2, 3, 5]],
  ])('give TensorFlow\'s output and gradients exactly: %s', (_, inputShape, filterShape) => {
    const session = bothGraphs(filterShape);
    const [n, h, w] = inputShape;
    const [kh, kw, , f] = filterShape;
    const x = integers(inputShape, 0, 3, 1, 1);
    const filter = integers(filterShape, -2, 2, 0.5, 2);
    const bias = integers([f], -2, 2, 0.25, 3);
    const dy = integers([n, Math.floor((h - kh + 1) / 2), Math.floor((w - kw + 1) / 2), f], -3, 3, 1, 4);
    const outputs = session.run([['x', x], ['filter', filter], ['bias', bias], ['dy', dy], ['tf_dy', dy], ...dropoutFeeds()], ['tf_y', 'tf_dfilter', 'tf_dbias', 'y', 'dfilter', 'dbias']);
    const [tfY, tfDFilter, tfDBias, y, dFilter, dBias] = outputs.map((t) => Array.from(t.dataSync()));
    expect(outputs[3].shape).toEqual(outputs[0].shape);
    expect(y).toEqual(tfY);
    expect(dFilter).toEqual(tfDFilter);
    expect(dBias).toEqual(tfDBias);
    // Not a trivial case: some values cut by the ReLU, some kept, a gradient that is not zero.
    expect(y.some((v) => v === 0) && y.some((v) => v > 0) && dFilter.some((v) => v !== 0)).toBe(true);
    tf.dispose([...outputs, x, filter, bias, dy]);
    session.close();
  });

  it('drop values after the ReLU at the threshold\'s rate, the others times scale, and give the gradient of what they kept', () => {
    const session = bothGraphs([3, 3, 1, 32]);
    const x = integers([64, 28, 28, 1], 0, 3, 1, 1);
    const filter = integers([3, 3, 1, 32], -2, 2, 0.5, 2);
    const bias = integers([32], -2, 2, 0.25, 3);
    const dy = integers([64, 13, 13, 32], -3, 3, 1, 4);
    const inputs: [string, tfTypes.Tensor][] = [['x', x], ['filter', filter], ['bias', bias], ['dy', dy], ['tf_dy', dy]];
    const run = (feeds: [string, tfTypes.Tensor][], fetches: string[]) => {
      const outputs = session.run(feeds, fetches);
      const values = outputs.map((t) => Float32Array.from(t.dataSync()));
      tf.dispose([...outputs, ...feeds.slice(inputs.length).map(([, t]) => t)]);
      return values;
    };
    const [plain] = run([...inputs, ...dropoutFeeds()], ['y']);
    const positive = plain.filter((v) => v > 0).length;
    // Rate 1/2 (scale 2: every product exact), then the lab's 0.2.
    const [halved, dFilter, dBias] = run([...inputs, ...dropoutFeeds(32768, 2, [7, 11])], ['y', 'dfilter', 'dbias']);
    const dropped = (values: Float32Array) => Uint8Array.from(values, (v, i) => (plain[i] > 0 && v === 0 ? 1 : 0));
    const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);
    expect(halved.every((v, i) => v === 0 || v === plain[i] * 2)).toBe(true);
    const halfMask = dropped(halved);
    const count = halfMask.reduce((a: number, b) => a + b, 0);
    // Some 170 000 positive values: the fraction within 5 standard deviations (< 0.007).
    expect(Math.abs(count / positive - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / positive));
    // The same seed, the same draws; another seed, others.
    expect(same(run([...inputs, ...dropoutFeeds(32768, 2, [7, 11])], ['y'])[0], halved)).toBe(true);
    expect(same(run([...inputs, ...dropoutFeeds(32768, 2, [7, 12])], ['y'])[0], halved)).toBe(false);
    // The gradient is TensorFlow's for the output gradient times the dropout's mask and scale.
    const maskedDy = tf.tensor(Float32Array.from(dy.dataSync(), (v, i) => (halved[i] !== 0 ? v * 2 : 0)), dy.shape);
    const [tfDFilter, tfDBias] = run([...inputs.slice(0, 4), ['tf_dy', maskedDy], ...dropoutFeeds()], ['tf_dfilter', 'tf_dbias']);
    expect(Array.from(dFilter)).toEqual(Array.from(tfDFilter));
    expect(Array.from(dBias)).toEqual(Array.from(tfDBias));
    expect(dFilter.some((v) => v !== 0)).toBe(true);
    const [fifth] = run([...inputs, ...dropoutFeeds(13107, 65536 / (65536 - 13107), [3, 5])], ['y']);
    const fifthMask = dropped(fifth);
    expect(Math.abs(fifthMask.reduce((a: number, b) => a + b, 0) / positive - 13107 / 65536)).toBeLessThan(5 * Math.sqrt(0.16 / positive));
    expect(fifth.every((v, i) => v === 0 || v === Math.fround(plain[i] * Math.fround(65536 / (65536 - 13107))))).toBe(true);
    // Neighbours (two quarters of one 64-bit draw) are dropped together at rate^2, not at rate.
    let both = 0;
    let pairs = 0;
    for (let i = 0; i + 1 < plain.length; i += 2) {
      if (!(plain[i] > 0 && plain[i + 1] > 0)) continue;
      pairs++;
      both += fifthMask[i] * fifthMask[i + 1];
    }
    expect(Math.abs(both / pairs - 0.04)).toBeLessThan(5 * Math.sqrt((0.04 * 0.96) / pairs));
    tf.dispose([x, filter, bias, dy, maskedDy]);
    session.close();
  });

  it.each([
    ['the lab\'s first layer: whole chunks of draws and a remainder', [2, 28, 28, 1], [3, 3, 1, 32]],
    ['five filters: images whose outputs start inside a group of four', [3, 9, 12, 2], [3, 2, 2, 5]],
  ])('drop exactly the values the documented generator draws under the threshold: %s', (_, inputShape, filterShape) => {
    const session = bothGraphs(filterShape);
    const [n, h, w] = inputShape;
    const [kh, kw, , f] = filterShape;
    const x = integers(inputShape, 1, 3, 1, 5);
    const filter = integers(filterShape, 1, 3, 0.5, 6);
    const bias = integers([f], 1, 2, 0.25, 7);
    const dy = tf.zeros([n, Math.floor((h - kh + 1) / 2), Math.floor((w - kw + 1) / 2), f]);
    const seed = [0x12345678, -0x789abcd];
    const threshold = 20000;
    const feeds: [string, tfTypes.Tensor][] = [['x', x], ['filter', filter], ['bias', bias], ['dy', dy], ['tf_dy', dy], ...dropoutFeeds(threshold, 1, seed)];
    const [output] = session.run(feeds, ['y']);
    const y = output.dataSync();
    // splitmix64's output function, in BigInt: the op's key is it over the seed's two words, and value i
    // is kept when bits 16 (i % 4) .. 16 (i % 4) + 15 of it over key + (i / 4 + 1) * golden are >= threshold.
    const M = (1n << 64n) - 1n;
    const mix64 = (z: bigint) => {
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
      return z ^ (z >> 31n);
    };
    const key = mix64((BigInt(seed[0] >>> 0) << 32n) | BigInt(seed[1] >>> 0));
    const kept = Array.from(y, (_v, i) => Number((mix64((key + BigInt(Math.floor(i / 4) + 1) * 0x9e3779b97f4a7c15n) & M) >> BigInt(16 * (i % 4))) & 0xffffn) >= threshold);
    // Every input, filter and bias is positive: no value is cut by the ReLU, only by the dropout.
    expect(Array.from(y, (v) => v !== 0)).toEqual(kept);
    expect(kept.some((k) => !k) && kept.some((k) => k)).toBe(true);
    tf.dispose([output, ...feeds.map(([, t]) => t)]);
    session.close();
  });

  it('refuses tensors that do not fit together, saying which', () => {
    const session = bothGraphs([3, 3, 2, 4]);
    const feeds: [string, tfTypes.Tensor][] = [['x', tf.zeros([1, 8, 8, 1])], ['filter', tf.zeros([3, 3, 2, 4])], ['bias', tf.zeros([4])]];
    expect(() => session.run([...feeds, ...dropoutFeeds()], ['y'])).toThrow(/filter's channels are not the input's/);
    feeds[0] = ['x', tf.zeros([1, 8, 8, 2])];
    expect(() => session.run([...feeds, ...dropoutFeeds(70000)], ['y'])).toThrow(/threshold must be an int32 scalar from 0 to 65535/);
    expect(() => session.run([...feeds, ...dropoutFeeds(0, 1, [1, 2, 3])], ['y'])).toThrow(/seed must be int32 \[2\]/);
    tf.dispose(feeds.map(([, t]) => t));
    session.close();
  });

  it('resample grey images with AVX-512 where the CPU has it (this machine class does)', () => {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
    const avx512 = ['avx512f', 'avx512dq', 'avx512vl'].every((flag) => flags.includes(flag));
    expect(compiledWarpInstructions()).toBe(avx512 ? 'avx512' : 'portable');
  });

  it.each([
    ['grey images', 1, false],
    ['grey images, portable path', 1, true],
    ['three channels', 3, false],
  ])("resample as lib/augment's warpImage, bit for bit: %s", (_, channels, portable) => {
    const warp = compiledWarpImages()!;
    expect(typeof warp).toBe('function');
    const [height, width, count] = [11, 13, 40];
    const size = height * width * channels;
    let state = 7;
    const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const source = Float32Array.from({ length: count * size }, next);
    // Small and large turns, shifts that push pixels past every edge, a NaN matrix: every branch of the clamping.
    const matrices = new Float64Array(6 * count).map((_, i) => (i % 6 === 0 || i % 6 === 4 ? 1 : 0) + (next() - 0.5) * (i < 60 ? 0.2 : 3) + (i % 3 === 2 ? (next() - 0.5) * 30 : 0));
    matrices[6 * (count - 1)] = NaN;
    const offsets = Int32Array.from({ length: count }, (_, k) => k * size);
    const compiled = new Float32Array(count * size);
    warp(source, compiled, offsets, offsets, matrices, height, width, channels, portable);
    const reference = new Float32Array(count * size);
    for (let k = 0; k < count; k++) {
      const [a, b, e, c, d, f] = matrices.subarray(6 * k, 6 * k + 6);
      warpImage(source, k * size, reference, k * size, height, width, [[a, b, e], [c, d, f], [0, 0, 1]], channels);
    }
    expect(compiled.every((v, i) => Object.is(v, reference[i]))).toBe(true);
    expect(Number.isNaN(compiled[compiled.length - 1])).toBe(true);
  });

  it('resample off the JavaScript thread as warpImagesAsync: the same bits, once its promise settles', async () => {
    const [height, width, count] = [28, 28, 64];
    const size = height * width;
    const source = Float32Array.from({ length: count * size }, (_, i) => ((i * 2654435761) % 1000) / 1000);
    const matrices = new Float64Array(6 * count).map((_, i) => (i % 6 === 0 || i % 6 === 4 ? 1 : 0) + Math.sin(i) * 0.1 + (i % 3 === 2 ? Math.cos(i) * 3 : 0));
    const offsets = Int32Array.from({ length: count }, (_, k) => k * size);
    const now = new Float32Array(count * size);
    compiledWarpImages()!(source, now, offsets, offsets, matrices, height, width, 1);
    const later = new Float32Array(count * size);
    const done = compiledWarpImagesAsync()!(source, later, offsets, offsets, matrices, height, width, 1);
    // A promise of the addon's realm, not jest's: checked by its shape.
    expect(typeof done.then).toBe('function');
    await done;
    expect(later.every((v, i) => Object.is(v, now[i]))).toBe(true);
    expect(() => compiledWarpImagesAsync()!(source, later, Int32Array.of(count * size), Int32Array.of(0), new Float64Array(6), height, width, 1)).toThrow(/warpImagesAsync: an image offset falls outside its array/);
  });

  it('refuse a warp whose image falls outside its array', () => {
    const warp = compiledWarpImages()!;
    const images = new Float32Array(2 * 16);
    expect(() => warp(images, images.slice(), Int32Array.of(0, 20), Int32Array.of(0, 16), new Float64Array(12), 4, 4, 1)).toThrow(/offset falls outside its array/);
    expect(() => warp(images, images.slice(), Int32Array.of(0), Int32Array.of(0), new Float64Array(5), 4, 4, 1)).toThrow(/6 per image/);
  });
});

/**
 * Dropout's random mask drawn by TensorFlow's RandomUniform kernel (Philox, in C++) instead of
 * tfjs-core's, which fills the mask one number at a time in JavaScript: about 20 ms for the 1.2
 * million numbers of one four-conv batch, more than the layer's arithmetic. The function is tfjs'
 * own, unchanged: multiplier = floor(u + keep) / keep with u uniform in [0, 1), output x * multiplier.
 * A seeded dropout (`seed` given) keeps tfjs' seeded JavaScript generator, so it stays reproducible.
 */
import { dirname } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { floatType, nativeBackend, type NativeBackend } from './native';

type DropoutOp = (x: tfTypes.Tensor | tfTypes.TensorLike, rate: number, noiseShape?: number[], seed?: number | string) => tfTypes.Tensor;

const PATCHED = Symbol.for('analyse-image.nativeDropout');

/** tfjs-core's module exports, as tfjs-layers reads them (it looks `dropout` up there at each call). */
function coreExports(): { dropout: DropoutOp & { [PATCHED]?: true } } {
  const layersDir = dirname(require.resolve('@tensorflow/tfjs-layers'));
  return require(require.resolve('@tensorflow/tfjs-core', { paths: [layersDir] }));
}

/** A float32 tensor of `shape` uniform in [0, 1), from TensorFlow's RandomUniform kernel (freshly seeded per process). */
export function nativeRandomUniform(tf: typeof tfTypes, backend: NativeBackend, shape: readonly number[]): tfTypes.Tensor {
  const { TF_ATTR_INT, TF_ATTR_TYPE, TF_INT32 } = backend.binding;
  const dims = tf.tensor1d(shape as number[], 'int32');
  // seed = seed2 = 0: TensorFlow seeds the kernel's generator at random, and the cached kernel's stream goes on call after call.
  const uniform = backend.executeSingleOutput('RandomUniform', [
    { name: 'seed', type: TF_ATTR_INT, value: 0 },
    { name: 'seed2', type: TF_ATTR_INT, value: 0 },
    floatType(backend, 'dtype'),
    { name: 'T', type: TF_ATTR_TYPE, value: TF_INT32 },
  ], [dims]);
  dims.dispose();
  return uniform;
}

/** Makes every unseeded float32 dropout (tf.dropout, tf.layers.dropout) draw its mask natively; returns whether it did. */
export function installNativeDropout(tf: typeof tfTypes): boolean {
  const backend = nativeBackend(tf);
  if (!backend) return false;
  const core = coreExports();
  if (core.dropout[PATCHED]) return true;
  const original = core.dropout;
  const dropout = ((x, rate, noiseShape, seed) => {
    const sameShape = noiseShape == null || (x instanceof tf.Tensor && noiseShape.length === x.rank && noiseShape.every((d, i) => d === x.shape[i]));
    if (seed != null || !(x instanceof tf.Tensor) || x.dtype !== 'float32' || !(rate > 0 && rate < 1) || !sameShape) {
      return original(x, rate, noiseShape, seed);
    }
    return tf.tidy(() => {
      const keep = 1 - rate;
      const multiplier = tf.div(tf.floor(tf.add(nativeRandomUniform(tf, backend, x.shape), keep)), keep);
      return tf.mul(x, multiplier);
    });
  }) as DropoutOp & { [PATCHED]?: true };
  dropout[PATCHED] = true;
  core.dropout = dropout;
  return true;
}

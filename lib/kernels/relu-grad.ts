/**
 * ReLU's gradient as one native kernel (TensorFlow's ReluGrad) instead of tfjs' dy * cast(step(x)),
 * which takes seven passes over the tensor (isNaN, greater, ones, fill, select, cast, multiply).
 * Same values: dy where x > 0, else 0.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { floatType, nativeBackend } from './native';

/** Replaces the gradient of the Relu kernel with TensorFlow's ReluGrad for float32 tensors; returns whether it did. */
export function installReluGrad(tf: typeof tfTypes): boolean {
  const backend = nativeBackend(tf);
  if (!backend) return false;
  const original = tf.getGradient('Relu');
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const grad = dy as tfTypes.Tensor;
      if (x.dtype !== 'float32' || grad.dtype !== 'float32') return original.gradFunc(dy, saved, attrs);
      return { x: () => backend.executeSingleOutput('ReluGrad', [floatType(backend, 'T')], [grad, x]) };
    },
  });
  return true;
}

/**
 * Batch normalisation in training as TensorFlow's fused kernels (FusedBatchNormV3 forward,
 * FusedBatchNormGradV3 backward) instead of tfjs-layers' moments + batchNorm, whose gradient is
 * built from about forty elementwise ops over the activations. Same function: normalise with the
 * batch's mean and (biased) variance, scale by gamma, shift by beta; the moving averages are updated
 * exactly as tfjs-layers does. Inference (training false) is untouched.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { floatType, nativeBackend, type NativeBackend } from './native';

interface LayerVariableLike {
  read(): tfTypes.Tensor;
  write(value: tfTypes.Tensor): void;
}

/** The fields of tfjs-layers' BatchNormalization this file reads. */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma?: LayerVariableLike;
  beta?: LayerVariableLike;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}

type Call = (this: BatchNormLayer, inputs: tfTypes.Tensor | tfTypes.Tensor[], kwargs: Record<string, unknown>) => tfTypes.Tensor;

const PATCHED = Symbol.for('analyse-image.fusedBatchNorm');

/** Normalised x (NHWC) with the batch statistics, and those statistics (mean, unbiased variance; kept: the caller disposes them), with TensorFlow's fused gradient. */
export function fusedBatchNormTraining(
  tf: typeof tfTypes,
  backend: NativeBackend,
  x: tfTypes.Tensor4D,
  gamma: tfTypes.Tensor1D,
  beta: tfTypes.Tensor1D,
  epsilon: number,
): { y: tfTypes.Tensor4D; mean: tfTypes.Tensor1D; unbiasedVariance: tfTypes.Tensor1D } {
  const { TF_ATTR_FLOAT, TF_ATTR_BOOL, TF_ATTR_STRING } = backend.binding;
  const common = [
    floatType(backend, 'T'),
    floatType(backend, 'U'),
    { name: 'epsilon', type: TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: TF_ATTR_BOOL, value: true },
  ];
  const forwardAttrs = [...common, { name: 'exponential_avg_factor', type: TF_ATTR_FLOAT, value: 1 }];
  let mean: tfTypes.Tensor1D | undefined;
  let unbiasedVariance: tfTypes.Tensor1D | undefined;
  const normalise = tf.customGrad((...args: (tfTypes.Tensor | tfTypes.GradSaveFunc)[]) => {
    const [input, scale, offset] = args as tfTypes.Tensor[];
    const save = args[3] as tfTypes.GradSaveFunc;
    const empty = tf.tensor1d([], 'float32');
    // y, batch_mean, batch_variance (Bessel-corrected), and three reserve spaces the gradient reads.
    const [y, batchMean, batchVariance, reserve1, reserve2, reserve3] = backend.executeMultipleOutputs('FusedBatchNormV3', forwardAttrs, [input, scale, offset, empty, empty], 6);
    save([input, scale, reserve1, reserve2, reserve3]);
    // customGrad's forward runs in a tidy: keep the statistics for the caller (who disposes them).
    mean = tf.keep(batchMean) as tfTypes.Tensor1D;
    unbiasedVariance = tf.keep(batchVariance) as tfTypes.Tensor1D;
    return {
      value: y,
      gradFunc: (dy: tfTypes.Tensor | tfTypes.Tensor[], saved: tfTypes.Tensor[]) => {
        const [dx, dScale, dOffset, unused1, unused2] = backend.executeMultipleOutputs('FusedBatchNormGradV3', common, [dy as tfTypes.Tensor, ...saved], 5);
        tf.dispose([unused1, unused2]);
        return [dx, dScale, dOffset];
      },
    };
  });
  const y = normalise(x, gamma, beta) as tfTypes.Tensor4D;
  return { y, mean: mean!, unbiasedVariance: unbiasedVariance! };
}

/** Whether this layer call can take the fused path: training, float32, rank 2 or 4, channels last, gamma and beta. */
function fusable(layer: BatchNormLayer, input: tfTypes.Tensor): boolean {
  const lastAxis = layer.axis === -1 || layer.axis === input.rank - 1;
  const batchCount = input.size / input.shape[input.rank - 1];
  return input.dtype === 'float32' && (input.rank === 4 || input.rank === 2) && lastAxis && layer.center && layer.scale && !!layer.gamma && !!layer.beta && batchCount > 1;
}

/** Makes tfjs-layers' BatchNormalization train with TensorFlow's fused batch-norm kernels (once per process); returns whether it is on. */
export function installFusedBatchNorm(tf: typeof tfTypes): boolean {
  const backend = nativeBackend(tf);
  if (!backend) return false;
  const registered = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization as unknown as [{ prototype: { call: Call } & Record<symbol, boolean> }] | undefined;
  const prototype = registered?.[0].prototype;
  if (!prototype) return false;
  if (prototype[PATCHED]) return true;
  const original = prototype.call;
  prototype.call = function (this: BatchNormLayer, inputs, kwargs) {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const training = kwargs?.training == null ? false : Boolean(kwargs.training);
    if (!training || !fusable(this, input)) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const channels = input.shape[input.rank - 1];
      const x4 = (input.rank === 4 ? input : input.reshape([input.shape[0], 1, 1, channels])) as tfTypes.Tensor4D;
      const { y, mean, unbiasedVariance } = fusedBatchNormTraining(tf, backend, x4, this.gamma!.read() as tfTypes.Tensor1D, this.beta!.read() as tfTypes.Tensor1D, this.epsilon);
      // tfjs-layers averages the biased variance (what tf.moments returns): undo Bessel's correction.
      const count = x4.size / channels;
      const variance = tf.mul(unbiasedVariance, (count - 1) / count);
      const decay = 1 - this.momentum;
      for (const [variable, value] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        const current = variable.read();
        variable.write(tf.sub(current, tf.mul(tf.sub(current, value), decay)));
      }
      tf.dispose([mean, unbiasedVariance]);
      return input.rank === 4 ? y : y.reshape(input.shape);
    });
  };
  prototype[PATCHED] = true;
  return true;
}

/**
 * Faster training on the native backend, with the same model function: tfjs' gradients of ReLU and
 * of batch normalisation are replaced by TensorFlow's fused kernels (ReluGrad, FusedBatchNormV3 /
 * FusedBatchNormGradV3), and max pooling's by oneDNN's; a convolution adds its bias inside oneDNN's
 * kernel (gradient: BiasAddGrad); Adam updates each variable with ResourceApplyAdam; dropout draws its mask with TensorFlow's RandomUniform instead of a
 * JavaScript loop. Installed by `loadNativeTf()`; ANALYSE_IMAGE_FUSED_KERNELS=0 turns it off
 * (to measure the difference).
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { installNativeAdam } from './adam';
import { installFusedBatchNorm } from './batch-norm';
import { installConvBias } from './conv-bias';
import { installNativeDropout } from './dropout';
import { installMaxPoolGrad } from './max-pool-grad';
import { installReluGrad } from './relu-grad';

export { installNativeAdam } from './adam';
export { fusedBatchNormTraining, installFusedBatchNorm } from './batch-norm';
export { biasAddGrad, CONV_BIAS_KERNEL, installConvBias, oneDnnConv2DWithBias } from './conv-bias';
export { installNativeDropout, nativeRandomUniform } from './dropout';
export { installMaxPoolGrad, oneDnnMaxPoolGrad } from './max-pool-grad';
export { installReluGrad } from './relu-grad';
export { nativeBackend, type NativeBackend, type OpAttr } from './native';

let installed = false;
const active: string[] = [];

/** The fused kernels this process trains with (empty when off or not on the native backend). */
export function activeFusedKernels(): readonly string[] {
  return active;
}

/** Whether the fused training kernels are enabled (ANALYSE_IMAGE_FUSED_KERNELS is not 0/false). */
export function fusedKernelsEnabled(): boolean {
  const setting = (process.env.ANALYSE_IMAGE_FUSED_KERNELS ?? '').toLowerCase();
  return setting !== '0' && setting !== 'false';
}

/** Installs the fused training kernels once per process; returns whether they are active. */
export function installTrainingKernels(tf: typeof tfTypes): boolean {
  if (!fusedKernelsEnabled()) return false;
  if (!installed) {
    if (installReluGrad(tf)) active.push('ReluGrad');
    if (installFusedBatchNorm(tf)) active.push('FusedBatchNormV3');
    if (installMaxPoolGrad(tf)) active.push('_MklNativeMaxPoolGrad');
    if (installNativeDropout(tf)) active.push('RandomUniform');
    if (installConvBias(tf)) active.push('_MklNativeConv2DWithBias');
    if (installNativeAdam(tf)) active.push('ResourceApplyAdam');
    installed = true;
  }
  return true;
}

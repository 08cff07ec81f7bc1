/** Running a TensorFlow op by name on the native backend, for the fused kernels tfjs does not expose. */
import type * as tfTypes from '@tensorflow/tfjs-node';

/** An op attribute as tfjs-node's binding takes it. */
export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** The part of tfjs-node's backend (NodeJSKernelBackend) these kernels use. */
export interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_FLOAT: number; TF_ATTR_BOOL: number; TF_ATTR_STRING: number; TF_ATTR_INT: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tfTypes.Tensor[]): tfTypes.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tfTypes.Tensor[], outputs: number): tfTypes.Tensor[];
  /** TensorFlow handles of tensors, handing the arrays of those made in JavaScript over to TensorFlow first. */
  getInputTensorIds(tensors: tfTypes.Tensor[]): number[];
}

/** The active backend when it is tfjs-node's native one, else undefined. */
export function nativeBackend(tf: typeof tfTypes): NativeBackend | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  const backend = tf.backend() as unknown as Partial<NativeBackend>;
  return typeof backend.executeMultipleOutputs === 'function' && typeof backend.getInputTensorIds === 'function' && backend.binding ? (backend as NativeBackend) : undefined;
}

/** The float32 type attribute `name` (T, U...). */
export function floatType(backend: NativeBackend, name: string): OpAttr {
  return { name, type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT };
}

/** The attribute that makes eager execution pick oneDNN's kernel of an op (they are registered under the label MklNameChangeOp). */
export function oneDnnKernel(backend: NativeBackend): OpAttr {
  return { name: '_kernel', type: backend.binding.TF_ATTR_STRING, value: 'MklNameChangeOp' };
}

/**
 * A function that hands tensors made from JavaScript arrays over to TensorFlow now (tfjs-node does
 * it at their first op otherwise): TF_NewTensor then copies an array that is not 64-byte aligned,
 * which may be written again afterwards, and shares an aligned one. Undefined when the backend is
 * not tfjs-node's.
 */
export function tensorUpload(tf: typeof tfTypes): ((tensors: tfTypes.Tensor[]) => void) | undefined {
  const backend = nativeBackend(tf);
  return backend ? (tensors) => void backend.getInputTensorIds(tensors) : undefined;
}

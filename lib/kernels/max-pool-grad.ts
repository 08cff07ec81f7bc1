/**
 * Max pooling's gradient with oneDNN's kernels (libtensorflow's _MklNativeMaxPool to get the argmax
 * workspace, then _MklNativeMaxPoolGrad) instead of TensorFlow's generic MaxPoolGrad, which is about
 * five times slower on the lab's 26x26x32 maps. While gradients are recorded, the forward pooling
 * itself runs _MklNativeMaxPool and keeps its workspace for the gradient (a bounded stash keyed by the
 * output), so training does not pool twice; at inference the forward is TensorFlow's MaxPool as before. The gradient goes to the same pixels, ties included
 * (the first maximum of each window in both); where windows overlap the two may add a pixel's
 * contributions in another order (last-bit differences). Only when libtensorflow has these kernels (oneDNN on).
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { floatType, nativeBackend, oneDnnKernel, type NativeBackend, type OpAttr } from './native';


interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: string;
}

const pair = (value: number | [number, number]): [number, number] => (Array.isArray(value) ? value : [value, value]);

/** The op attributes of a 2-D NHWC max pooling, for oneDNN's kernels. */
function poolAttrs(backend: NativeBackend, attrs: PoolAttrs): OpAttr[] {
  const [kh, kw] = pair(attrs.filterSize);
  const [sh, sw] = pair(attrs.strides);
  const { TF_ATTR_INT, TF_ATTR_STRING, TF_ATTR_BOOL } = backend.binding;
  return [
    floatType(backend, 'T'),
    { name: 'ksize', type: TF_ATTR_INT, value: [1, kh, kw, 1] },
    { name: 'strides', type: TF_ATTR_INT, value: [1, sh, sw, 1] },
    { name: 'padding', type: TF_ATTR_STRING, value: String(attrs.pad).toUpperCase() },
    { name: 'data_format', type: TF_ATTR_STRING, value: 'NHWC' },
    { name: 'workspace_enabled', type: TF_ATTR_BOOL, value: true },
    oneDnnKernel(backend),
  ];
}

/** Workspaces of forward poolings run while recording gradients, by their output's data id (oldest first). */
const workspaces = new Map<object, tfTypes.Tensor>();
/** At most this many kept: a pooling whose gradient is never taken leaves its workspace until pushed out. */
const MAX_WORKSPACES = 16;

/** dx of a max pooling with oneDNN's kernels (with the forward's workspace when given, else pooling again to get it). */
export function oneDnnMaxPoolGrad(backend: NativeBackend, x: tfTypes.Tensor, dy: tfTypes.Tensor, attrs: PoolAttrs, forward?: { y: tfTypes.Tensor; workspace: tfTypes.Tensor }): tfTypes.Tensor {
  const opAttrs = poolAttrs(backend, attrs);
  if (forward) return backend.executeSingleOutput('_MklNativeMaxPoolGrad', opAttrs, [x, forward.y, dy, forward.workspace]);
  const [y, workspace] = backend.executeMultipleOutputs('_MklNativeMaxPool', opAttrs, [x], 2);
  try {
    return backend.executeSingleOutput('_MklNativeMaxPoolGrad', opAttrs, [x, y, dy, workspace]);
  } finally {
    y.dispose();
    workspace.dispose();
  }
}

/** Whether libtensorflow runs oneDNN's max-pool kernels here and they agree with MaxPoolGrad on a probe. */
function oneDnnMaxPoolWorks(tf: typeof tfTypes, backend: NativeBackend): boolean {
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d([1, 3, 2, 3, 0, 0, 0, 0, 5, 4, 4, 5, 0, 0, 0, 0], [1, 4, 4, 1]);
      const dy = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
      const dx = oneDnnMaxPoolGrad(backend, x, dy, { filterSize: 2, strides: 2, pad: 'valid' });
      const expected = [0, 1, 0, 2, 0, 0, 0, 0, 3, 0, 0, 4, 0, 0, 0, 0];
      return Array.from(dx.dataSync()).every((v, i) => v === expected[i]);
    });
  } catch {
    return false;
  }
}

const usableFor = (x: tfTypes.TensorInfo, pool: PoolAttrs) => x.dtype === 'float32' && x.shape.length === 4 && (pool.pad === 'valid' || pool.pad === 'same') && pool.dimRoundingMode == null;

/** Makes the native backend's MaxPool kernel keep oneDNN's workspace while gradients are recorded. */
function installMaxPoolForward(tf: typeof tfTypes, backend: NativeBackend): void {
  const registered = tf.getKernel('MaxPool', 'tensorflow');
  if (!registered) return;
  const originalKernel = registered.kernelFunc;
  tf.unregisterKernel('MaxPool', 'tensorflow');
  tf.registerKernel({
    ...registered,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tfTypes.TensorInfo };
      const pool = args.attrs as unknown as PoolAttrs;
      const recording = (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
      if (!recording || !usableFor(x, pool)) return originalKernel(args);
      const [y, workspace] = backend.executeMultipleOutputs('_MklNativeMaxPool', poolAttrs(backend, pool), [x as tfTypes.Tensor], 2);
      // Kept outside every tidy until the gradient takes it (or it is pushed out).
      workspaces.set(y.dataId, tf.keep(workspace));
      while (workspaces.size > MAX_WORKSPACES) {
        const [oldest, stale] = workspaces.entries().next().value as [object, tfTypes.Tensor];
        workspaces.delete(oldest);
        stale.dispose();
      }
      return y as never;
    },
  });
}

/** Replaces MaxPool's gradient with oneDNN's for float32 NHWC poolings, when those kernels work; returns whether it did. */
export function installMaxPoolGrad(tf: typeof tfTypes): boolean {
  const backend = nativeBackend(tf);
  if (!backend || !oneDnnMaxPoolWorks(tf, backend)) return false;
  installMaxPoolForward(tf, backend);
  const original = tf.getGradient('MaxPool');
  tf.registerGradient({
    kernelName: 'MaxPool',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved;
      const pool = attrs as unknown as PoolAttrs;
      if (!usableFor(x, pool)) return original.gradFunc(dy, saved, attrs);
      const workspace = workspaces.get(y.dataId);
      workspaces.delete(y.dataId);
      return {
        x: () => {
          try {
            return oneDnnMaxPoolGrad(backend, x, dy as tfTypes.Tensor, pool, workspace ? { y, workspace } : undefined);
          } finally {
            workspace?.dispose();
          }
        },
      };
    },
  });
  return true;
}

/**
 * Adam's update as one native kernel per variable (TensorFlow's ResourceApplyAdam, the kernel Keras
 * itself runs) instead of tfjs' fourteen elementwise ops per variable, each a pass over the weights
 * (the lab's 5408 x 128 dense kernel: about 5 ms a step, against under 1 ms). The weights, m and v
 * live in TensorFlow resource variables; after each update the weights are read back into the tfjs
 * variable, so the model, getWeights() and saving see them as before. Same function as tfjs' Adam:
 * TensorFlow's kernel computes lr_t * m / (sqrt(v) + eps') with lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t);
 * passing eps' = epsilon * sqrt(1 - beta2^t) makes that tfjs' lr * m_hat / (sqrt(v_hat) + epsilon).
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { floatType, nativeBackend, type NativeBackend, type OpAttr } from './native';

const PATCHED = Symbol.for('analyse-image.nativeAdam');
const STATE = Symbol.for('analyse-image.nativeAdamState');

/** What tfjs-node's binding returns for an op output: a handle id, its shape and TensorFlow dtype. */
interface TensorMetadata {
  id: number;
  shape: number[];
  dtype: number;
}

/** The part of tfjs-node's binding and backend this file uses beyond NativeBackend. */
interface ResourceBackend extends NativeBackend {
  binding: NativeBackend['binding'] & {
    TF_ATTR_SHAPE: number;
    executeOp(name: string, attrs: OpAttr[], inputIds: number[], outputs: number): TensorMetadata[];
    deleteTensor(id: number): void;
  };
  createOutputTensor(metadata: TensorMetadata): tfTypes.Tensor;
}

/** One tfjs variable's three TensorFlow resource variables, and the tensor last written back. */
interface Slots {
  value: number;
  m: number;
  v: number;
  written?: object;
}

/** The fields of tfjs' AdamOptimizer read here and by lib/train/graph. */
export interface AdamLike {
  getClassName(): string;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** tfjs' step count (its iterations_ field stays undefined until the first step). */
  readonly iterations: number;
  accBeta1: tfTypes.Variable;
  accBeta2: tfTypes.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tfTypes.Variable } | undefined)[];
  incrementIterations(): void;
  [STATE]?: Map<string, Slots>;
}

type NamedGradients = Record<string, tfTypes.Tensor> | { name: string; tensor: tfTypes.Tensor }[];

let nextId = 0;

/** A fresh float32 resource variable of `shape` holding `initial` (a copy). Each needs a unique shared name: with an empty one every handle names the same variable. */
function resourceVariable(backend: ResourceBackend, initial: tfTypes.Tensor): number {
  const { binding } = backend;
  const dtype = floatType(backend, 'dtype');
  const [handle] = binding.executeOp('VarHandleOp', [
    dtype,
    { name: 'shape', type: binding.TF_ATTR_SHAPE, value: initial.shape },
    { name: 'container', type: binding.TF_ATTR_STRING, value: '' },
    { name: 'shared_name', type: binding.TF_ATTR_STRING, value: `analyse-image-adam-${process.pid}-${nextId++}` },
  ], [], 1);
  assign(backend, handle.id, initial);
  return handle.id;
}

function assign(backend: ResourceBackend, handle: number, value: tfTypes.Tensor): void {
  const { binding } = backend;
  binding.executeOp('AssignVariableOp', [floatType(backend, 'dtype'), { name: 'validate_shape', type: binding.TF_ATTR_BOOL, value: false }], [handle, ...backend.getInputTensorIds([value])], 0);
}

function read(backend: ResourceBackend, handle: number): tfTypes.Tensor {
  const [metadata] = backend.binding.executeOp('ReadVariableOp', [floatType(backend, 'dtype')], [handle], 1);
  return backend.createOutputTensor(metadata);
}

function destroy(backend: ResourceBackend, slots: Slots): void {
  const { binding } = backend;
  for (const handle of [slots.value, slots.m, slots.v]) {
    binding.executeOp('DestroyResourceOp', [{ name: 'ignore_lookup_error', type: binding.TF_ATTR_BOOL, value: true }], [handle], 0);
    binding.deleteTensor(handle);
  }
}

/** Adam's settings at step `t` as ResourceApplyAdam's six scalar inputs, in its order: beta1^t, beta2^t, lr, beta1, beta2, epsilon'. */
export function resourceApplyAdamScalars(settings: { lr: number; beta1: number; beta2: number; epsilon: number; t: number }): number[] {
  const [beta1Power, beta2Power] = [settings.beta1 ** settings.t, settings.beta2 ** settings.t];
  // TensorFlow adds epsilon to sqrt(v), tfjs to sqrt(v / (1 - beta2^t)): scale it so both agree.
  const epsilon = settings.epsilon * Math.sqrt(1 - beta2Power);
  return [beta1Power, beta2Power, settings.lr, settings.beta1, settings.beta2, epsilon];
}

/** Those six scalars as tensors (made once a step, shared by every variable). */
function adamScalars(tf: typeof tfTypes, settings: { lr: number; beta1: number; beta2: number; epsilon: number; t: number }): tfTypes.Scalar[] {
  return resourceApplyAdamScalars(settings).map((x) => tf.scalar(x));
}

/** Keeps tfjs' beta1^t and beta2^t variables true after step `t`, for anything that reads them. */
export function keepBetaPowers(tf: typeof tfTypes, optimizer: AdamLike, t: number): void {
  tf.tidy(() => {
    optimizer.accBeta1.assign(tf.scalar(optimizer.beta1 ** t));
    optimizer.accBeta2.assign(tf.scalar(optimizer.beta2 ** t));
  });
}

/** One Adam step on a resource variable triple: ResourceApplyAdam with the step's scalars. */
function applyAdam(backend: ResourceBackend, slots: Slots, gradient: tfTypes.Tensor, scalars: tfTypes.Scalar[]): void {
  const { binding } = backend;
  binding.executeOp('ResourceApplyAdam', [
    floatType(backend, 'T'),
    { name: 'use_locking', type: binding.TF_ATTR_BOOL, value: false },
    { name: 'use_nesterov', type: binding.TF_ATTR_BOOL, value: false },
  ], [slots.value, slots.m, slots.v, ...backend.getInputTensorIds([...scalars, gradient])], 0);
}

/** Whether ResourceApplyAdam runs here and gives tfjs' formula on a probe (three steps, float64 reference). */
function nativeAdamWorks(tf: typeof tfTypes, backend: ResourceBackend): boolean {
  let slots: Slots | undefined;
  try {
    const initial = [1, -2, 3, 0.5, 0, 7];
    const grads = [[0.1, -0.2, 0.3, 1, 1e-6, -5], [0.2, 0.2, -0.3, 0.5, 2e-6, -4], [0.05, -0.1, 0.3, 2, 0, 1]];
    const [lr, beta1, beta2, epsilon] = [0.01, 0.9, 0.999, 1e-6];
    slots = tf.tidy(() => ({ value: resourceVariable(backend, tf.tensor1d(initial)), m: resourceVariable(backend, tf.zeros([6])), v: resourceVariable(backend, tf.zeros([6])) }));
    let [p, m, v] = [initial, initial.map(() => 0), initial.map(() => 0)];
    grads.forEach((g, step) => {
      const t = step + 1;
      tf.tidy(() => applyAdam(backend, slots!, tf.tensor1d(g), adamScalars(tf, { lr, beta1, beta2, epsilon, t })));
      m = m.map((mi, i) => mi * beta1 + g[i] * (1 - beta1));
      v = v.map((vi, i) => vi * beta2 + g[i] ** 2 * (1 - beta2));
      p = p.map((pi, i) => pi - (lr * (m[i] / (1 - beta1 ** t))) / (Math.sqrt(v[i] / (1 - beta2 ** t)) + epsilon));
    });
    const result = read(backend, slots.value);
    const values = result.dataSync();
    result.dispose();
    return p.every((expected, i) => Math.abs(values[i] - expected) <= 1e-6 * Math.max(1, Math.abs(expected)));
  } catch {
    return false;
  } finally {
    if (slots) destroy(backend, slots);
  }
}

/** Makes every tfjs Adam optimizer (tf.train.adam, 'adam') update float32 variables with ResourceApplyAdam (once per process); returns whether it is on. */
export function installNativeAdam(tf: typeof tfTypes): boolean {
  const backend = nativeBackend(tf) as ResourceBackend | undefined;
  if (!backend || typeof backend.binding.executeOp !== 'function' || typeof backend.createOutputTensor !== 'function') return false;
  const probe = tf.train.adam();
  const prototype = Object.getPrototypeOf(probe) as {
    applyGradients(this: AdamLike, gradients: NamedGradients): void;
    setWeights(this: AdamLike, weights: unknown): Promise<void>;
    getWeights(this: AdamLike): Promise<{ name: string; tensor: tfTypes.Tensor }[]>;
    dispose(this: AdamLike): void;
  } & Record<symbol, boolean>;
  probe.dispose();
  if (prototype[PATCHED]) return true;
  if (!nativeAdamWorks(tf, backend)) return false;
  const original = { applyGradients: prototype.applyGradients, setWeights: prototype.setWeights, getWeights: prototype.getWeights, dispose: prototype.dispose };

  prototype.applyGradients = function (this: AdamLike, gradients: NamedGradients) {
    const entries = Array.isArray(gradients) ? gradients.map((g) => [g.name, g.tensor] as const) : Object.entries(gradients);
    const registered = tf.engine().registeredVariables;
    const usable = entries.every(([name, grad]) => grad == null || (grad.dtype === 'float32' && registered[name]?.dtype === 'float32'));
    // Once tfjs' own accumulators exist (setWeights, or a non-float32 step), stay on tfjs' path.
    if (!usable || (!this[STATE] && this.accumulatedFirstMoment.length > 0)) return original.applyGradients.call(this, gradients);
    const state = (this[STATE] ??= new Map());
    const t = this.iterations + 1;
    tf.tidy(() => {
      const scalars = adamScalars(tf, { lr: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, t });
      for (const [name, gradient] of entries) {
        if (gradient == null) continue;
        const variable = registered[name];
        let slots = state.get(name);
        if (!slots) {
          slots = { value: resourceVariable(backend, variable), m: resourceVariable(backend, tf.zerosLike(variable)), v: resourceVariable(backend, tf.zerosLike(variable)) };
          state.set(name, slots);
        } else if (slots.written !== variable.dataId) {
          // The variable was set from elsewhere since the last step (setWeights, a restore): start from its value.
          assign(backend, slots.value, variable);
        }
        applyAdam(backend, slots, gradient, scalars);
        const updated = read(backend, slots.value);
        variable.assign(updated);
        slots.written = variable.dataId;
      }
    });
    keepBetaPowers(tf, this, t);
    this.incrementIterations();
  };

  // m and v live in the resource variables: give them out, and take them in, in tfjs' order and names.
  prototype.getWeights = async function (this: AdamLike) {
    if (!this[STATE]) return original.getWeights.call(this);
    const iterations = { name: 'iter', tensor: tf.scalar(this.iterations, 'int32') };
    const slots = [...this[STATE].entries()];
    return [iterations, ...slots.map(([name, s]) => ({ name: `${name}/m`, tensor: read(backend, s.m) })), ...slots.map(([name, s]) => ({ name: `${name}/v`, tensor: read(backend, s.v) }))];
  };
  const dropResources = (optimizer: AdamLike) => {
    for (const slots of optimizer[STATE]?.values() ?? []) destroy(backend, slots);
    delete optimizer[STATE];
  };
  prototype.setWeights = async function (this: AdamLike, weights: unknown) {
    dropResources(this);
    // tfjs' own accumulators from here on (applyGradients sees them and stays on tfjs' path).
    return original.setWeights.call(this, weights);
  };
  prototype.dispose = function (this: AdamLike) {
    dropResources(this);
    return original.dispose.call(this);
  };
  prototype[PATCHED] = true;
  return true;
}

/**
 * Graph-mode training for the course's models: `model.fit`, `fitDataset` and `trainOnBatch` run each
 * batch's whole training step as one TensorFlow session run (lib/train/graph/step.ts) when the model
 * is a Sequential of layers this folder knows, compiled with categoricalCrossentropy, ['accuracy']
 * and Adam; anything else keeps tfjs' eager training, unchanged. Installed by `loadNativeTf()`;
 * ANALYSE_IMAGE_GRAPH_TRAINING=0 turns it off (to measure the difference).
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { nativeBackend } from '../../kernels/native';
import { TrainingGraph, type AdamLike, type ModelLike } from './step';

export { TrainingGraph } from './step';
export { GraphBuilder, GraphSession } from './graph-def';

const PATCHED = Symbol.for('analyse-image.graphTraining');
const GRAPH = Symbol.for('analyse-image.graphTrainingState');
const WHY_EAGER = Symbol.for('analyse-image.graphTrainingReason');
/** lib/kernels/adam's state on an optimizer that already stepped eagerly. */
const NATIVE_ADAM_STATE = Symbol.for('analyse-image.nativeAdamState');

type TrainFunction = (data: tfTypes.Tensor[]) => tfTypes.Scalar[];

interface Trainable extends ModelLike {
  testFunction?: TrainFunction;
  /** A Sequential's inner LayersModel, the one that trains. */
  model?: object;
  optimizer: (AdamLike & { [GRAPH]?: { model: object; graph: TrainingGraph }; [NATIVE_ADAM_STATE]?: unknown }) | undefined;
  [WHY_EAGER]?: string;
}

/** Whether graph-mode training is enabled (ANALYSE_IMAGE_GRAPH_TRAINING is not 0/false). */
export function graphTrainingEnabled(): boolean {
  const setting = (process.env.ANALYSE_IMAGE_GRAPH_TRAINING ?? '').toLowerCase();
  return setting !== '0' && setting !== 'false';
}

/** How `model` trains: 'graphe' once a step ran as a graph, else why it trains eagerly (French), or undefined before its first step. */
export function graphTrainingStatus(model: tfTypes.LayersModel): string | undefined {
  const inner = ((model as unknown as { model?: Trainable }).model ?? model) as unknown as Trainable;
  if (inner.optimizer?.[GRAPH]?.model === inner) return 'graphe';
  return inner[WHY_EAGER];
}

/** Whether `model`'s training graph runs a block as the project's compiled op (false before its first graph step). */
export function graphUsesCompiledOps(model: tfTypes.LayersModel): boolean {
  const inner = ((model as unknown as { model?: Trainable }).model ?? model) as unknown as Trainable;
  const owned = inner.optimizer?.[GRAPH];
  return owned?.model === inner && owned.graph.compiledOps;
}

/** The graph of this model's training with its optimizer, or why it trains eagerly. */
function graphFor(tf: typeof tfTypes, model: Trainable): TrainingGraph | string {
  const optimizer = model.optimizer;
  if (!optimizer || optimizer.getClassName() !== 'Adam') return 'l\'optimiseur n\'est pas Adam';
  const owned = optimizer[GRAPH];
  if (owned) return owned.model === model ? owned.graph : 'l\'optimiseur entraîne déjà un autre modèle';
  const unsupported = TrainingGraph.unsupported(model);
  if (unsupported) return unsupported;
  // An optimizer that already holds moments from eager steps (or from setWeights) keeps them there.
  if (optimizer.accumulatedFirstMoment.length > 0 || optimizer[NATIVE_ADAM_STATE]) return 'l\'optimiseur a déjà des moments d\'un entraînement sans graphe';
  let graph: TrainingGraph | string;
  try {
    graph = TrainingGraph.build(tf, model, optimizer);
  } catch (error) {
    // A session that cannot be written or loaded (no writable temporary folder, say) costs speed, not the training.
    return `le graphe n'a pas pu être chargé (${(error as Error).message.split('\n')[0]})`;
  }
  if (typeof graph !== 'string') optimizer[GRAPH] = { model, graph };
  return graph;
}

/** Whether a batch can go through the graph: float32 images and one-hot labels, no sample weights. */
function graphBatch(data: tfTypes.Tensor[]): boolean {
  const [xs, ys, ...weights] = data;
  return !!xs && !!ys && xs.dtype === 'float32' && ys.dtype === 'float32' && weights.every((w) => w == null);
}

/** Makes LayersModel's training step run as a graph where it applies (once per process); returns whether it is on. */
export function installGraphTraining(tf: typeof tfTypes): boolean {
  if (!graphTrainingEnabled() || !nativeBackend(tf)) return false;
  const model = tf.LayersModel.prototype as unknown as { makeTrainFunction(this: Trainable): TrainFunction; makeTestFunction(this: Trainable): void; dispose(this: Trainable): unknown } & Record<symbol, boolean>;
  if (model[PATCHED]) return true;
  const release = (optimizer: Trainable['optimizer']) => {
    optimizer?.[GRAPH]?.graph.close();
    if (optimizer) delete optimizer[GRAPH];
  };
  const original = model.makeTrainFunction;
  model.makeTrainFunction = function (this: Trainable) {
    const eager = original.call(this);
    if (!graphTrainingEnabled()) {
      this[WHY_EAGER] = 'désactivé (ANALYSE_IMAGE_GRAPH_TRAINING=0)';
      return eager;
    }
    const graph = graphFor(tf, this);
    if (typeof graph === 'string') {
      this[WHY_EAGER] = graph;
      return eager;
    }
    delete this[WHY_EAGER];
    return (data) => (graphBatch(data) ? graph.step(data[0], data[1]) : eager(data));
  };
  // Validation and evaluate run the inference graph of a model already training in a graph (none is built for them alone).
  const originalTest = model.makeTestFunction;
  model.makeTestFunction = function (this: Trainable) {
    originalTest.call(this);
    const eager = this.testFunction!;
    const owned = this.optimizer?.[GRAPH];
    if (!graphTrainingEnabled() || owned?.model !== this) return;
    this.testFunction = (data) => (graphBatch(data) ? owned.graph.evaluate(data[0], data[1]) : eager(data));
  };
  // A disposed model's session (a copy of its weights and Adam's moments) is freed with it.
  const originalDispose = model.dispose;
  model.dispose = function (this: Trainable) {
    const result = originalDispose.call(this);
    const owned = this.optimizer?.[GRAPH];
    if (owned && (owned.model === this || owned.model === this.model)) release(this.optimizer);
    return result;
  };
  model[PATCHED] = true;

  // Adam's m and v live in the session: give them out in tfjs' order and names; setWeights and dispose free the session.
  const probe = tf.train.adam();
  const adam = Object.getPrototypeOf(probe) as {
    getWeights(this: Trainable['optimizer']): Promise<{ name: string; tensor: tfTypes.Tensor }[]>;
    setWeights(this: Trainable['optimizer'], weights: unknown): Promise<void>;
    dispose(this: Trainable['optimizer']): void;
  };
  probe.dispose();
  const previous = { getWeights: adam.getWeights, setWeights: adam.setWeights, dispose: adam.dispose };
  adam.getWeights = async function () {
    const owned = this?.[GRAPH];
    if (!owned) return previous.getWeights.call(this);
    return [{ name: 'iter', tensor: tf.scalar(this!.iterations, 'int32') }, ...owned.graph.moments()];
  };
  adam.setWeights = async function (weights) {
    // tfjs' own accumulators from here on: the next fit sees them and trains eagerly.
    release(this);
    return previous.setWeights.call(this, weights);
  };
  adam.dispose = function () {
    release(this);
    return previous.dispose.call(this);
  };
  return true;
}

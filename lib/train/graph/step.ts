/**
 * A whole training step of a Sequential model as one TensorFlow session run: forward, the loss and
 * accuracy, every gradient, Adam's update of every weight (ResourceApplyAdam, as lib/kernels/adam)
 * and batch normalisation's moving averages. The weights live in the session's resource variables
 * between steps and are read back into the model's tfjs variables after each step, so the model,
 * callbacks, getWeights() and saving see them as before; a variable set from elsewhere (setWeights,
 * a restore) is copied into the session before the next step.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { keepBetaPowers, resourceApplyAdamScalars, type AdamLike } from '../../kernels/adam';
import { DT, FLOAT_T, GraphBuilder, GraphSession } from './graph-def';
import { compilesConvPool, dropoutSettings, graphLayer, poolsBeforeRelu, type GraphContext, type GraphLayer, type LayerLike, type LayerVariableLike, type ReluAfterPooling } from './layers';
import { categoricalAccuracy, categoricalCrossentropy } from './loss';

/** The fields of tfjs-layers' LayersModel read here. */
export interface ModelLike {
  layers: (LayerLike & { inboundNodes: { inboundLayers: unknown[] }[] })[];
  inputs: unknown[];
  outputs: unknown[];
  loss: unknown;
  metrics: unknown;
  collectedTrainableWeights: LayerVariableLike[];
}

export type { AdamLike };

/** What a model's graph holds: its layers and variables in the order the session's nodes are numbered. */
interface Plan {
  layers: GraphLayer[];
  trainable: LayerVariableLike[];
  state: LayerVariableLike[];
  withAccuracy: boolean;
  /** A convolution and its pooling run as the project's compiled op (lib/kernels/compiled). */
  compiledOps: boolean;
  inputShape: number[];
  classes: number;
}

const LOSS = 'categoricalCrossentropy';

function isChain(model: ModelLike): boolean {
  const [first, ...rest] = model.layers;
  return (
    !!first &&
    first.getClassName() === 'InputLayer' &&
    model.inputs.length === 1 &&
    model.outputs.length === 1 &&
    rest.every((layer, i) => layer.inboundNodes.length === 1 && layer.inboundNodes[0].inboundLayers.length === 1 && layer.inboundNodes[0].inboundLayers[0] === model.layers[i])
  );
}

/** Why this model's training cannot run as a graph (French), or its plan. */
function planModel(model: ModelLike, ctx: GraphContext): Plan | string {
  if (!isChain(model)) return 'le modèle n\'est pas une suite de couches (Sequential) à une entrée et une sortie';
  const loss = Array.isArray(model.loss) && model.loss.length === 1 ? model.loss[0] : model.loss;
  if (loss !== LOSS) return `la perte est ${typeof loss === 'string' ? loss : 'une fonction'}, pas ${LOSS}`;
  const metrics = model.metrics == null ? [] : model.metrics;
  if (!Array.isArray(metrics) || metrics.length > 1 || (metrics.length === 1 && metrics[0] !== 'accuracy' && metrics[0] !== 'acc')) return 'les métriques ne sont pas [\'accuracy\']';
  const inputShape = model.layers[0].outputShape as (number | null)[];
  const layers: GraphLayer[] = [];
  let rank = inputShape.length;
  let pairing: ReluAfterPooling | undefined;
  let fusedDropout: { index: number; pooling: ReluAfterPooling } | undefined;
  let compiledOps = false;
  for (const [i, layer] of model.layers.entries()) {
    if (i === 0) continue;
    // A convolution's ReLU and the max pooling after it share one link (the pooling applies the ReLU).
    const next = model.layers[i + 1];
    const pooling = pairing ?? (poolsBeforeRelu(layer, next) ? { pooledGradient: '', compiled: compilesConvPool(layer, next, i === 1) } : undefined);
    pairing = pairing ? undefined : pooling;
    compiledOps ||= !!pooling?.compiled;
    // The compiled op also does a dropout right after the pooling: that layer gets the same link and passes through.
    const afterPooling = model.layers[i + 2];
    const settings = pairing?.compiled && afterPooling ? dropoutSettings(afterPooling) : undefined;
    if (pairing && settings && typeof settings !== 'string') {
      pairing.dropout = settings;
      fusedDropout = { index: i + 2, pooling: pairing };
    }
    const graph = graphLayer(layer, ctx, rank, fusedDropout?.index === i ? fusedDropout.pooling : pooling);
    if (typeof graph === 'string') return graph;
    layers.push(graph);
    rank = (layer.outputShape as unknown[]).length;
  }
  const output = model.layers[model.layers.length - 1].outputShape as (number | null)[];
  if (output.length !== 2 || !output[1] || output[1] < 2) return 'la sortie n\'est pas un vecteur de probabilités par classe';
  const trainable = layers.flatMap((layer) => layer.trainable);
  const expected = new Set(model.collectedTrainableWeights);
  if (trainable.length !== expected.size || !trainable.every((variable) => expected.has(variable))) return 'les poids entraînables du modèle ne sont pas ceux de ses couches';
  if (inputShape.slice(1).some((d) => d == null)) return 'la forme des entrées n\'est pas fixée';
  return { layers, trainable, state: layers.flatMap((layer) => layer.state), withAccuracy: metrics.length === 1, compiledOps, inputShape: inputShape.slice(1) as number[], classes: output[1] };
}

/** Node names of one variable in the session. */
interface VariableNodes {
  handle: string;
  /** Placeholder and fetch that copy a value into the variable. */
  feed: string;
  assigned: string;
  /** The value after the step. */
  updated: string;
  m?: string;
  v?: string;
}

/** The node reading an Adam moment's variable (for getWeights). */
function readName(handle: string): string {
  return `read_${handle}`;
}

/** The graph-mode training of one model with one Adam optimizer. */
export class TrainingGraph {
  private readonly variables: LayerVariableLike[];
  /** The tfjs tensor each variable held when last copied to or from the session (by data id). */
  private readonly written: (object | undefined)[];
  private constructor(
    private readonly tf: typeof tfTypes,
    private readonly session: GraphSession,
    private readonly plan: Plan,
    private readonly nodes: VariableNodes[],
    readonly optimizer: AdamLike,
  ) {
    this.variables = [...plan.trainable, ...plan.state];
    this.written = this.variables.map(() => undefined);
  }

  /** Whether the graph runs a block as the project's compiled op (lib/kernels/compiled). */
  get compiledOps(): boolean {
    return this.plan.compiledOps;
  }

  /** Why `model` cannot train as a graph (French), or undefined when it can. */
  static unsupported(model: ModelLike): string | undefined {
    const g = new GraphBuilder();
    const plan = planModel(model, { g, value: () => '', gradient: () => undefined, update: () => undefined, batchSize: '' });
    return typeof plan === 'string' ? plan : undefined;
  }

  /** The graph of `model`'s training step with `optimizer`, or why there is none (French). */
  static build(tf: typeof tfTypes, model: ModelLike, optimizer: AdamLike): TrainingGraph | string {
    const g = new GraphBuilder();
    const handles = new Map<LayerVariableLike, string>();
    const gradients = new Map<LayerVariableLike, string>();
    const updates = new Map<LayerVariableLike, string>();
    let count = 0;
    const handleOf = (variable: LayerVariableLike, suffix = '') => {
      const name = `var_${count++}${suffix}`;
      return g.op('VarHandleOp', [], { dtype: { type: DT.FLOAT }, shape: { shape: variable.read().shape }, shared_name: { s: name }, container: { s: '' } }, name);
    };
    const ctx: GraphContext = {
      g,
      value(variable) {
        if (!handles.has(variable)) handles.set(variable, handleOf(variable));
        return g.op('ReadVariableOp', [handles.get(variable)!], { dtype: { type: DT.FLOAT } });
      },
      gradient: (variable, node) => void gradients.set(variable, node),
      update: (variable, node) => void updates.set(variable, node),
      batchSize: '',
    };
    const plan = planModel(model, ctx);
    if (typeof plan === 'string') return plan;

    const x = g.placeholder('x', [-1, ...plan.inputShape]);
    const y = g.placeholder('y', [-1, plan.classes]);
    ctx.batchSize = g.op('Slice', [g.op('Shape', [x], { ...FLOAT_T, out_type: { type: DT.INT32 } }), g.ints([0]), g.ints([1])], { T: { type: DT.INT32 }, Index: { type: DT.INT32 } });
    let output = x;
    for (const layer of plan.layers) output = layer.forward(output);
    const { loss, dOutput } = categoricalCrossentropy(g, y, output);
    const accuracy = plan.withAccuracy ? categoricalAccuracy(g, y, output) : undefined;
    let gradient = dOutput;
    for (let i = plan.layers.length - 1; i >= 0; i--) {
      const needInputGradient = plan.layers.slice(0, i).some((l) => l.trainable.length > 0);
      const dInput = plan.layers[i].backward(gradient, needInputGradient);
      if (!needInputGradient) break;
      gradient = dInput!;
    }

    // Adam's six scalars come as one vector: beta1^t, beta2^t, lr, beta1, beta2, epsilon'.
    const adam = g.placeholder('adam', [6]);
    const scalars = g.op('Unpack', [adam], { ...FLOAT_T, num: { i: 6 }, axis: { i: 0 } });
    const scalarInputs = [0, 1, 2, 3, 4, 5].map((i) => `${scalars}:${i}`);
    const steps: string[] = [];
    const nodes: VariableNodes[] = [];
    // Nothing is updated before every gradient is computed: a gradient reads weights that an update would change.
    const afterGradients = [...new Set([...gradients.values()].map((node) => `^${node.split(':')[0]}`))];
    const zero = g.scalar(0);
    const initMoments: string[] = [];
    for (const variable of plan.trainable) {
      const handle = handles.get(variable)!;
      const [m, v] = [handleOf(variable, '_m'), handleOf(variable, '_v')];
      const zeros = g.op('Fill', [g.ints(variable.read().shape), zero], { ...FLOAT_T, index_type: { type: DT.INT32 } });
      for (const moment of [m, v]) {
        initMoments.push(g.op('AssignVariableOp', [moment, zeros], { dtype: { type: DT.FLOAT }, validate_shape: { b: false } }));
        g.op('ReadVariableOp', [moment], { dtype: { type: DT.FLOAT } }, readName(moment));
      }
      steps.push(g.op('ResourceApplyAdam', [handle, m, v, ...scalarInputs, gradients.get(variable)!, ...afterGradients], { ...FLOAT_T, use_locking: { b: false }, use_nesterov: { b: false } }));
      nodes.push({ handle, feed: '', assigned: '', updated: '', m, v });
    }
    for (const variable of plan.state) {
      const handle = handles.get(variable)!;
      steps.push(g.op('AssignVariableOp', [handle, updates.get(variable)!, ...afterGradients], { dtype: { type: DT.FLOAT }, validate_shape: { b: false } }));
      nodes.push({ handle, feed: '', assigned: '', updated: '' });
    }
    // Each variable: a placeholder to copy a value in, and its value read after every update of the step.
    [...plan.trainable, ...plan.state].forEach((variable, i) => {
      const node = nodes[i];
      node.feed = g.placeholder(`feed_${i}`, variable.read().shape);
      const assign = g.op('AssignVariableOp', [node.handle, node.feed], { dtype: { type: DT.FLOAT }, validate_shape: { b: false } });
      node.assigned = g.op('Const', [`^${assign}`], { dtype: { type: DT.FLOAT }, value: { tensor: { dtype: DT.FLOAT, shape: [], floats: [0] } } }, `assigned_${i}`);
      node.updated = g.op('ReadVariableOp', [node.handle, ...steps.map((s) => `^${s}`)], { dtype: { type: DT.FLOAT } }, `updated_${i}`);
    });
    g.op('Const', initMoments.map((n) => `^${n}`), { dtype: { type: DT.FLOAT }, value: { tensor: { dtype: DT.FLOAT, shape: [], floats: [0] } } }, 'moments_zeroed');
    g.identityAfter('step_loss', loss, steps);
    if (accuracy) g.identityAfter('step_accuracy', accuracy, []);

    // Evaluation (fit's validation, evaluate): the inference forward on the same variables, its loss and accuracy.
    let inferred = x;
    for (const layer of plan.layers) inferred = layer.inference(inferred);
    g.identityAfter('eval_loss', categoricalCrossentropy(g, y, inferred).loss, []);
    if (plan.withAccuracy) g.identityAfter('eval_accuracy', categoricalAccuracy(g, y, inferred), []);

    const session = GraphSession.load(tf, g);
    tf.dispose(session.run([], ['moments_zeroed']));
    return new TrainingGraph(tf, session, plan, nodes, optimizer);
  }

  /** One training step on a batch: returns [loss, accuracy] (or [loss]) as tfjs scalars, and leaves the updated weights in the model. */
  step(xs: tfTypes.Tensor, ys: tfTypes.Tensor): tfTypes.Scalar[] {
    const { tf, optimizer } = this;
    this.copyChangedVariables();
    const t = optimizer.iterations + 1;
    const adam = tf.tensor1d(resourceApplyAdamScalars({ lr: optimizer.learningRate, beta1: optimizer.beta1, beta2: optimizer.beta2, epsilon: optimizer.epsilon, t }));
    const fetches = ['step_loss', ...(this.plan.withAccuracy ? ['step_accuracy'] : []), ...this.nodes.map((n) => n.updated)];
    const outputs = this.session.run([['x', xs], ['y', ys], ['adam', adam]], fetches);
    adam.dispose();
    const metrics = outputs.slice(0, fetches.length - this.nodes.length) as tfTypes.Scalar[];
    outputs.slice(metrics.length).forEach((value, i) => {
      const variable = this.variables[i].read() as unknown as tfTypes.Variable;
      variable.assign(value);
      value.dispose();
      this.written[i] = variable.dataId;
    });
    keepBetaPowers(tf, optimizer, t);
    optimizer.incrementIterations();
    return metrics;
  }

  /** The loss and accuracy (or the loss) of the model in inference on a batch, as tfjs' test function returns them. */
  evaluate(xs: tfTypes.Tensor, ys: tfTypes.Tensor): tfTypes.Scalar[] {
    this.copyChangedVariables();
    return this.session.run([['x', xs], ['y', ys]], ['eval_loss', ...(this.plan.withAccuracy ? ['eval_accuracy'] : [])]) as tfTypes.Scalar[];
  }

  /** Adam's m and v of each trainable variable, read from the session (tfjs' names: `<variable>/m`, `<variable>/v`). */
  moments(): { name: string; tensor: tfTypes.Tensor }[] {
    const trainable = this.plan.trainable;
    const ms = this.session.run([], trainable.map((_, i) => readName(this.nodes[i].m!)));
    const vs = this.session.run([], trainable.map((_, i) => readName(this.nodes[i].v!)));
    return [...trainable.map((v, i) => ({ name: `${v.name}/m`, tensor: ms[i] })), ...trainable.map((v, i) => ({ name: `${v.name}/v`, tensor: vs[i] }))];
  }

  /** Frees the session. */
  close(): void {
    this.session.close();
  }

  /** Copies into the session every variable whose tfjs value is not the one last exchanged with it. */
  private copyChangedVariables(): void {
    const feeds: [string, tfTypes.Tensor][] = [];
    const fetches: string[] = [];
    this.variables.forEach((variable, i) => {
      const current = variable.read() as unknown as tfTypes.Tensor;
      if (this.written[i] === current.dataId) return;
      feeds.push([this.nodes[i].feed, current]);
      fetches.push(this.nodes[i].assigned);
      this.written[i] = current.dataId;
    });
    if (feeds.length > 0) this.tf.dispose(this.session.run(feeds, fetches));
  }
}

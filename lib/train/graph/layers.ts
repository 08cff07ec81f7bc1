/**
 * The layers a training graph knows, each as its forward ops and its gradient ops, the functions
 * tfjs-layers computes (same formulas as its eager training with lib/kernels): Conv2D (bias, ReLU),
 * MaxPooling2D, Dropout (unseeded, its draws 16-bit: see dropoutThreshold), Flatten, Dense (ReLU, softmax or none) and BatchNormalization
 * in training mode (batch statistics; moving averages updated as tfjs-layers does). A layer this
 * file does not know, or a setting it does not cover, is named in `unsupported` and the model keeps
 * tfjs' eager training.
 */
import { CONV_POOL_RELU_GRAD_OP, CONV_POOL_RELU_OP, loadCompiledOps } from '../../kernels/compiled';
import { DT, FLOAT_T, type GraphBuilder } from './graph-def';

/** A tfjs-layers weight as the graph sees it. */
export interface LayerVariableLike {
  name: string;
  read(): { dataId: object; shape: number[]; dtype: string };
}

/** What a layer's ops need from the graph being built: its variables' values and where gradients and updates go. */
export interface GraphContext {
  g: GraphBuilder;
  /** The node reading the variable's current value. */
  value(variable: LayerVariableLike): string;
  /** Records the gradient of the loss with respect to a trainable variable. */
  gradient(variable: LayerVariableLike, node: string): void;
  /** Records a non-trainable variable's value after the step (batch normalisation's moving averages). */
  update(variable: LayerVariableLike, node: string): void;
  /** The batch's size as an int32 vector of one value (set once the input exists, before any forward). */
  batchSize: string;
}

/** One layer in the graph: forward(input) returns its output; backward(dOutput) its input's gradient (undefined when not needed). */
export interface GraphLayer {
  forward(input: string): string;
  /** The layer's output in inference (tfjs' training false: no dropout, batch normalisation with its moving averages). */
  inference(input: string): string;
  backward(dOutput: string, needInputGradient: boolean): string | undefined;
  /** The layer's trainable variables (for checking they are the model's). */
  trainable: LayerVariableLike[];
  /** Its non-trainable variables the step updates. */
  state: LayerVariableLike[];
}

/** The fields of tfjs-layers' layers read here (each layer class has a subset). */
export interface LayerLike {
  getClassName(): string;
  name: string;
  trainable: boolean;
  outputShape: (number | null)[] | (number | null)[][];
  activation?: { getClassName(): string };
  kernel?: LayerVariableLike;
  bias?: LayerVariableLike | null;
  useBias?: boolean;
  kernelSize?: number[];
  strides?: number[];
  padding?: string;
  dataFormat?: string;
  dilationRate?: number | number[];
  rank?: number;
  poolSize?: number[];
  rate?: number;
  noiseShape?: unknown;
  seed?: unknown;
  axis?: number | number[];
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  gamma?: LayerVariableLike;
  beta?: LayerVariableLike;
  movingMean?: LayerVariableLike;
  movingVariance?: LayerVariableLike;
  [setting: string]: unknown;
}

/** The reason a layer cannot be trained in a graph, or undefined when it can. */
type Check = string | undefined;

const NHWC = { data_format: { s: 'NHWC' } } as const;
const REGULARISED = ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint', 'gammaRegularizer', 'betaRegularizer', 'gammaConstraint', 'betaConstraint'];

function commonCheck(layer: LayerLike): Check {
  if (!layer.trainable) return `la couche ${layer.name} est gelée (trainable = false)`;
  const extra = REGULARISED.find((field) => layer[field] != null);
  return extra ? `la couche ${layer.name} a un ${extra}` : undefined;
}

function activationName(layer: LayerLike): string {
  return layer.activation?.getClassName() ?? 'linear';
}

function outputShape(layer: LayerLike): (number | null)[] {
  return layer.outputShape as (number | null)[];
}

/** Shape(x) as int32. */
function shapeOf(g: GraphBuilder, x: string): string {
  return g.op('Shape', [x], { ...FLOAT_T, out_type: { type: DT.INT32 } });
}

/** The gradient through an activation whose output is `y`: ReLU (ReluGrad), softmax over the last axis, or none. */
function activationGradient(g: GraphBuilder, activation: string, dy: string, y: string): string {
  if (activation === 'relu') return g.op('ReluGrad', [dy, y], FLOAT_T);
  if (activation === 'softmax') {
    // tfjs' softmax gradient: dy * y - sum(dy * y) * y.
    const dyTimesY = g.op('Mul', [dy, y], FLOAT_T);
    const sum = g.op('Sum', [dyTimesY, g.ints([-1])], { ...FLOAT_T, Tidx: { type: DT.INT32 }, keep_dims: { b: true } });
    return g.op('Sub', [dyTimesY, g.op('Mul', [sum, y], FLOAT_T)], FLOAT_T);
  }
  return dy;
}

/**
 * A layer with a kernel and an optional bias (Conv2D, Dense): `apply` is its output, `backward` its
 * gradients given the input and output the forward saw.
 */
function weighted(
  kernel: LayerVariableLike,
  bias: LayerVariableLike | undefined,
  apply: (input: string) => string,
  backward: (x: string, y: string, dy: string, needInputGradient: boolean) => string | undefined,
): GraphLayer {
  let x = '';
  let y = '';
  return {
    trainable: bias ? [kernel, bias] : [kernel],
    state: [],
    forward(input) {
      x = input;
      y = apply(input);
      return y;
    },
    inference: apply,
    backward: (dy, needInputGradient) => backward(x, y, dy, needInputGradient),
  };
}

function activate(g: GraphBuilder, activation: string, z: string): string {
  if (activation === 'relu') return g.op('Relu', [z], FLOAT_T);
  if (activation === 'softmax') return g.op('Softmax', [z], FLOAT_T);
  return z;
}

function conv2d(layer: LayerLike, ctx: GraphContext, pooling: ReluAfterPooling | undefined): GraphLayer | string {
  const dilations = Array.isArray(layer.dilationRate) ? layer.dilationRate : [layer.dilationRate, layer.dilationRate];
  const declared = activationName(layer);
  // The ReLU moves after the max pooling that follows (see poolsBeforeRelu); the convolution then outputs conv + bias.
  const activation = pooling ? 'linear' : declared;
  if (layer.rank !== 2 || layer.dataFormat !== 'channelsLast') return `la convolution ${layer.name} n'est pas en 2D canaux en dernier`;
  if (!dilations.every((d) => d === 1)) return `la convolution ${layer.name} est dilatée`;
  if (layer.padding !== 'valid' && layer.padding !== 'same') return `la convolution ${layer.name} a le padding ${layer.padding}`;
  if (declared !== 'relu' && declared !== 'linear') return `la convolution ${layer.name} a l'activation ${declared}`;
  const { g } = ctx;
  const kernel = layer.kernel!;
  const bias = layer.useBias ? layer.bias ?? undefined : undefined;
  const strides = layer.strides!.length === 1 ? [layer.strides![0], layer.strides![0]] : layer.strides!;
  const settings = { ...FLOAT_T, ...NHWC, strides: { ints: [1, strides[0], strides[1], 1] }, padding: { s: layer.padding.toUpperCase() }, dilations: { ints: [1, 1, 1, 1] }, use_cudnn_on_gpu: { b: true }, explicit_paddings: { ints: [] } };
  if (pooling?.compiled && bias) return compiledConvPoolRelu(kernel, bias, ctx, pooling.dropout);
  const apply = (input: string) => {
    const conv = g.op('Conv2D', [input, ctx.value(kernel)], settings);
    return activate(g, activation, bias ? g.op('BiasAdd', [conv, ctx.value(bias)], { ...FLOAT_T, ...NHWC }) : conv);
  };
  return weighted(kernel, bias, apply, (x, y, dy, needInputGradient) => {
    const dz = activationGradient(g, activation, dy, y);
    // A sum, not BiasAddGrad: oneDNN's graph pass fuses BiasAddGrad into the filter's gradient, whose bias reduction
    // is slow (measured: the lab's 1-conv step 33-41 ms with it, 27-30 ms with the sum). Before a max pooling, the
    // pooled map's gradient has the same sum (the pooling's gradient moves each value to one position) on a map four times smaller.
    if (bias) ctx.gradient(bias, g.op('Sum', [pooling ? pooling.pooledGradient : dz, g.ints([0, 1, 2])], { ...FLOAT_T, Tidx: { type: DT.INT32 }, keep_dims: { b: false } }));
    ctx.gradient(kernel, g.op('Conv2DBackpropFilter', [x, g.ints(kernel.read().shape), dz], settings));
    return needInputGradient ? g.op('Conv2DBackpropInput', [shapeOf(g, x), ctx.value(kernel), dz], settings) : undefined;
  });
}

/**
 * The first convolution, its max pooling and ReLU, and the dropout after them if any, as the project's
 * compiled op (lib/kernels/compiled): no full-size map, and its gradient gives the filter's and the
 * bias's only (nothing is trainable before it).
 */
function compiledConvPoolRelu(kernel: LayerVariableLike, bias: LayerVariableLike, ctx: GraphContext, dropout: DropoutSettings | undefined): GraphLayer {
  const { g } = ctx;
  let x = '';
  let winner = '';
  const scale = g.scalar(dropout?.scale ?? 1);
  const noDropout = () => [g.ints([0, 0]), g.int(0), g.scalar(1)];
  return {
    trainable: [kernel, bias],
    state: [],
    forward(input) {
      x = input;
      const dropping = dropout ? [stepSeed(g), g.int(dropout.threshold), scale] : noDropout();
      const op = g.op(CONV_POOL_RELU_OP, [x, ctx.value(kernel), ctx.value(bias), ...dropping]);
      winner = `${op}:1`;
      return `${op}:0`;
    },
    inference: (input) => `${g.op(CONV_POOL_RELU_OP, [input, ctx.value(kernel), ctx.value(bias), ...noDropout()])}:0`,
    backward(dy) {
      const gradients = g.op(CONV_POOL_RELU_GRAD_OP, [x, ctx.value(kernel), winner, dy, scale]);
      ctx.gradient(kernel, `${gradients}:0`);
      ctx.gradient(bias, `${gradients}:1`);
      return undefined;
    },
  };
}

/** A max pooling or dropout whose work the compiled convolution before it does: it passes values and gradients through. */
function passThrough(): GraphLayer {
  return { trainable: [], state: [], forward: (input) => input, inference: (input) => input, backward: (dy) => dy };
}

function maxPooling2d(layer: LayerLike, ctx: GraphContext, relu: ReluAfterPooling | undefined): GraphLayer | string {
  if (layer.dataFormat !== 'channelsLast') return `le max pooling ${layer.name} n'est pas canaux en dernier`;
  if (layer.padding !== 'valid' && layer.padding !== 'same') return `le max pooling ${layer.name} a le padding ${layer.padding}`;
  if (relu?.compiled) return passThrough();
  const { g } = ctx;
  const [ph, pw] = layer.poolSize!;
  const [sh, sw] = layer.strides ?? layer.poolSize!;
  const settings = { ...FLOAT_T, ...NHWC, ksize: { ints: [1, ph, pw, 1] }, strides: { ints: [1, sh, sw, 1] }, padding: { s: layer.padding.toUpperCase() } };
  let x = '';
  let pooled = '';
  let y = '';
  return {
    trainable: [],
    state: [],
    forward(input) {
      x = input;
      pooled = g.op('MaxPool', [x], settings);
      y = relu ? g.op('Relu', [pooled], FLOAT_T) : pooled;
      return y;
    },
    inference(input) {
      const max = g.op('MaxPool', [input], settings);
      return relu ? g.op('Relu', [max], FLOAT_T) : max;
    },
    backward(dy) {
      const dPooled = relu ? g.op('ReluGrad', [dy, y], FLOAT_T) : dy;
      if (relu) relu.pooledGradient = dPooled;
      return g.op('MaxPoolGrad', [x, pooled, dPooled], settings);
    },
  };
}

/**
 * Dropout's draws are 16-bit: each 32-bit word of TensorFlow's Philox generator gives two values, and
 * Philox was the step's largest kernel after the dense matmuls (measured: 4.3 ms of the 1-conv's
 * ~21 ms step for its 256 x 13 x 13 x 32 float draws, 2.5 ms with 16-bit ones). A value is dropped
 * when its draw is below round(rate x 65536): the dropped fraction is the rate to within 2^-17
 * (0.2 -> 0.1999969) and the kept values are scaled by 1 / (their fraction), so the expected output
 * is still the input, as in tfjs (whose float draws are themselves 2^-23 steps). The compiled op
 * (lib/kernels/compiled) does a dropout right after it with the same threshold and scale, its
 * 16-bit draws from a generator of its own (splitmix64).
 */
const DRAW_LEVELS = 65536;

/** The threshold under which a 16-bit draw drops its value, for `rate`. */
export function dropoutThreshold(rate: number): number {
  return Math.round(rate * DRAW_LEVELS);
}

/** A dropout as the graph does it: values whose draw is below `threshold` dropped, the others times `scale`. */
export interface DropoutSettings {
  threshold: number;
  scale: number;
}

/** The settings of a dropout layer the graph can do, or why it cannot (French). */
export function dropoutSettings(layer: LayerLike): DropoutSettings | string {
  if (layer.getClassName() !== 'Dropout') return `la couche ${layer.name} n'est pas un dropout`;
  if (layer.seed != null) return `le dropout ${layer.name} a une graine (seed)`;
  if (layer.noiseShape != null) return `le dropout ${layer.name} a un noiseShape`;
  const rate = layer.rate!;
  const threshold = dropoutThreshold(rate);
  if (!(rate >= 0 && rate < 1) || threshold >= DRAW_LEVELS) return `le dropout ${layer.name} a le taux ${rate}`;
  return { threshold, scale: DRAW_LEVELS / (DRAW_LEVELS - threshold) };
}

/** A fresh seed per step from TensorFlow's stateful generator (seed 0: at random, as tfjs' unseeded dropout). */
function stepSeed(g: GraphBuilder): string {
  return g.op('RandomUniformInt', [g.ints([2]), g.int(-(2 ** 31)), g.int(2 ** 31 - 1)], { seed: { i: 0 }, seed2: { i: 0 }, Tout: { type: DT.INT32 }, T: { type: DT.INT32 } });
}

function dropout(layer: LayerLike, ctx: GraphContext, compiledBefore: ReluAfterPooling | undefined): GraphLayer | string {
  const settings = dropoutSettings(layer);
  if (typeof settings === 'string') return settings;
  if (compiledBefore?.dropout || settings.threshold === 0) return passThrough();
  const { g } = ctx;
  const { threshold, scale } = settings;
  const [, ...rest] = outputShape(layer) as number[];
  const size = rest.reduce((a, b) => a * b, 1);
  let multiplier = '';
  return {
    trainable: [],
    state: [],
    forward(input) {
      // Shapes from the batch's size, not from the input: the draw can run while the layers before it compute.
      const concat = (dims: number[]) => g.op('ConcatV2', [ctx.batchSize, g.ints(dims), g.int(0)], { T: { type: DT.INT32 }, N: { i: 2 }, Tidx: { type: DT.INT32 } });
      const words = Math.ceil(size / 2);
      const bits = g.op('StatelessRandomUniformFullInt', [concat([words]), stepSeed(g)], { dtype: { type: DT.UINT32 }, Tseed: { type: DT.INT32 }, T: { type: DT.INT32 } });
      let draws = g.op('Reshape', [g.op('Bitcast', [bits], { T: { type: DT.UINT32 }, type: { type: DT.UINT16 } }), concat([2 * words])], { T: { type: DT.UINT16 }, Tshape: { type: DT.INT32 } });
      if (2 * words !== size) draws = g.op('Slice', [draws, g.ints([0, 0]), g.ints([-1, size])], { T: { type: DT.UINT16 }, Index: { type: DT.INT32 } });
      draws = g.op('Reshape', [draws, concat(rest)], { T: { type: DT.UINT16 }, Tshape: { type: DT.INT32 } });
      const kept = g.op('GreaterEqual', [draws, g.op('Const', [], { dtype: { type: DT.UINT16 }, value: { tensor: { dtype: DT.UINT16, shape: [], ints: [threshold] } } })], { T: { type: DT.UINT16 } });
      multiplier = g.op('Mul', [g.op('Cast', [kept], { SrcT: { type: DT.BOOL }, DstT: { type: DT.FLOAT } }), g.scalar(scale)], FLOAT_T);
      return g.op('Mul', [input, multiplier], FLOAT_T);
    },
    inference: (input) => input,
    backward: (dy) => g.op('Mul', [dy, multiplier], FLOAT_T),
  };
}

function flatten(layer: LayerLike, ctx: GraphContext): GraphLayer | string {
  if (layer.dataFormat === 'channelsFirst') return `l'aplatissement ${layer.name} est canaux en premier`;
  const { g } = ctx;
  const size = outputShape(layer)[1];
  let x = '';
  return {
    trainable: [],
    state: [],
    forward(input) {
      x = input;
      return g.op('Reshape', [x, g.ints([-1, size!])], { ...FLOAT_T, Tshape: { type: DT.INT32 } });
    },
    inference: (input) => g.op('Reshape', [input, g.ints([-1, size!])], { ...FLOAT_T, Tshape: { type: DT.INT32 } }),
    backward(dy) {
      return g.op('Reshape', [dy, shapeOf(g, x)], { ...FLOAT_T, Tshape: { type: DT.INT32 } });
    },
  };
}

function dense(layer: LayerLike, ctx: GraphContext, inputRank: number): GraphLayer | string {
  const activation = activationName(layer);
  if (inputRank !== 2) return `la couche dense ${layer.name} reçoit un tenseur de rang ${inputRank}`;
  if (!['relu', 'softmax', 'linear'].includes(activation)) return `la couche dense ${layer.name} a l'activation ${activation}`;
  const { g } = ctx;
  const kernel = layer.kernel!;
  const bias = layer.useBias ? layer.bias ?? undefined : undefined;
  const matMul = (a: string, b: string, transposeA: boolean, transposeB: boolean) => g.op('MatMul', [a, b], { ...FLOAT_T, transpose_a: { b: transposeA }, transpose_b: { b: transposeB } });
  const apply = (input: string) => {
    const product = matMul(input, ctx.value(kernel), false, false);
    return activate(g, activation, bias ? g.op('BiasAdd', [product, ctx.value(bias)], { ...FLOAT_T, ...NHWC }) : product);
  };
  return weighted(kernel, bias, apply, (x, y, dy, needInputGradient) => {
    const dz = activationGradient(g, activation, dy, y);
    if (bias) ctx.gradient(bias, g.op('BiasAddGrad', [dz], { ...FLOAT_T, ...NHWC }));
    ctx.gradient(kernel, matMul(x, dz, true, false));
    return needInputGradient ? matMul(dz, ctx.value(kernel), false, true) : undefined;
  });
}

function batchNormalization(layer: LayerLike, ctx: GraphContext, inputRank: number): GraphLayer | string {
  const axis = Array.isArray(layer.axis) ? layer.axis : [layer.axis];
  if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== inputRank - 1)) return `la normalisation ${layer.name} n'est pas sur le dernier axe`;
  if (inputRank !== 4 && inputRank !== 2) return `la normalisation ${layer.name} reçoit un tenseur de rang ${inputRank}`;
  if (!layer.center || !layer.scale || !layer.gamma || !layer.beta) return `la normalisation ${layer.name} n'a pas gamma et beta`;
  const { g } = ctx;
  const { gamma, beta, movingMean, movingVariance } = layer as Required<Pick<LayerLike, 'gamma' | 'beta' | 'movingMean' | 'movingVariance'>>;
  const channels = gamma.read().shape[0];
  const common = { ...FLOAT_T, U: { type: DT.FLOAT }, epsilon: { f: layer.epsilon! }, ...NHWC, is_training: { b: true } };
  let x4 = '';
  let normalised = '';
  let inputShape = '';
  return {
    trainable: [gamma, beta],
    state: [movingMean, movingVariance],
    forward(input) {
      inputShape = shapeOf(g, input);
      x4 = inputRank === 4 ? input : g.op('Reshape', [input, g.ints([-1, 1, 1, channels])], { ...FLOAT_T, Tshape: { type: DT.INT32 } });
      const empty = g.op('Const', [], { dtype: { type: DT.FLOAT }, value: { tensor: { dtype: DT.FLOAT, shape: [0] } } });
      // y, the batch's mean and Bessel-corrected variance, and three reserve spaces for the gradient.
      normalised = g.op('FusedBatchNormV3', [x4, ctx.value(gamma), ctx.value(beta), empty, empty], { ...common, exponential_avg_factor: { f: 1 } });
      // tfjs-layers averages the biased variance: undo Bessel's correction, count = values per channel.
      const count = g.op('Cast', [g.op('Size', [x4], { ...FLOAT_T, out_type: { type: DT.INT32 } })], { SrcT: { type: DT.INT32 }, DstT: { type: DT.FLOAT }, Truncate: { b: false } });
      const perChannel = g.op('RealDiv', [count, g.scalar(channels)], FLOAT_T);
      const variance = g.op('Mul', [`${normalised}:2`, g.op('RealDiv', [g.op('Sub', [perChannel, g.scalar(1)], FLOAT_T), perChannel], FLOAT_T)], FLOAT_T);
      const decay = g.scalar(1 - layer.momentum!);
      for (const [variable, batchValue] of [[movingMean, `${normalised}:1`], [movingVariance, variance]] as const) {
        const current = ctx.value(variable);
        ctx.update(variable, g.op('Sub', [current, g.op('Mul', [g.op('Sub', [current, batchValue], FLOAT_T), decay], FLOAT_T)], FLOAT_T));
      }
      return inputRank === 4 ? normalised : g.op('Reshape', [normalised, inputShape], { ...FLOAT_T, Tshape: { type: DT.INT32 } });
    },
    inference(input) {
      // tfjs' inference: batchNorm with the moving mean and variance.
      const input4 = inputRank === 4 ? input : g.op('Reshape', [input, g.ints([-1, 1, 1, channels])], { ...FLOAT_T, Tshape: { type: DT.INT32 } });
      const y4 = g.op('FusedBatchNormV3', [input4, ctx.value(gamma), ctx.value(beta), ctx.value(movingMean), ctx.value(movingVariance)], { ...common, is_training: { b: false }, exponential_avg_factor: { f: 1 } });
      return inputRank === 4 ? y4 : g.op('Reshape', [y4, shapeOf(g, input)], { ...FLOAT_T, Tshape: { type: DT.INT32 } });
    },
    backward(dy) {
      const dy4 = inputRank === 4 ? dy : g.op('Reshape', [dy, g.ints([-1, 1, 1, channels])], { ...FLOAT_T, Tshape: { type: DT.INT32 } });
      const grads = g.op('FusedBatchNormGradV3', [dy4, x4, ctx.value(gamma), `${normalised}:3`, `${normalised}:4`, `${normalised}:5`], common);
      ctx.gradient(gamma, `${grads}:1`);
      ctx.gradient(beta, `${grads}:2`);
      return inputRank === 4 ? grads : g.op('Reshape', [grads, inputShape], { ...FLOAT_T, Tshape: { type: DT.INT32 } });
    },
  };
}

/**
 * Whether a convolution's ReLU can run after the max pooling that follows it: max(relu(z)) = relu(max(z))
 * because ReLU never reverses an order, and the gradient reaches the same position (a window's first
 * maximum, or nowhere when it is not positive), so the function and its gradients are the same while
 * ReLU and its gradient work on a map four times smaller.
 */
export function poolsBeforeRelu(layer: LayerLike, next: LayerLike | undefined): boolean {
  return layer.getClassName() === 'Conv2D' && activationName(layer) === 'relu' && next?.getClassName() === 'MaxPooling2D';
}

/** Shared by a convolution and the max pooling that applies its ReLU: the pooled map's gradient, set by the pooling's backward. */
export interface ReluAfterPooling {
  pooledGradient: string;
  /** The pair runs as the compiled op (see compilesConvPool). */
  compiled?: boolean;
  /** The dropout right after the pooling, done by the compiled op too (that layer then passes through). */
  dropout?: DropoutSettings;
}

/**
 * Whether a convolution and the max pooling after it (poolsBeforeRelu) can run as the compiled op:
 * the model's first layer (nothing trainable before it), stride 1, no padding, with bias, a 2 x 2
 * pooling of stride 2 without padding, and the ops loaded in this process.
 */
export function compilesConvPool(conv: LayerLike, pool: LayerLike, firstLayer: boolean): boolean {
  const ones = (values: number | number[] | undefined) => (Array.isArray(values) ? values : [values]).every((v) => v === 1);
  const twos = (values: number[] | undefined) => !!values && values.length === 2 && values.every((v) => v === 2);
  return (
    firstLayer &&
    poolsBeforeRelu(conv, pool) &&
    conv.padding === 'valid' &&
    conv.dataFormat === 'channelsLast' &&
    conv.rank === 2 &&
    ones(conv.strides) &&
    ones(conv.dilationRate) &&
    !!conv.useBias &&
    !!conv.bias &&
    pool.padding === 'valid' &&
    pool.dataFormat === 'channelsLast' &&
    twos(pool.poolSize) &&
    twos(pool.strides ?? pool.poolSize) &&
    loadCompiledOps() === true
  );
}

/** The graph form of one layer, or why it has none (French, shown by graphTrainingStatus). */
export function graphLayer(layer: LayerLike, ctx: GraphContext, inputRank: number, reluAfterPooling?: ReluAfterPooling): GraphLayer | string {
  const kind = layer.getClassName();
  const problem = commonCheck(layer);
  if (problem) return problem;
  switch (kind) {
    case 'Conv2D':
      return conv2d(layer, ctx, reluAfterPooling);
    case 'MaxPooling2D':
      return maxPooling2d(layer, ctx, reluAfterPooling);
    case 'Dropout':
      return dropout(layer, ctx, reluAfterPooling);
    case 'Flatten':
      return flatten(layer, ctx);
    case 'Dense':
      return dense(layer, ctx, inputRank);
    case 'BatchNormalization':
      return batchNormalization(layer, ctx, inputRank);
    default:
      return `la couche ${layer.name} (${kind}) n'a pas de forme en graphe`;
  }
}

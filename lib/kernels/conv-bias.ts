/**
 * A Conv2D layer with bias as one oneDNN kernel (libtensorflow's _MklNativeConv2DWithBias: the bias
 * is added inside the convolution) and the bias gradient as TensorFlow's BiasAddGrad, instead of
 * tfjs-layers' conv2d, then add, then sum over batch x height x width for the gradient: two fewer
 * passes over each feature map, and BiasAddGrad reduces about 2 to 4 times faster than tfjs' sum.
 * ReLU stays its own kernel (its gradient is ReluGrad, on the saved output: y > 0 exactly where
 * conv + bias > 0). Same function: the probe at install checks the outputs equal conv + add.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { floatType, nativeBackend, oneDnnKernel, type NativeBackend, type OpAttr } from './native';

/** The kernel this file registers for the native backend. */
export const CONV_BIAS_KERNEL = 'AnalyseImageConv2DBias';

const PATCHED = Symbol.for('analyse-image.convBias');

/** The attributes the kernel takes (a subset of tfjs-layers' Conv2D settings, in TensorFlow's terms). */
interface ConvBiasAttrs {
  strides: [number, number];
  pad: 'valid' | 'same';
  relu: boolean;
}

/** The fields of tfjs-layers' Conv2D this file reads. */
interface ConvLayer {
  rank: number;
  dataFormat: string;
  padding: string;
  strides: number[];
  dilationRate: number | number[];
  useBias: boolean;
  kernel: { read(): tfTypes.Tensor };
  bias?: { read(): tfTypes.Tensor } | null;
  activation: { getClassName(): string };
}

type Call = (this: ConvLayer, inputs: tfTypes.Tensor | tfTypes.Tensor[], kwargs: Record<string, unknown>) => tfTypes.Tensor;

function convAttrs(backend: NativeBackend, attrs: ConvBiasAttrs): OpAttr[] {
  const { TF_ATTR_INT, TF_ATTR_STRING } = backend.binding;
  return [
    floatType(backend, 'T'),
    { name: 'strides', type: TF_ATTR_INT, value: [1, attrs.strides[0], attrs.strides[1], 1] },
    { name: 'padding', type: TF_ATTR_STRING, value: attrs.pad.toUpperCase() },
    { name: 'data_format', type: TF_ATTR_STRING, value: 'NHWC' },
    { name: 'dilations', type: TF_ATTR_INT, value: [1, 1, 1, 1] },
  ];
}

/** conv(x, filter) + bias, NHWC, in one oneDNN kernel. */
export function oneDnnConv2DWithBias(backend: NativeBackend, x: tfTypes.Tensor, filter: tfTypes.Tensor, bias: tfTypes.Tensor, attrs: ConvBiasAttrs): tfTypes.Tensor {
  const { TF_ATTR_BOOL } = backend.binding;
  const opAttrs = [
    ...convAttrs(backend, attrs),
    { name: 'is_filter_const', type: TF_ATTR_BOOL, value: false },
    oneDnnKernel(backend),
  ];
  return backend.executeSingleOutput('_MklNativeConv2DWithBias', opAttrs, [x, filter, bias]);
}

/** The bias gradient of an NHWC (or [N, C]) map: the sum over every axis but the last, as TensorFlow's BiasAddGrad. */
export function biasAddGrad(backend: NativeBackend, dy: tfTypes.Tensor): tfTypes.Tensor {
  const format = { name: 'data_format', type: backend.binding.TF_ATTR_STRING, value: 'NHWC' };
  return backend.executeSingleOutput('BiasAddGrad', [floatType(backend, 'T'), format], [dy]);
}

/** Whether oneDNN's convolution with bias runs here and equals Conv2D + bias on a probe (strides 1 and 2, both paddings). */
function oneDnnConvWithBiasWorks(tf: typeof tfTypes, backend: NativeBackend): boolean {
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d(Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => ((i * 7) % 11) - 5), [2, 5, 5, 3]);
      const filter = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => ((i * 5) % 9) - 4), [3, 3, 3, 4]);
      const bias = tf.tensor1d([0.5, -1, 2, 0]);
      return (['valid', 'same'] as const).every((pad) =>
        [1, 2].every((stride) => {
          const expected = tf.add(tf.conv2d(x, filter, stride, pad), bias);
          const actual = oneDnnConv2DWithBias(backend, x, filter, bias, { strides: [stride, stride], pad, relu: false });
          return tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] < 1e-4;
        }),
      );
    });
  } catch {
    return false;
  }
}

/** Whether this call can take the fused path: float32 NHWC input, 2-D convolution with bias, no dilation, ReLU or no activation. */
function fusable(layer: ConvLayer, input: tfTypes.Tensor): boolean {
  const dilations = Array.isArray(layer.dilationRate) ? layer.dilationRate : [layer.dilationRate, layer.dilationRate];
  const activation = layer.activation.getClassName();
  return (
    layer.rank === 2 &&
    input.rank === 4 &&
    input.dtype === 'float32' &&
    layer.dataFormat === 'channelsLast' &&
    (layer.padding === 'valid' || layer.padding === 'same') &&
    dilations.every((d) => d === 1) &&
    layer.useBias &&
    !!layer.bias &&
    (activation === 'relu' || activation === 'linear')
  );
}

/**
 * Registers the fused convolution kernel and its gradient, and makes tfjs-layers' Conv2D use it where
 * it applies (once per process); returns whether it is on (native backend with oneDNN's kernel).
 */
export function installConvBias(tf: typeof tfTypes): boolean {
  const backend = nativeBackend(tf);
  if (!backend || !oneDnnConvWithBiasWorks(tf, backend)) return false;
  const registered = tf.serialization.SerializationMap.getMap().classNameMap.Conv2D as unknown as [{ prototype: { call: Call } & Record<symbol, boolean> }] | undefined;
  const prototype = registered?.[0].prototype;
  if (!prototype) return false;
  if (prototype[PATCHED]) return true;

  tf.registerKernel({
    kernelName: CONV_BIAS_KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, attrs }) => {
      const { x, filter, bias } = inputs as unknown as { x: tfTypes.Tensor; filter: tfTypes.Tensor; bias: tfTypes.Tensor };
      const settings = attrs as unknown as ConvBiasAttrs;
      const y = oneDnnConv2DWithBias(backend, x, filter, bias, settings);
      if (!settings.relu) return y as never;
      const activated = backend.executeSingleOutput('Relu', [floatType(backend, 'T')], [y]);
      y.dispose();
      return activated as never;
    },
  });
  tf.registerGradient({
    kernelName: CONV_BIAS_KERNEL,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved;
      const settings = attrs as unknown as ConvBiasAttrs;
      const grad = dy as tfTypes.Tensor;
      // The ReLU's gradient once, shared by the three below (tfjs calls only the ones it needs).
      const dz = settings.relu ? backend.executeSingleOutput('ReluGrad', [floatType(backend, 'T')], [grad, y]) : grad;
      const common = { strides: settings.strides, pad: settings.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
      return {
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter }, { ...common, inputShape: x.shape } as never) as tfTypes.Tensor,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dz }, { ...common, filterShape: filter.shape } as never) as tfTypes.Tensor,
        bias: () => biasAddGrad(backend, dz),
      };
    },
  });

  const original = prototype.call;
  prototype.call = function (this: ConvLayer, inputs, kwargs) {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!fusable(this, input)) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const strides = (this.strides.length === 1 ? [this.strides[0], this.strides[0]] : this.strides) as [number, number];
      const attrs: ConvBiasAttrs = { strides, pad: this.padding as 'valid' | 'same', relu: this.activation.getClassName() === 'relu' };
      return tf.engine().runKernel(CONV_BIAS_KERNEL, { x: input, filter: this.kernel.read(), bias: this.bias!.read() }, attrs as never) as tfTypes.Tensor;
    });
  };
  prototype[PATCHED] = true;
  return true;
}

/**
 * tfjs-layers' categorical cross-entropy and categorical accuracy as graph ops, with the loss's
 * gradient with respect to the model's output written out (the ops tfjs' autodiff records for it).
 */
import { DT, FLOAT_T, type GraphBuilder } from './graph-def';

/** tfjs-layers' epsilon(): the clip of probabilities before their logarithm. */
const EPSILON = 1e-7;

const SUM_KEEP = { ...FLOAT_T, Tidx: { type: DT.INT32 }, keep_dims: { b: true } };
const SUM_DROP = { ...FLOAT_T, Tidx: { type: DT.INT32 }, keep_dims: { b: false } };

/** The loss node (mean over the batch) and its gradient with respect to `output`. */
export function categoricalCrossentropy(g: GraphBuilder, target: string, output: string): { loss: string; dOutput: string } {
  // Forward, as tfjs-layers: p = output / sum(output), clipped to [eps, 1 - eps]; loss = mean(-sum(target * log p)).
  const lastAxis = g.ints([-1]);
  const sum = g.op('Sum', [output, lastAxis], SUM_KEEP);
  const p = g.op('RealDiv', [output, sum], FLOAT_T);
  const [low, high] = [g.scalar(EPSILON), g.scalar(1 - EPSILON)];
  const clipped = g.op('ClipByValue', [p, low, high], FLOAT_T);
  const perSample = g.op('Neg', [g.op('Sum', [g.op('Mul', [target, g.op('Log', [clipped], FLOAT_T)], FLOAT_T), lastAxis], SUM_DROP)], FLOAT_T);
  const loss = g.op('Mean', [perSample, g.ints([0])], SUM_DROP);
  // Backward: d loss / d clipped = -target / (clipped * batch); the clip passes the gradient where low <= p <= high.
  const batch = g.op('Cast', [g.op('Slice', [g.op('Shape', [output], { ...FLOAT_T, out_type: { type: DT.INT32 } }), g.ints([0]), g.ints([1])], { T: { type: DT.INT32 }, Index: { type: DT.INT32 } })], { SrcT: { type: DT.INT32 }, DstT: { type: DT.FLOAT }, Truncate: { b: false } });
  const dClipped = g.op('Neg', [g.op('RealDiv', [target, g.op('Mul', [clipped, batch], FLOAT_T)], FLOAT_T)], FLOAT_T);
  const inRange = g.op('LogicalAnd', [g.op('GreaterEqual', [p, low], FLOAT_T), g.op('LessEqual', [p, high], FLOAT_T)]);
  const dP = g.op('Select', [inRange, dClipped, g.op('ZerosLike', [dClipped], FLOAT_T)], FLOAT_T);
  // p = output / sum: d output = dP / sum + sum over the row of (-dP * output / sum^2).
  const dSum = g.op('Sum', [g.op('Neg', [g.op('RealDiv', [g.op('Mul', [dP, output], FLOAT_T), g.op('Square', [sum], FLOAT_T)], FLOAT_T)], FLOAT_T), lastAxis], SUM_KEEP);
  const dOutput = g.op('AddV2', [g.op('RealDiv', [dP, sum], FLOAT_T), dSum], FLOAT_T);
  return { loss, dOutput };
}

/** tfjs' categorical accuracy, averaged over the batch: argmax of target = argmax of output. */
export function categoricalAccuracy(g: GraphBuilder, target: string, output: string): string {
  const argMax = (t: string) => g.op('ArgMax', [t, g.int(-1)], { ...FLOAT_T, Tidx: { type: DT.INT32 }, output_type: { type: DT.INT32 } });
  const equal = g.op('Equal', [argMax(target), argMax(output)], { T: { type: DT.INT32 }, incompatible_shape_error: { b: true } });
  const hits = g.op('Cast', [equal], { SrcT: { type: DT.BOOL }, DstT: { type: DT.FLOAT }, Truncate: { b: false } });
  return g.op('Mean', [hits, g.ints([0])], SUM_DROP);
}

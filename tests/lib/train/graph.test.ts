/** The graph training step computes what tfjs' eager training computes, keeps the model's variables true, and leaves what it does not know to tfjs. */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { buildModel } from '../../../lib/models';
import { GraphBuilder, GraphSession, graphTrainingEnabled, graphTrainingStatus, graphUsesCompiledOps, TrainingGraph } from '../../../lib/train/graph';
import { DT, FLOAT_T } from '../../../lib/train/graph/graph-def';
import { dropoutThreshold, graphLayer, type GraphLayer, type LayerLike } from '../../../lib/train/graph/layers';

const tf = loadNativeTf();

/** Runs `body` with graph training switched on or off (the switch is read at each fit / trainOnBatch). */
async function withGraph<T>(on: boolean, body: () => Promise<T>): Promise<T> {
  const saved = process.env.ANALYSE_IMAGE_GRAPH_TRAINING;
  process.env.ANALYSE_IMAGE_GRAPH_TRAINING = on ? '1' : '0';
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.ANALYSE_IMAGE_GRAPH_TRAINING;
    else process.env.ANALYSE_IMAGE_GRAPH_TRAINING = saved;
  }
}

/**
 * Every layer kind the graph knows, in the places the course uses them (dropout left out: its draws
 * differ between runs). No bias right before a batch normalisation: its gradient is zero but for
 * round-off, which Adam scales up to steps of the learning rate's size that differ between any two runs.
 */
function fixtureModel(options: { dropout?: tfTypes.layers.Layer; optimizer?: tfTypes.Optimizer; loss?: string } = {}): tfTypes.Sequential {
  let seed = 1;
  const glorot = () => tf.initializers.glorotUniform({ seed: seed++ });
  const model = tf.sequential({
    layers: [
      tf.layers.inputLayer({ inputShape: [12, 12, 1] }),
      tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', useBias: false, kernelInitializer: glorot() }),
      tf.layers.batchNormalization(),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', padding: 'same', strides: 2, kernelInitializer: glorot() }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      ...(options.dropout ? [options.dropout] : []),
      tf.layers.conv2d({ filters: 8, kernelSize: 2, activation: 'linear', kernelInitializer: glorot() }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 16, activation: 'relu', useBias: false, kernelInitializer: glorot() }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: glorot() }),
    ],
  });
  model.compile({ loss: options.loss ?? 'categoricalCrossentropy', optimizer: options.optimizer ?? tf.train.adam(0.01), metrics: ['accuracy'] });
  return model;
}

const xs = tf.randomUniform([48, 12, 12, 1], 0, 1, 'float32', 5);
const ys = tf.oneHot(tf.randomUniform([48], 0, 5, 'int32', 6) as tfTypes.Tensor1D, 5).toFloat();

function maxAbsDiff(a: tfTypes.Tensor, b: tfTypes.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

async function steps(model: tfTypes.LayersModel, count: number): Promise<number[][]> {
  const results: number[][] = [];
  for (let i = 0; i < count; i++) results.push((await model.trainOnBatch(xs, ys)) as number[]);
  return results;
}

describe('graph training step', () => {
  it('is on by default', () => {
    expect(graphTrainingEnabled()).toBe(true);
  });

  it('gives the losses, accuracies, weights, moving averages and Adam moments of eager training', async () => {
    const graph = fixtureModel();
    const eager = fixtureModel();
    const graphed = await withGraph(true, () => steps(graph, 6));
    const eagerly = await withGraph(false, () => steps(eager, 6));
    expect(graphTrainingStatus(graph)).toBe('graphe');
    expect(graphTrainingStatus(eager)).toBe('désactivé (ANALYSE_IMAGE_GRAPH_TRAINING=0)');
    expect(graphed[5][0]).toBeLessThan(graphed[0][0]);
    graphed.forEach(([loss, accuracy], i) => {
      expect(Math.abs(loss - eagerly[i][0])).toBeLessThan(1e-5 * Math.max(1, loss));
      expect(accuracy).toBe(eagerly[i][1]);
    });
    // Every weight, the moving mean and variance included, to round-off (measured: at most 2e-5 after six steps).
    const [a, b] = [graph.getWeights(), eager.getWeights()];
    expect(a).toHaveLength(b.length);
    a.forEach((w, i) => expect(maxAbsDiff(w, b[i])).toBeLessThan(1e-4));
    const [ma, mb] = [await graph.optimizer.getWeights(), await eager.optimizer.getWeights()];
    expect(ma.map((w) => w.name.replace(/\d+(?=\/)/g, ''))).toEqual(mb.map((w) => w.name.replace(/\d+(?=\/)/g, '')));
    expect(ma[0].tensor.dataSync()[0]).toBe(6);
    ma.slice(1).forEach((w, i) => expect(maxAbsDiff(w.tensor, mb[i + 1].tensor)).toBeLessThan(1e-5));
  });

  it('runs a first convolution and its pooling as the compiled op, and still trains as tfjs does eagerly', async () => {
    const lab = (seed: number) => {
      const model = tf.sequential({
        layers: [
          tf.layers.inputLayer({ inputShape: [12, 12, 1] }),
          tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
        ],
      });
      model.compile({ loss: 'categoricalCrossentropy', optimizer: tf.train.adam(0.01), metrics: ['accuracy'] });
      return model;
    };
    const [graph, eager] = [lab(1), lab(1)];
    const graphed = await withGraph(true, () => steps(graph, 6));
    const eagerly = await withGraph(false, () => steps(eager, 6));
    expect(graphTrainingStatus(graph)).toBe('graphe');
    expect(graphUsesCompiledOps(graph)).toBe(true);
    expect(graphed[5][0]).toBeLessThan(graphed[0][0]);
    graphed.forEach(([loss, accuracy], i) => {
      expect(Math.abs(loss - eagerly[i][0])).toBeLessThan(1e-5 * Math.max(1, loss));
      expect(accuracy).toBe(eagerly[i][1]);
    });
    graph.getWeights().forEach((w, i) => expect(maxAbsDiff(w, eager.getWeights()[i])).toBeLessThan(1e-4));
    // The same function in inference (fit's validation, evaluate).
    const [graphEval, eagerEval] = [graph.evaluate(xs, ys) as tfTypes.Scalar[], await withGraph(false, async () => eager.evaluate(xs, ys) as tfTypes.Scalar[])];
    expect(Math.abs(graphEval[0].dataSync()[0] - eagerEval[0].dataSync()[0])).toBeLessThan(1e-4);
    // The course's models: the 1-conv's first block is compiled; the 4-conv's first convolution feeds a batch normalisation.
    for (const [name, compiled] of [['one-conv', true], ['four-conv', false]] as const) {
      const model = buildModel(name);
      await model.trainOnBatch(tf.zeros([2, 28, 28, 1]), tf.oneHot(tf.tensor1d([0, 1], 'int32'), 10).toFloat());
      expect(graphUsesCompiledOps(model)).toBe(compiled);
      model.dispose();
    }
    tf.dispose([...graphEval, ...eagerEval]);
    graph.dispose();
    eager.dispose();
  });

  it("evaluates (fit's validation, evaluate) in the graph as tfjs does, batch normalisation with its moving averages", async () => {
    const model = fixtureModel({ dropout: tf.layers.dropout({ rate: 0.4 }) });
    const history = await withGraph(true, () => model.fit(xs, ys, { epochs: 3, batchSize: 16, verbose: 0, validationData: [xs, ys] }));
    const evaluate = async () => {
      const [loss, accuracy] = model.evaluate(xs, ys, { batchSize: 16 }) as tfTypes.Scalar[];
      return [(await loss.data())[0], (await accuracy.data())[0]];
    };
    const inGraph = jest.spyOn(TrainingGraph.prototype, 'evaluate');
    const graphed = await withGraph(true, evaluate);
    expect(inGraph).toHaveBeenCalledTimes(3);
    const eagerly = await withGraph(false, evaluate);
    expect(inGraph).toHaveBeenCalledTimes(3);
    inGraph.mockRestore();
    expect(graphTrainingStatus(model)).toBe('graphe');
    expect(Math.abs(graphed[0] - eagerly[0])).toBeLessThan(1e-5);
    expect(graphed[1]).toBe(eagerly[1]);
    // The last epoch's validation is an evaluation of the same weights.
    expect(Math.abs((history.history.val_loss[2] as number) - graphed[0])).toBeLessThan(1e-5);
  });

  it('trains the course models in the graph, through fit as the notebooks call it', async () => {
    for (const name of ['one-conv', 'four-conv'] as const) {
      const model = buildModel(name);
      const images = tf.randomUniform([64, 28, 28, 1]);
      const labels = tf.oneHot(tf.randomUniform([64], 0, 10, 'int32') as tfTypes.Tensor1D, 10).toFloat();
      const history = await model.fit(images, labels, { epochs: 2, batchSize: 32, verbose: 0, validationData: [images, labels] });
      expect(graphTrainingStatus(model)).toBe('graphe');
      expect(Object.keys(history.history).sort()).toEqual(['acc', 'loss', 'val_acc', 'val_loss']);
      expect(history.history.loss.every((v) => Number.isFinite(v as number))).toBe(true);
      tf.dispose([images, labels]);
    }
  }, 60_000);

  it('draws dropout masks: the loss of the same batch varies, the model still learns', async () => {
    const model = fixtureModel({ dropout: tf.layers.dropout({ rate: 0.5 }) });
    const losses = (await steps(model, 30)).map(([loss]) => loss);
    expect(graphTrainingStatus(model)).toBe('graphe');
    expect(new Set(losses).size).toBe(losses.length);
    expect(losses[29]).toBeLessThan(losses[0]);
  });

  it('does the dropout right after a compiled first block in the compiled op: a new mask each step, none without it', async () => {
    const lab = (rate: number) => {
      const model = tf.sequential({
        layers: [
          tf.layers.inputLayer({ inputShape: [12, 12, 1] }),
          tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.dropout({ rate }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
        ],
      });
      // Learning rate 0: the weights stay, so only a dropout mask can change the loss of the same batch.
      model.compile({ loss: 'categoricalCrossentropy', optimizer: tf.train.adam(0), metrics: ['accuracy'] });
      return model;
    };
    const [dropping, keeping] = [lab(0.5), lab(0)];
    const [dropped, kept] = [(await steps(dropping, 5)).map(([loss]) => loss), (await steps(keeping, 5)).map(([loss]) => loss)];
    expect(graphUsesCompiledOps(dropping)).toBe(true);
    expect(new Set(dropped).size).toBe(5);
    expect(new Set(kept).size).toBe(1);
    // In inference there is no dropout: both models are the same function.
    const [a, b] = [dropping.evaluate(xs, ys) as tfTypes.Scalar[], keeping.evaluate(xs, ys) as tfTypes.Scalar[]];
    expect(a[0].dataSync()[0]).toBeCloseTo(kept[0], 5);
    expect(b[0].dataSync()[0]).toBeCloseTo(kept[0], 5);
    tf.dispose([...a, ...b]);
  });

  it.each([
    [0.25, 400],
    [0.2, 333],
  ])("drops values at dropout's rate %s (%s values per example), scales the others by 1 / (their fraction), and routes the gradient through the same mask", (rate, size) => {
    const layer = tf.layers.dropout({ rate });
    tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [size] }), layer] });
    const g = new GraphBuilder();
    const x = g.placeholder('x', [-1, size]);
    const batchSize = g.op('Slice', [g.op('Shape', [x], { ...FLOAT_T, out_type: { type: DT.INT32 } }), g.ints([0]), g.ints([1])], { T: { type: DT.INT32 }, Index: { type: DT.INT32 } });
    const dropout = graphLayer(layer as unknown as LayerLike, { g, value: () => '', gradient: () => undefined, update: () => undefined, batchSize }, 2) as GraphLayer;
    g.identityAfter('y', dropout.forward(x), []);
    g.identityAfter('dx', dropout.backward(g.placeholder('dy', [-1, size]), true)!, []);
    const session = GraphSession.load(tf, g);
    const ones = tf.ones([100, size]);
    const [y, dx] = session.run([['x', ones], ['dy', ones]], ['y', 'dx']);
    const values = y.dataSync();
    const dropped = Array.from(values, (v): number => (v === 0 ? 1 : 0));
    // 33 300 to 40 000 draws: the dropped fraction is the rate within 5 standard deviations (< 0.012).
    const deviation = 5 * Math.sqrt((rate * (1 - rate)) / values.length);
    expect(Math.abs(dropped.reduce((a, b) => a + b, 0) / values.length - rate)).toBeLessThan(deviation);
    // Neighbours come from the two halves of one 32-bit word: both dropped at rate^2, not at rate.
    let pairs = 0;
    for (let i = 0; i + 1 < values.length; i += 2) pairs += dropped[i] * dropped[i + 1];
    expect(Math.abs(pairs / Math.floor(values.length / 2) - rate * rate)).toBeLessThan(0.012);
    const kept = 1 - dropoutThreshold(rate) / 65536;
    expect(Math.abs(kept - (1 - rate))).toBeLessThan(2 ** -17);
    expect(values.every((v) => v === 0 || v === Math.fround(1 / kept))).toBe(true);
    expect(Array.from(dx.dataSync())).toEqual(Array.from(values));
    // The next run draws another mask.
    const [again] = session.run([['x', ones], ['dy', ones]], ['y']);
    expect(Array.from(again.dataSync())).not.toEqual(Array.from(values));
    tf.dispose([y, dx, again, ones]);
    session.close();
  });

  it('leaves no tensor behind a step', async () => {
    const model = fixtureModel({ dropout: tf.layers.dropout({ rate: 0.2 }) });
    await steps(model, 2);
    const before = tf.memory().numTensors;
    await steps(model, 5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('frees its session with the model', async () => {
    const model = fixtureModel();
    await steps(model, 1);
    const close = jest.spyOn(TrainingGraph.prototype, 'close');
    model.dispose();
    expect(close).toHaveBeenCalledTimes(1);
    close.mockRestore();
    expect(graphTrainingStatus(model)).toBeUndefined();
  });

  it('takes weights set from elsewhere at the next step', async () => {
    const model = fixtureModel();
    const initial = model.getWeights().map((w) => w.clone());
    const [[first]] = await steps(model, 3);
    model.setWeights(initial);
    // The loss is computed before the update: the same weights give the first step's loss again.
    const [[again]] = await steps(model, 1);
    expect(again).toBeCloseTo(first, 5);
  });

  it('leaves to tfjs what it does not know, and says why', async () => {
    const cases: [tfTypes.LayersModel, string][] = [
      [fixtureModel({ optimizer: tf.train.sgd(0.1) }), "l'optimiseur n'est pas Adam"],
      [fixtureModel({ loss: 'meanSquaredError' }), 'la perte est meanSquaredError, pas categoricalCrossentropy'],
      [fixtureModel({ dropout: tf.layers.dropout({ rate: 0.3, seed: 7 }) }), /a une graine/.source],
    ];
    const input = tf.input({ shape: [12, 12, 1] });
    const branch = tf.layers.flatten().apply(input) as tfTypes.SymbolicTensor;
    const merged = tf.layers.concatenate().apply([branch, branch]) as tfTypes.SymbolicTensor;
    const functional = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 5, activation: 'softmax' }).apply(merged) as tfTypes.SymbolicTensor });
    functional.compile({ loss: 'categoricalCrossentropy', optimizer: tf.train.adam(), metrics: ['accuracy'] });
    cases.push([functional, 'suite de couches']);
    for (const [model, reason] of cases) {
      const [[first], , [last]] = await steps(model, 3);
      expect(graphTrainingStatus(model)).toMatch(new RegExp(reason));
      expect(Number.isFinite(first) && Number.isFinite(last)).toBe(true);
    }
  });

  it('gives the optimizer back to tfjs after its setWeights', async () => {
    const model = fixtureModel();
    await steps(model, 2);
    const moments = await model.optimizer.getWeights();
    await model.optimizer.setWeights(moments);
    const [[loss]] = await steps(model, 1);
    expect(graphTrainingStatus(model)).toMatch(/déjà des moments/);
    expect(Number.isFinite(loss)).toBe(true);
  });
});

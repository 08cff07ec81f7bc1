/**
 * A TensorFlow graph written from TypeScript and run as one session: the GraphDef is built with the
 * protocol-buffer classes tfjs-node itself reads SavedModels with, saved as a variable-free
 * SavedModel in a temporary folder and loaded through tfjs-node's binding (TF_LoadSessionFromSavedModel).
 * A session runs its whole graph in C++ with TensorFlow's graph optimisations (oneDNN's fused
 * convolutions among them), where eager execution dispatches each op from JavaScript.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';

/** TensorFlow's DataType enum values used here. */
export const DT = { FLOAT: 1, INT32: 3, BOOL: 10, UINT16: 17, UINT32: 22 } as const;

/** One attribute value of a node, in the form its AttrValue field takes. */
export type Attr =
  | { type: number }
  | { i: number }
  | { f: number }
  | { b: boolean }
  | { s: string }
  | { ints: number[] }
  | { shape: number[] | null }
  | { tensor: { dtype: number; shape: number[]; ints?: number[]; floats?: number[] } };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Proto = any;

function protoClasses(): Proto {
  return require(require.resolve('@tensorflow/tfjs-node/dist/proto/api_pb'));
}

function shapeProto(pb: Proto, dims: number[] | null): Proto {
  const shape = new pb.TensorShape();
  if (dims === null) {
    shape.setUnknownRank(true);
    return shape;
  }
  for (const size of dims) {
    const dim = new pb.TensorShape.Dim();
    dim.setSize(size);
    shape.addDim(dim);
  }
  return shape;
}

function attrValue(pb: Proto, attr: Attr): Proto {
  const value = new pb.AttrValue();
  if ('type' in attr) value.setType(attr.type);
  else if ('i' in attr) value.setI(attr.i);
  else if ('f' in attr) value.setF(attr.f);
  else if ('b' in attr) value.setB(attr.b);
  else if ('s' in attr) value.setS(Buffer.from(attr.s));
  else if ('ints' in attr) {
    const list = new pb.AttrValue.ListValue();
    list.setIList(attr.ints);
    value.setList(list);
  } else if ('shape' in attr) value.setShape(shapeProto(pb, attr.shape));
  else {
    const tensor = new pb.Tensor();
    tensor.setDtype(attr.tensor.dtype);
    tensor.setTensorShape(shapeProto(pb, attr.tensor.shape));
    if (attr.tensor.ints) tensor.setIntValList(attr.tensor.ints);
    if (attr.tensor.floats) tensor.setFloatValList(attr.tensor.floats);
    value.setTensor(tensor);
  }
  return value;
}

/** The float32 `T` attribute most ops take. */
export const FLOAT_T = { T: { type: DT.FLOAT } } as const;

/** Builds a GraphDef node by node; each method returns the new node's name, which later nodes take as input. */
export class GraphBuilder {
  private readonly pb = protoClasses();
  private readonly graph = new this.pb.GraphDef();
  private count = 0;

  /** Adds a node `op(inputs)` with its attributes; `^name` inputs are control dependencies. */
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}, name?: string): string {
    const node = new this.pb.NodeDef();
    const nodeName = name ?? `${op}_${this.count++}`;
    node.setName(nodeName);
    node.setOp(op);
    for (const input of inputs) node.addInput(input);
    const map = node.getAttrMap();
    for (const [key, attr] of Object.entries(attrs)) map.set(key, attrValue(this.pb, attr));
    this.graph.addNode(node);
    return nodeName;
  }

  /** A float32 placeholder fed at each run (-1: any size along that axis). */
  placeholder(name: string, shape: number[] | null): string {
    return this.op('Placeholder', [], { dtype: { type: DT.FLOAT }, shape: { shape } }, name);
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    return this.op('Const', [], { dtype: { type: DT.FLOAT }, value: { tensor: { dtype: DT.FLOAT, shape: [], floats: [value] } } });
  }

  /** An int32 vector constant (shapes, axes). */
  ints(values: number[]): string {
    return this.op('Const', [], { dtype: { type: DT.INT32 }, value: { tensor: { dtype: DT.INT32, shape: [values.length], ints: values } } });
  }

  /** An int32 scalar constant. */
  int(value: number): string {
    return this.op('Const', [], { dtype: { type: DT.INT32 }, value: { tensor: { dtype: DT.INT32, shape: [], ints: [value] } } });
  }

  /** `Identity(input)` named `name`, run only after `after` (how a fetched output waits for updates). */
  identityAfter(name: string, input: string, after: string[]): string {
    return this.op('Identity', [input, ...after.map((n) => `^${n}`)], FLOAT_T, name);
  }

  /** The serialised SavedModel holding this graph under the tag `serve`. */
  savedModel(): Uint8Array {
    const meta = new this.pb.MetaGraphDef();
    const info = new this.pb.MetaGraphDef.MetaInfoDef();
    info.addTags('serve');
    meta.setMetaInfoDef(info);
    meta.setGraphDef(this.graph);
    const saved = new this.pb.SavedModel();
    saved.setSavedModelSchemaVersion(1);
    saved.addMetaGraphs(meta);
    return saved.serializeBinary();
  }
}

/** The part of tfjs-node's backend that loads and runs sessions. */
interface SessionBackend {
  loadSavedModelMetaGraph(path: string, tags: string): number;
  runSavedModel(id: number, inputs: tfTypes.Tensor[], inputTensorInfos: { name: string }[], outputOpNames: string[]): tfTypes.Tensor[];
  deleteSavedModel(id: number): void;
}

/** A loaded graph: run it by feeding named placeholders and fetching named nodes' first outputs. */
export class GraphSession {
  private constructor(private readonly backend: SessionBackend, private id: number | undefined) {}

  /** Loads `graph` into a new TensorFlow session (the SavedModel's folder is removed once loaded). */
  static load(tf: typeof tfTypes, graph: GraphBuilder): GraphSession {
    const backend = tf.backend() as unknown as SessionBackend;
    const folder = mkdtempSync(join(tmpdir(), 'analyse-image-graph-'));
    try {
      writeFileSync(join(folder, 'saved_model.pb'), graph.savedModel());
      return new GraphSession(backend, backend.loadSavedModelMetaGraph(folder, 'serve'));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }

  /** Runs the graph once: feeds[name] into each placeholder, returns the fetched nodes' outputs in order (the caller disposes them). */
  run(feeds: [string, tfTypes.Tensor][], fetches: string[]): tfTypes.Tensor[] {
    if (this.id === undefined) throw new Error('GraphSession: this session was closed.');
    return this.backend.runSavedModel(
      this.id,
      feeds.map(([, tensor]) => tensor),
      feeds.map(([name]) => ({ name: `${name}:0` })),
      fetches.map((name) => (name.includes(':') ? name : `${name}:0`)),
    );
  }

  /** Frees the session and its variables. */
  close(): void {
    if (this.id !== undefined) this.backend.deleteSavedModel(this.id);
    this.id = undefined;
  }
}

/**
 * HDF5 files of Keras 3 (`.weights.h5`, and `model.weights.h5` inside a `.keras`) read and written
 * with h5wasm, the HDF5 C library compiled to WebAssembly. The HDF5 library only ever sees an
 * in-memory file system holding the one file it works on (the bytes are read here, bounded, from a
 * descriptor already checked): an external link, an external raw-data file or a virtual dataset can
 * reach nothing of the real disk, and each of them is refused by name before any data is read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import type * as H5 from 'h5wasm';

type H5Wasm = typeof H5;
type H5ModuleType = Awaited<typeof H5.ready>;

/** Largest HDF5 file read (the course's 4-conv model weighs 40 MB with its optimizer state). */
export const MAX_H5_BYTES = 512 * 1024 * 1024;
/** Most groups, datasets and links visited in one file (Keras writes a few per layer). */
export const MAX_H5_OBJECTS = 20_000;
/** Deepest group nesting accepted (Keras nests a model in a model a few levels at most). */
export const MAX_H5_DEPTH = 32;

/** The 8 bytes every HDF5 file starts with (h5py and Keras write no user block). */
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One dataset of a file, as `openH5` lists it (nothing read yet). */
export interface H5DatasetInfo {
  /** Its path, without the leading slash: `layers/conv2d/vars/0`. */
  readonly path: string;
  readonly shape: number[];
  /** HDF5 type class (1 float, 0 integer, 3 string...) and element size in bytes. */
  readonly typeClass: number;
  readonly elementBytes: number;
  readonly littleEndian: boolean;
  /** Value of a string attribute `dtype` (Keras marks bfloat16 this way), if any. */
  readonly dtypeAttribute?: string;
}

/** An HDF5 file opened by `openH5`: its tree, checked; datasets read on demand; close it after use. */
export interface H5Reader {
  /** Groups (paths without the leading slash), with their string attributes. */
  readonly groups: Map<string, Record<string, string>>;
  readonly datasets: Map<string, H5DatasetInfo>;
  /** Reads a float32 dataset listed in `datasets` (its shape already checked by the caller). */
  readFloat32(path: string): Float32Array;
  close(): void;
}

let loading: Promise<{ h5: H5Wasm; module: H5ModuleType }> | undefined;
/** What HDF5 printed on stderr lately (its error stack), kept to explain a failure. */
let diagnostics: string[] = [];
let fileCounter = 0;
const WORK_DIR = '/analyse-image';

function h5wasmBundle(): string {
  // h5wasm is published as ES modules only; its self-contained IIFE bundle (WebAssembly inlined)
  // loads in CommonJS, under tsx and jest alike.
  const candidates = (require.resolve.paths('h5wasm') ?? []).map((dir) => join(dir, 'h5wasm', 'dist', 'iife', 'h5wasm.js'));
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error('Le paquet npm h5wasm est absent (lecture des fichiers .h5 de Keras) : lancez `npm install`.');
  return found;
}

/** h5wasm, loaded once, its in-memory file system emptied of devices; HDF5's messages are kept, not printed. */
export function loadH5wasm(): Promise<{ h5: H5Wasm; module: H5ModuleType }> {
  loading ??= (async () => {
    const file = h5wasmBundle();
    const quiet = {
      log: (...args: unknown[]) => keep(args),
      error: (...args: unknown[]) => keep(args),
      warn: (...args: unknown[]) => keep(args),
      info: () => undefined,
      debug: () => undefined,
    };
    const factory = runInThisContext(`(function (console) {\n${readFileSync(file, 'utf8')}\n;return h5wasm;\n})`, { filename: file }) as (c: typeof quiet) => H5Wasm;
    const h5 = factory(quiet);
    const module = await h5.ready;
    isolate(module);
    return { h5, module };
  })();
  return loading;
}

function keep(args: unknown[]): void {
  diagnostics.push(args.map(String).join(' '));
  if (diagnostics.length > 200) diagnostics = diagnostics.slice(-100);
}

/**
 * Removes the devices Emscripten puts in its file system (/dev/urandom, /dev/tty...): with them
 * gone, an HDF5 external raw-data file can name nothing that exists, so reading one fails.
 */
function isolate(module: H5ModuleType): void {
  const fs = module.FS as unknown as { readdir(p: string): string[]; unlink(p: string): void; rmdir(p: string): void; mkdir(p: string): void; lstat(p: string): { mode: number } };
  for (const entry of fs.readdir('/dev')) {
    if (entry === '.' || entry === '..') continue;
    try {
      fs.unlink(`/dev/${entry}`);
    } catch {
      try {
        fs.rmdir(`/dev/${entry}`);
      } catch {
        // a mount point: nothing HDF5 could read as a file
      }
    }
  }
  fs.mkdir(WORK_DIR);
}

/** A French error about `name`. */
function fail(name: string, reason: string): Error {
  return new Error(`${name} ${reason}`);
}

/** Whether `bytes` start like an HDF5 file. */
export function looksLikeHdf5(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset, 8).equals(HDF5_SIGNATURE);
}

/**
 * Opens HDF5 `bytes` (named `name` in messages) and checks its whole tree: only groups and datasets
 * reached by hard links, at most MAX_H5_OBJECTS of them, no virtual dataset, no dataset declaring
 * more than MAX_H5_BYTES. Throws a French error naming the first offending object.
 */
export async function openH5(bytes: Uint8Array, name: string): Promise<H5Reader> {
  if (!looksLikeHdf5(bytes)) {
    throw fail(name, "n'est pas un fichier HDF5 (signature absente) : les poids Keras s'enregistrent avec model.save_weights(\"modele/modele.weights.h5\").");
  }
  const { h5, module } = await loadH5wasm();
  const fs = module.FS as unknown as { writeFile(p: string, d: Uint8Array): void; unlink(p: string): void };
  const memoryPath = `${WORK_DIR}/lecture-${process.pid}-${++fileCounter}.h5`;
  fs.writeFile(memoryPath, bytes);
  diagnostics = [];
  let file: H5.File;
  try {
    file = new h5.File(memoryPath, 'r');
    if (!file.file_id || file.file_id < 0n) throw new Error('ouverture refusée');
  } catch (error) {
    fs.unlink(memoryPath);
    throw fail(name, `n'est pas un fichier HDF5 lisible (${hdf5Reason(error)}). Enregistrez les poids à nouveau.`);
  }
  const close = () => {
    try {
      file.close();
    } finally {
      fs.unlink(memoryPath);
    }
  };
  try {
    const tree = walk(h5, module, file, name);
    return {
      ...tree,
      readFloat32: (path) => readFloat32(module, file, tree.datasets.get(path), name, path),
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

function hdf5Reason(error: unknown): string {
  const lines = diagnostics.join('\n').split('\n').map((l) => l.trim());
  const minor = lines.filter((l) => l.startsWith('minor:')).map((l) => l.slice(6).trim());
  return minor.length ? minor.slice(-2).join(', ') : (error as Error)?.message ?? String(error);
}

function stringAttributes(object: H5.Group | H5.Dataset): Record<string, string> {
  const found: Record<string, string> = {};
  let attributes: Record<string, H5.Attribute>;
  try {
    attributes = object.attrs;
  } catch {
    return found;
  }
  for (const [key, attribute] of Object.entries(attributes)) {
    const meta = attribute.metadata;
    // Only small string attributes (Keras' "name" and "dtype"): anything else is never read.
    if (meta.type !== 3 || (meta.total_size ?? 1) > 1) continue;
    try {
      const value = attribute.value;
      if (typeof value === 'string' && value.length <= 1024) found[key] = value;
    } catch {
      // an unreadable attribute is simply ignored: Keras reads none but these two
    }
  }
  return found;
}

function walk(h5: H5Wasm, module: H5ModuleType, file: H5.File, name: string): { groups: Map<string, Record<string, string>>; datasets: Map<string, H5DatasetInfo> } {
  const groups = new Map<string, Record<string, string>>();
  const datasets = new Map<string, H5DatasetInfo>();
  let visited = 0;
  const visit = (group: H5.Group, path: string, depth: number) => {
    if (depth > MAX_H5_DEPTH) throw fail(name, `imbrique plus de ${MAX_H5_DEPTH} groupes (« ${path} ») : ce n'est pas un fichier de poids Keras.`);
    groups.set(path, stringAttributes(group));
    for (const key of group.keys()) {
      if (++visited > MAX_H5_OBJECTS) throw fail(name, `contient plus de ${MAX_H5_OBJECTS} objets HDF5 : ce n'est pas un fichier de poids Keras.`);
      const child = path ? `${path}/${key}` : key;
      const full = `/${child}`;
      const soft = module.get_symbolic_link(file.file_id, full);
      if (soft !== null && soft !== undefined) {
        throw fail(name, `contient un lien symbolique HDF5 (« ${child} » -> « ${soft} ») : refusé, les poids doivent être des données du fichier lui-même.`);
      }
      const type = module.get_type(file.file_id, full);
      if (type === module.H5G_UDLINK) {
        const target = module.get_external_link(file.file_id, full) as { filename?: string; obj_path?: string };
        throw fail(name, `contient un lien externe HDF5 (« ${child} » -> fichier « ${target.filename ?? '?'} ») : refusé, un fichier de poids ne doit rien lire hors de lui-même.`);
      }
      if (type === module.H5G_LINK) throw fail(name, `contient un lien HDF5 cassé (« ${child} ») : refusé.`);
      if (type === module.H5G_GROUP) {
        // A hard-linked cycle would loop forever: the object count and the depth bound it.
        visit(new h5.Group(file.file_id, full), child, depth + 1);
      } else if (type === module.H5G_DATASET) {
        datasets.set(child, describeDataset(h5, module, file, child, name));
      } else {
        throw fail(name, `contient un objet HDF5 inattendu (« ${child} », type ${type}) : seuls des groupes et des jeux de données sont acceptés.`);
      }
    }
  };
  visit(file, '', 0);
  return { groups, datasets };
}

function describeDataset(h5: H5Wasm, module: H5ModuleType, file: H5.File, path: string, name: string): H5DatasetInfo {
  const meta = module.get_dataset_metadata(file.file_id, `/${path}`);
  if (meta.virtual_sources && meta.virtual_sources.length > 0) {
    const source = meta.virtual_sources[0];
    throw fail(name, `: le jeu de données « ${path} » est virtuel et lit ses valeurs dans « ${source.file_name} » : refusé, les poids doivent être dans le fichier lui-même.`);
  }
  const shape = meta.shape ?? [];
  const elements = shape.reduce((a, b) => a * b, 1);
  const declared = elements * (meta.size || 1);
  if (!Number.isFinite(declared) || declared > MAX_H5_BYTES) {
    throw fail(name, `: le jeu de données « ${path} » déclare ${shape.join(' x ')} valeurs (${declared.toExponential(2)} octets), plus que les ${MAX_H5_BYTES} permis : refusé sans être lu.`);
  }
  const dtypeAttribute = stringAttributes(new h5.Dataset(file.file_id, `/${path}`)).dtype;
  return { path, shape, typeClass: meta.type, elementBytes: meta.size, littleEndian: meta.littleEndian, dtypeAttribute };
}

function readFloat32(module: H5ModuleType, file: H5.File, info: H5DatasetInfo | undefined, name: string, path: string): Float32Array {
  if (!info) throw fail(name, `n'a pas de jeu de données « ${path} ».`);
  if (info.dtypeAttribute === 'bfloat16') throw fail(name, `: « ${path} » est en bfloat16, que TensorFlow.js ne lit pas ; enregistrez le modèle en float32.`);
  if (info.typeClass !== 1 || info.elementBytes !== 4) {
    const kind = info.typeClass === 1 ? `flottants de ${info.elementBytes * 8} bits` : info.typeClass === 0 ? 'entiers' : `type HDF5 ${info.typeClass}`;
    throw fail(name, `: « ${path} » contient des ${kind} au lieu de flottants 32 bits (float32).`);
  }
  const elements = info.shape.reduce((a, b) => a * b, 1);
  const bytes = elements * 4;
  const pointer = module._malloc(Math.max(bytes, 1));
  if (!pointer) throw fail(name, `: mémoire insuffisante pour lire « ${path} » (${bytes} octets).`);
  diagnostics = [];
  try {
    // h5wasm's own reader ignores HDF5's status: a failed read (an external raw-data file that does
    // not exist here) would return whatever the buffer held. The status is checked here.
    const status = module.get_dataset_data(file.file_id, `/${path}`, null, null, null, BigInt(pointer));
    if (status < 0) {
      throw fail(name, `: le jeu de données « ${path} » ne se lit pas (${hdf5Reason(undefined)}) ; s'il désigne un fichier de données externe, il est refusé : les poids doivent être dans le fichier lui-même.`);
    }
    const values = new Float32Array(elements);
    new Uint8Array(values.buffer).set(module.HEAPU8.subarray(pointer, pointer + bytes));
    if (!info.littleEndian) {
      const view = new DataView(values.buffer);
      for (let i = 0; i < elements; i++) view.setFloat32(i * 4, view.getFloat32(i * 4, false), true);
    }
    return values;
  } finally {
    module._free(pointer);
  }
}

/** What `writeH5` writes: groups (with string attributes) and float32 datasets, by path. */
export interface H5Tree {
  readonly groups: { path: string; attributes?: Record<string, string> }[];
  readonly datasets: { path: string; shape: number[]; values: Float32Array }[];
}

/** The bytes of a new HDF5 file holding `tree` (groups created in the order given, parents first). */
export async function writeH5(tree: H5Tree): Promise<Uint8Array> {
  const { h5, module } = await loadH5wasm();
  const fs = module.FS as unknown as { readFile(p: string): Uint8Array; unlink(p: string): void };
  const memoryPath = `${WORK_DIR}/ecriture-${process.pid}-${++fileCounter}.h5`;
  const file = new h5.File(memoryPath, 'w');
  try {
    for (const group of tree.groups) {
      const created = file.create_group(group.path);
      for (const [key, value] of Object.entries(group.attributes ?? {})) created.create_attribute(key, value);
    }
    for (const dataset of tree.datasets) {
      const slash = dataset.path.lastIndexOf('/');
      const parent = slash < 0 ? file : (file.get(dataset.path.slice(0, slash)) as H5.Group);
      parent.create_dataset({ name: dataset.path.slice(slash + 1), data: dataset.values, shape: dataset.shape, dtype: '<f' });
    }
  } finally {
    file.close();
  }
  try {
    return new Uint8Array(fs.readFile(memoryPath));
  } finally {
    fs.unlink(memoryPath);
  }
}

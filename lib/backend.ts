/**
 * The one way this project gets TensorFlow.js: the native backend of @tensorflow/tfjs-node
 * (libtensorflow), configured before it loads, or a clear error. Never the pure-JS backend.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { activeFusedKernels, installTrainingKernels } from './kernels';
import { loadCompiledOps } from './kernels/compiled';
import { installGraphTraining } from './train/graph';

/** The tfjs-node module type, so `const tf = loadNativeTf()` is typed like `import * as tf from '@tensorflow/tfjs-node'`. */
export type Tf = typeof import('@tensorflow/tfjs-node');

/** How libtensorflow got there: set-up's routes, tfjs-node's own installer (npm 10 runs it), or no record. */
export type BackendRoute = 'official-download' | 'pip-wheel' | 'tfjs-node-install-script' | 'unknown';

/** What `describeBackend` reports. */
export interface BackendReport {
  /** The active TensorFlow.js backend: 'tensorflow' when native. */
  backend: string;
  /** Version of @tensorflow/tfjs-node. */
  tfjsNodeVersion: string;
  /** Version of the loaded libtensorflow (its TF_Version()). */
  tensorflowVersion: string;
  /** How libtensorflow was provisioned. */
  route: BackendRoute;
  /** The route in one sentence, for people. */
  why: string;
  /** When set-up provisioned it, if it recorded it. */
  builtAt?: string;
  /** Whether oneDNN kernels were requested (TF_ENABLE_ONEDNN_OPTS) when libtensorflow loaded. */
  oneDnn: boolean;
  /** Threads of TensorFlow's intra-op pool: TF_NUM_INTRAOP_THREADS, else one per logical CPU. */
  threads: number;
  /** TensorFlow's fused kernels training uses instead of tfjs' composite gradients (lib/kernels). */
  fusedKernels: string[];
  /** true when the project's compiled ops (lib/kernels/compiled) are loaded, else why not (French). */
  compiledOps: true | string;
}

/** Module id of the native package. */
const TFJS_NODE = '@tensorflow/tfjs-node';
/** Written by scripts/setup/native-backend.ts next to the libraries it provisioned. */
const PROVENANCE_FILE = 'analyse-image-provenance.json';

let loaded: Tf | undefined;
let oneDnnAtLoad = false;

/** The message shown when the native backend is missing: what is wrong and what to do, in French and English. */
export function nativeBackendMissingMessage(cause: string): string {
  return [
    'Le moteur TensorFlow natif (@tensorflow/tfjs-node + libtensorflow) n\'est pas disponible / the native TensorFlow backend is not available.',
    `Cause : ${cause}`,
    'À faire / what to do: à la racine du projet, lancez `npm install` (il installe libtensorflow et compile le module natif),',
    'puis `npm run backend` pour vérifier / run `npm install` in the project folder, then `npm run backend` to check.',
    'Le moteur JavaScript pur n\'est jamais utilisé à la place : il est environ 100 fois plus lent / the pure-JS backend is never used instead (about 100 times slower).',
  ].join('\n');
}

/** Loads the given tfjs-node module id and checks its backend is native, uncached: the seam tests use; call `loadNativeTf()`. */
export function loadNativeTfFrom(moduleId: string): Tf {
  // libtensorflow reads these when it loads: set them first, unless the user chose otherwise.
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '1';
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  let tf: Tf;
  try {
    tf = require(moduleId) as Tf;
  } catch (error) {
    throw new Error(nativeBackendMissingMessage((error as Error).message.split('\n')[0]));
  }
  const backend = typeof tf.getBackend === 'function' ? tf.getBackend() : undefined;
  if (backend !== 'tensorflow') {
    throw new Error(nativeBackendMissingMessage(`the active backend is "${backend}", not "tensorflow"`));
  }
  return tf;
}

/** Loads @tensorflow/tfjs-node with oneDNN enabled and checks the backend is native; throws a clear error otherwise. */
export function loadNativeTf(): Tf {
  if (loaded) return loaded;
  loaded = loadNativeTfFrom(TFJS_NODE);
  installTrainingKernels(loaded);
  installGraphTraining(loaded);
  const oneDnn = (process.env.TF_ENABLE_ONEDNN_OPTS ?? '').toLowerCase();
  oneDnnAtLoad = oneDnn === '1' || oneDnn === 'true';
  return loaded;
}

/** The route set-up recorded, else what the files in deps/lib/ tell. */
function provisioning(): { route: BackendRoute; tensorflowVersion?: string; builtAt?: string } {
  const deps = join(dirname(require.resolve(`${TFJS_NODE}/package.json`)), 'deps');
  try {
    const record = JSON.parse(readFileSync(join(deps, PROVENANCE_FILE), 'utf8')) as { route: BackendRoute; tensorflowVersion?: string; builtAt?: string };
    return record;
  } catch {
    // No record: set-up found the backend already working, as after npm 10 ran tfjs-node's own installer.
  }
  const official = ['libtensorflow.so.2.9.1', 'libtensorflow.dylib', 'tensorflow.dll'].some((f) => existsSync(join(deps, 'lib', f)));
  return { route: official ? 'tfjs-node-install-script' : 'unknown' };
}

const WHY: Record<BackendRoute, string> = {
  'official-download': 'set-up ran tfjs-node\'s installer, which downloaded the official libtensorflow',
  'pip-wheel': 'the official download was unreachable: set-up took libtensorflow from pip\'s tensorflow_cpu wheel and built the addon',
  'tfjs-node-install-script': 'npm ran tfjs-node\'s own installer, which downloaded the official libtensorflow',
  unknown: 'no record of how libtensorflow was installed (rerun `npm install` to let set-up check it)',
};

/** Which backend is active, which libtensorflow, and why (the route set-up took). */
export function describeBackend(): BackendReport {
  const tf = loadNativeTf();
  const { route, tensorflowVersion, builtAt } = provisioning();
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  const intraOp = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return {
    backend: tf.getBackend(),
    tfjsNodeVersion: tf.version['tfjs-node'] ?? 'unknown',
    tensorflowVersion: binding?.TF_Version ?? tensorflowVersion ?? 'unknown',
    route,
    why: WHY[route] ?? WHY.unknown,
    ...(builtAt ? { builtAt } : {}),
    oneDnn: oneDnnAtLoad,
    threads: Number.isInteger(intraOp) && intraOp > 0 ? intraOp : availableParallelism(),
    fusedKernels: [...activeFusedKernels()],
    compiledOps: loadCompiledOps(),
  };
}

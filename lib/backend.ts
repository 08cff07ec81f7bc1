/**
 * The one way this project gets TensorFlow.js: the native backend of @tensorflow/tfjs-node
 * (libtensorflow), configured before it loads, or a clear error. Never the pure-JS backend.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';

/** The tfjs-node module type. */
export type Tf = typeof import('@tensorflow/tfjs-node');

/** What `describeBackend` reports. */
export interface BackendReport {
  /** The active TensorFlow.js backend: 'tensorflow' when native. */
  backend: string;
  /** Version of @tensorflow/tfjs-node. */
  tfjsNodeVersion: string;
  /** Version of libtensorflow, when set-up recorded it. */
  tensorflowVersion?: string;
  /** How libtensorflow was provisioned: 'official-download' or 'pip-wheel'. */
  route?: string;
  /** Whether oneDNN kernels were requested (TF_ENABLE_ONEDNN_OPTS=1). */
  oneDnn: boolean;
  /** Logical CPU cores that TensorFlow may use. */
  cores: number;
}

let loaded: Tf | undefined;

/** The message shown when the native backend is missing: what is wrong and what to do. */
export function nativeBackendMissingMessage(cause: string): string {
  return [
    'Le moteur TensorFlow natif (@tensorflow/tfjs-node) n\'est pas disponible.',
    `Cause : ${cause}`,
    'À faire : lancez `npm install` à la racine du projet (il installe libtensorflow et compile le module natif),',
    'puis `npm run backend` pour vérifier. Le moteur JavaScript pur n\'est jamais utilisé : il est environ 100 fois plus lent.',
  ].join('\n');
}

/** Loads @tensorflow/tfjs-node with oneDNN enabled and checks the backend is native; throws a clear error otherwise. */
export function loadNativeTf(): Tf {
  if (loaded) return loaded;
  // libtensorflow reads these when it loads: set them first, unless the user chose otherwise.
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '1';
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  let tf: Tf;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    tf = require('@tensorflow/tfjs-node') as Tf;
  } catch (error) {
    throw new Error(nativeBackendMissingMessage((error as Error).message.split('\n')[0]));
  }
  const backend = tf.getBackend();
  if (backend !== 'tensorflow') {
    throw new Error(nativeBackendMissingMessage(`the active backend is "${backend}", not "tensorflow"`));
  }
  loaded = tf;
  return tf;
}

/** Which backend is active, which libtensorflow and why (the route set-up took). */
export function describeBackend(): BackendReport {
  const tf = loadNativeTf();
  const packageDir = dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  let provenance: { route?: string; tensorflowVersion?: string } = {};
  try {
    provenance = JSON.parse(readFileSync(join(packageDir, 'deps', 'analyse-image-provenance.json'), 'utf8'));
  } catch {
    // installed by tfjs-node's own script (npm 10 runs it): no record
  }
  return {
    backend: tf.getBackend(),
    tfjsNodeVersion: tf.version['tfjs-node'] ?? 'unknown',
    tensorflowVersion: provenance.tensorflowVersion,
    route: provenance.route,
    oneDnn: process.env.TF_ENABLE_ONEDNN_OPTS === '1',
    cores: cpus().length,
  };
}

/**
 * Set-up step: compiles the project's own TensorFlow ops (the C files of lib/kernels/compiled)
 * against the libtensorflow set-up installed, into node_modules/.cache/analyse-image-kernels/ under
 * a name that changes with the source. Without a C compiler the training stays on TensorFlow's own
 * ops and the augmentation on JavaScript (both slower), with a warning.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { COMPILED_OPS_FLAGS, COMPILED_OPS_FOLDER, COMPILED_OPS_SOURCES, compiledOpsLibrary } from '../../lib/kernels/compiled';
import { info, warn } from './log';

/** tfjs-node's deps/lib, where set-up put libtensorflow (both routes). */
function tensorflowLibraries(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-node/package.json')), 'deps', 'lib');
}

/** $CC, else the first of cc, gcc that runs. */
function findCompiler(): string | undefined {
  const candidates = [process.env.CC, 'cc', 'gcc'].filter((c): c is string => !!c);
  return candidates.find((candidate) => spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0);
}

/** The compiler's arguments building `output` from the sources, linked to libtensorflow in `libraries`. */
export function compileArguments(output: string, libraries: string): string[] {
  return [...COMPILED_OPS_FLAGS, '-o', output, ...COMPILED_OPS_SOURCES, `-L${libraries}`, '-ltensorflow', '-ltensorflow_framework', `-Wl,-rpath,${libraries}`, '-lpthread', '-lm'];
}

/** Builds the library when the current source has none yet; warns (and leaves TensorFlow's ops in use) when it cannot. */
export async function ensureCompiledOps(): Promise<void> {
  const library = compiledOpsLibrary();
  if (existsSync(library)) {
    info(`opérations compilées déjà prêtes : ${library}`);
    return;
  }
  const compiler = findCompiler();
  if (!compiler) {
    warn('aucun compilateur C (cc, gcc) : l\'entraînement garde les opérations de TensorFlow pour la première convolution (plus lent). Installez gcc puis relancez `npm install`.');
    return;
  }
  mkdirSync(dirname(library), { recursive: true });
  const partial = `${library}.${process.pid}.tmp`;
  const started = Date.now();
  const result = spawnSync(compiler, compileArguments(partial, tensorflowLibraries()), { encoding: 'utf8' });
  if (result.status !== 0) {
    rmSync(partial, { force: true });
    warn(`la compilation de ${COMPILED_OPS_SOURCES.map((file) => basename(file)).join(', ')} (${COMPILED_OPS_FOLDER}) a échoué (${compiler}) : l'entraînement garde les opérations de TensorFlow (plus lent).`);
    for (const line of `${result.stderr ?? ''}${result.error?.message ?? ''}`.trim().split('\n').slice(-10)) warn(line);
    return;
  }
  renameSync(partial, library);
  // Builds of earlier sources: nothing loads them any more.
  for (const name of readdirSync(dirname(library))) {
    if (/^(ops|conv-pool-relu)-[0-9a-f]{12}\.node$/.test(name) && name !== basename(library)) rmSync(join(dirname(library), name), { force: true });
  }
  info(`opérations compilées (${compiler}, ${((Date.now() - started) / 1000).toFixed(1)} s) : ${library}`);
}

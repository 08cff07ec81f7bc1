/**
 * Set-up step: registers this checkout's Jupyter kernel, which runs this project's tslab (not a
 * global one) with the native TensorFlow settings the lab wants.
 *
 * Two registrations, neither of which can overwrite another checkout's:
 * - `tslab` (the name the lab's notebooks carry) only inside this checkout's `.venv/`, for the
 *   JupyterLab of `npm start` (see scripts/setup/jupyterlab.ts);
 * - `tslab-analyse-image-<hash of the checkout's path>` in the user's Jupyter data folder, by
 *   `npm install`, for a Jupyter of the user's own.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { VENV_DIR } from '../python-env';
import { ensureProjectLibTypes } from '../../grading/runner/lib-types';
import { info, step } from './log';

/** Name the lab's notebooks give their kernel (metadata.kernelspec.name), registered inside .venv/ only. */
export const KERNEL_NAME = 'tslab';

/** Display name of the kernel in the notebooks' metadata and in the JupyterLab of `npm start`. */
export const KERNEL_DISPLAY_NAME = 'TypeScript (analyse-image)';

/** This checkout's own kernel name for the user's Jupyter: `tslab-analyse-image-` and 8 hex digits of its path's SHA-256. */
export function checkoutKernelName(root: string = PROJECT_ROOT): string {
  return `tslab-analyse-image-${createHash('sha256').update(root).digest('hex').slice(0, 8)}`;
}

/** A Jupyter kernelspec (kernel.json). */
export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: 'signal' | 'message';
  env: Record<string, string>;
  metadata: Record<string, unknown>;
}

/** The kernelspec that starts this project's tslab with node (`displayName` as Jupyter lists it). */
export function projectKernelSpec(displayName: string = KERNEL_DISPLAY_NAME): KernelSpec {
  return {
    argv: [
      process.execPath,
      // Work from the project root (imports `./lib/...`), and queue tslab's socket sends so no output is lost.
      '--require',
      join(PROJECT_ROOT, 'scripts', 'kernel-root.cjs'),
      '--require',
      join(PROJECT_ROOT, 'grading', 'runner', 'tslab-preload.cjs'),
      join(PROJECT_ROOT, 'node_modules', 'tslab', 'bin', 'tslab'),
      'kernel',
      '--config-path',
      '{connection_file}',
    ],
    display_name: displayName,
    language: 'typescript',
    interrupt_mode: 'signal',
    // oneDNN kernels are off in the wheel's libtensorflow unless asked for; TF's INFO logs would clutter cells.
    env: { TF_ENABLE_ONEDNN_OPTS: '1', TF_CPP_MIN_LOG_LEVEL: '1' },
    metadata: { project: 'analyse-image', root: PROJECT_ROOT },
  };
}

/** The kernelspec registered in the user's Jupyter under checkoutKernelName(): its display name names the checkout's folder. */
export function checkoutKernelSpec(): KernelSpec {
  return projectKernelSpec(`TypeScript (analyse-image · ${basename(PROJECT_ROOT)})`);
}

/** The kernels folder of this checkout's .venv/, where `npm start` registers the notebooks' `tslab`. */
export function venvKernelsDir(venvDir: string = VENV_DIR): string {
  return join(venvDir, 'share', 'jupyter', 'kernels');
}

/** Writes the kernelspec into `<kernelsDir>/<name>/kernel.json`; returns true when the file changed. */
export function writeKernelSpec(kernelsDir: string, spec: KernelSpec = projectKernelSpec(), name: string = KERNEL_NAME): boolean {
  const folder = join(kernelsDir, name);
  const file = join(folder, 'kernel.json');
  const content = `${JSON.stringify(spec, null, 2)}\n`;
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  mkdirSync(folder, { recursive: true });
  writeFileSync(file, content);
  return true;
}

/** The kernelspec stored in `<kernelsDir>/<name>/kernel.json`, or undefined when absent or unreadable. */
export function readKernelSpec(kernelsDir: string, name: string): KernelSpec | undefined {
  try {
    return JSON.parse(readFileSync(join(kernelsDir, name, 'kernel.json'), 'utf8')) as KernelSpec;
  } catch {
    return undefined;
  }
}

/** True when a kernelspec was registered by this project for the checkout at `root`. */
export function isKernelOfCheckout(spec: KernelSpec | undefined, root: string = PROJECT_ROOT): boolean {
  return spec?.metadata?.project === 'analyse-image' && spec.metadata.root === root;
}

/** Where the Jupyter data folder came from: the environment, Jupyter itself, or the platform's default. */
export type DataDirSource = 'JUPYTER_DATA_DIR' | 'jupyter' | 'default';

/** The per-user Jupyter data folder: JUPYTER_DATA_DIR, what `jupyter --data-dir` says, or the platform default. */
export function jupyterDataDir(): { dir: string; source: DataDirSource } {
  if (process.env.JUPYTER_DATA_DIR) return { dir: process.env.JUPYTER_DATA_DIR, source: 'JUPYTER_DATA_DIR' };
  const asked = spawnSync('jupyter', ['--data-dir'], { encoding: 'utf8', timeout: 30000 });
  if (asked.status === 0 && asked.stdout.trim()) return { dir: asked.stdout.trim(), source: 'jupyter' };
  // The folders jupyter_core would pick for this user.
  if (process.platform === 'darwin') return { dir: join(homedir(), 'Library', 'Jupyter'), source: 'default' };
  if (process.platform === 'win32') return { dir: join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'jupyter'), source: 'default' };
  return { dir: join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'jupyter'), source: 'default' };
}

/** Registers this checkout's kernel (checkoutKernelName()) in the user's Jupyter data folder (idempotent). */
export async function ensureKernel(): Promise<void> {
  step('Noyau Jupyter de ce dossier');
  const { dir, source } = jupyterDataDir();
  const kernels = join(dir, 'kernels');
  const name = checkoutKernelName();
  const changed = writeKernelSpec(kernels, checkoutKernelSpec(), name);
  info(`${changed ? 'Enregistré' : 'Déjà enregistré'} : « ${name} » dans ${join(kernels, name, 'kernel.json')} (lance le tslab de ${PROJECT_ROOT}).`);
  // Earlier versions registered this checkout as the user-wide `tslab`, which every other checkout overwrote.
  const legacy = readKernelSpec(kernels, KERNEL_NAME);
  if (isKernelOfCheckout(legacy)) {
    rmSync(join(kernels, KERNEL_NAME), { recursive: true, force: true });
    info(`Ancien noyau « ${KERNEL_NAME} » de ce dossier retiré de ${kernels} (les autres dossiers du projet gardent le leur).`);
  }
  const types = ensureProjectLibTypes(info);
  if (!types.built) info(`Déclarations de lib/ pour le noyau à jour (${relative(PROJECT_ROOT, types.dir)}/).`);
  info('`npm start` enregistre de plus le noyau « tslab » des notebooks dans .venv/ (ce dossier seulement).');
  if (source === 'JUPYTER_DATA_DIR') info('Dossier donné par JUPYTER_DATA_DIR.');
  if (source === 'default') {
    info('Jupyter n\'est pas sur le PATH : noyau écrit dans le dossier Jupyter par défaut de cet utilisateur ;');
    info('Jupyter l\'y trouvera une fois installé.');
  }
}

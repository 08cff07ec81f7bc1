/**
 * Set-up step: registers the Jupyter kernel `tslab` so that it runs this project's tslab (not a
 * global one), with the native TensorFlow settings the lab wants.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { info, step } from './log';

/** Name under which the kernel is registered (the notebooks' kernelspec name). */
export const KERNEL_NAME = 'tslab';

/** A Jupyter kernelspec (kernel.json). */
export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: 'signal' | 'message';
  env: Record<string, string>;
  metadata: Record<string, unknown>;
}

/** The kernelspec that starts this project's tslab with node. */
export function projectKernelSpec(): KernelSpec {
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
    display_name: 'TypeScript (analyse-image)',
    language: 'typescript',
    interrupt_mode: 'signal',
    // oneDNN kernels are off in the wheel's libtensorflow unless asked for; TF's INFO logs would clutter cells.
    env: { TF_ENABLE_ONEDNN_OPTS: '1', TF_CPP_MIN_LOG_LEVEL: '1' },
    metadata: { project: 'analyse-image', root: PROJECT_ROOT },
  };
}

/** Writes the kernelspec into `<kernelsDir>/tslab/kernel.json`; returns true when the file changed. */
export function writeKernelSpec(kernelsDir: string, spec: KernelSpec = projectKernelSpec()): boolean {
  const folder = join(kernelsDir, KERNEL_NAME);
  const file = join(folder, 'kernel.json');
  const content = `${JSON.stringify(spec, null, 2)}\n`;
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  mkdirSync(folder, { recursive: true });
  writeFileSync(file, content);
  return true;
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

/** Registers the `tslab` kernel for this project in the user's Jupyter data folder (idempotent). */
export async function ensureKernel(): Promise<void> {
  step('Noyau Jupyter « tslab »');
  const { dir, source } = jupyterDataDir();
  const kernels = join(dir, 'kernels');
  const changed = writeKernelSpec(kernels);
  info(`${changed ? 'Enregistré' : 'Déjà enregistré'} : ${join(kernels, KERNEL_NAME, 'kernel.json')} (lance le tslab de ce projet).`);
  if (source === 'JUPYTER_DATA_DIR') info('Dossier donné par JUPYTER_DATA_DIR.');
  if (source === 'default') {
    info('Jupyter n\'est pas sur le PATH : noyau écrit dans le dossier Jupyter par défaut de cet utilisateur ;');
    info('Jupyter l\'y trouvera une fois installé (`npm start` l\'installe aussi dans .venv/ avec ce noyau).');
  }
}

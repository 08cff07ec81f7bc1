/**
 * Which kernel nbval-ts-runner starts for a notebook:
 * - `--kernel NAME`: `project` (this project's kernel, as JupyterLab starts it), `plain` (a plain
 *   tslab), or a kernelspec name looked up in Jupyter's kernel folders;
 * - otherwise the project's kernel for a notebook inside this project (it imports `./lib/...`), or
 *   the kernelspec its metadata names when one by that name is installed (a generic `tslab` excepted:
 *   that name says nothing about which tslab);
 * - otherwise a plain tslab working in the notebook's folder, for notebooks from elsewhere.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { defaultKernelArgv, type Notebook } from '../runner';
import { ensureProjectLibTypes } from '../runner/lib-types';
import { PROJECT_ROOT } from '../../lib/paths';
import { VENV_DIR } from '../../scripts/python-env';
import { KERNEL_NAME, projectKernelSpec, type KernelSpec } from '../../scripts/setup/kernel';

/** The kernel chosen for a run: its command, environment, interrupt mode, working folder, and why. */
export interface KernelChoice {
  argv: string[];
  env: NodeJS.ProcessEnv;
  interruptMode: 'signal' | 'message';
  cwd: string;
  /** One line for the user: which kernel and why. */
  description: string;
}

/** Jupyter's kernel folders, in the order jupyter_core searches them (JUPYTER_PATH, this checkout's .venv, the user's, the system's). */
export function kernelSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const userData =
    env.JUPYTER_DATA_DIR ||
    (process.platform === 'darwin'
      ? join(homedir(), 'Library', 'Jupyter')
      : process.platform === 'win32'
        ? join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'jupyter')
        : join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'jupyter'));
  const roots = [...(env.JUPYTER_PATH ?? '').split(process.platform === 'win32' ? ';' : ':').filter(Boolean), join(VENV_DIR, 'share', 'jupyter'), userData, '/usr/local/share/jupyter', '/usr/share/jupyter'];
  return [...new Set(roots.map((root) => join(root, 'kernels')))];
}

/** The installed kernelspec called `name` (first in kernelSearchPath()), with the file it came from. */
export function findKernelSpec(name: string, env: NodeJS.ProcessEnv = process.env): { spec: KernelSpec; file: string } | undefined {
  for (const dir of kernelSearchPath(env)) {
    const file = join(dir, name, 'kernel.json');
    if (!existsSync(file)) continue;
    try {
      const spec = JSON.parse(readFileSync(file, 'utf8')) as KernelSpec;
      if (Array.isArray(spec.argv) && spec.argv.length > 0) return { spec, file };
    } catch {
      // unreadable: keep looking, as Jupyter does
    }
  }
  return undefined;
}

/** True when `file` lies inside this project's folder (symbolic links resolved). */
export function insideProject(file: string): boolean {
  const real = (path: string): string => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  const rel = relative(real(PROJECT_ROOT), real(file));
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep);
}

function fromSpec(spec: KernelSpec, cwd: string, description: string): KernelChoice {
  return { argv: spec.argv, env: { ...process.env, ...(spec.env ?? {}) }, interruptMode: spec.interrupt_mode === 'message' ? 'message' : 'signal', cwd, description };
}

function projectChoice(why: string): KernelChoice {
  // The kernel works from the project root whatever its starting folder (scripts/kernel-root.cjs).
  ensureProjectLibTypes();
  return fromSpec(projectKernelSpec(), PROJECT_ROOT, `kernel: the project's tslab (root ${PROJECT_ROOT}; ${why})`);
}

function plainChoice(cwd: string, why: string): KernelChoice {
  return { argv: defaultKernelArgv(), env: process.env, interruptMode: 'signal', cwd, description: `kernel: plain tslab in ${cwd} (${why})` };
}

/** Chooses the kernel for `notebookPath` (see the file's comment); `cwd` overrides the working folder of a plain or named kernel. */
export function chooseKernel(notebookPath: string, notebook: Notebook, options: { kernel?: string; cwd?: string } = {}): KernelChoice {
  const folder = options.cwd ?? dirname(resolve(notebookPath));
  const named = (name: string, why: string): KernelChoice | undefined => {
    const found = findKernelSpec(name);
    return found ? fromSpec(found.spec, folder, `kernel: ${name} from ${found.file} (${why})`) : undefined;
  };
  if (options.kernel === 'project') return projectChoice('--kernel project');
  if (options.kernel === 'plain') return plainChoice(folder, '--kernel plain');
  if (options.kernel) {
    const chosen = named(options.kernel, '--kernel');
    if (!chosen) throw new Error(`no kernelspec named ${JSON.stringify(options.kernel)} in ${kernelSearchPath().join(', ')} (use --kernel project or --kernel plain)`);
    return chosen;
  }
  if (insideProject(notebookPath)) return projectChoice('the notebook is in the project');
  const wanted = typeof notebook.metadata?.kernelspec?.name === 'string' ? notebook.metadata.kernelspec.name : undefined;
  if (wanted && wanted !== KERNEL_NAME) {
    const chosen = named(wanted, "named in the notebook's metadata");
    if (chosen) return chosen;
  }
  return plainChoice(folder, 'the notebook is outside the project');
}

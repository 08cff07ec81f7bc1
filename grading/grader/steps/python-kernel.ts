/**
 * The Python edition's kernel: the kernelspec a notebook's metadata names (`python3`, ipykernel),
 * from the project's .venv (npm run setup:python), started in the submission's sandbox like tslab
 * (ipc sockets in bubblewrap, same limits). The sandbox mounts .venv read-only at its own path.
 */
import { existsSync, lstatSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { dataDir } from '../../../lib/paths';
import { VENV_PYTHON, venvHas } from '../../../scripts/python-env';
import { findKernelSpec } from '../../cli/kernel-choice';
import type { Notebook } from '../../runner';

/** The kernel command of a Python notebook, and where it came from; undefined when no Python kernel with ipykernel is installed. */
export interface PythonKernel {
  argv: string[];
  /** The kernel.json used, or a sentence saying the .venv's ipykernel was used directly. */
  source: string;
}

/** The kernelspec name a notebook's metadata gives (default python3). */
export function kernelNameOf(notebook: Notebook | undefined): string {
  const name = notebook?.metadata?.kernelspec?.name;
  return typeof name === 'string' && /^[\w.-]+$/.test(name) ? name : 'python3';
}

/**
 * Resolves the kernelspec `name` (Jupyter's search path, the .venv first after JUPYTER_PATH). As
 * Jupyter does, an argv starting with `python` runs the interpreter of the environment the spec
 * belongs to (`<prefix>/share/jupyter/kernels/<name>/kernel.json` -> `<prefix>/bin/python`), else the .venv's.
 */
export function pythonKernel(name = 'python3'): PythonKernel | undefined {
  const found = findKernelSpec(name);
  if (found) {
    const [first, ...rest] = found.spec.argv;
    if (/^python(\d(\.\d+)?)?$/.test(first)) {
      const prefix = dirname(dirname(dirname(dirname(dirname(found.file)))));
      const own = join(prefix, 'bin', 'python');
      return { argv: [existsSync(own) ? own : VENV_PYTHON, ...rest], source: found.file };
    }
    return { argv: found.spec.argv, source: found.file };
  }
  if (name.startsWith('python') && venvHas(['ipykernel'])) {
    return { argv: [VENV_PYTHON, '-m', 'ipykernel_launcher', '-f', '{connection_file}'], source: `${VENV_PYTHON} -m ipykernel_launcher` };
  }
  return undefined;
}

/** What a Python kernel needs in its environment besides the grader's usual one: no user site, plots to files, unbuffered output. */
export function pythonEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, PYTHONNOUSERSITE: '1', PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', MPLBACKEND: 'Agg', TF_CPP_MIN_LOG_LEVEL: '3' };
}

/** The course's Python code reads `datas/fashion-mnist_*.csv` from its folder: a link to the data folder (mounted read-only in the sandbox) in the scratch copy. */
export function linkCourseData(scratchDir: string): void {
  const link = join(scratchDir, 'datas');
  try {
    lstatSync(link);
    return; // the submission's own datas/ is never copied, so this is one we made
  } catch {
    symlinkSync(dataDir(), link, 'dir');
  }
}

/**
 * Over ipc, the runner (like tslab) addresses a channel as `<ip>:<port>`, Jupyter's kernels bind
 * `<ip>-<port>`: a link from each name the runner connects to onto the socket ipykernel binds, in
 * the connection folder (made before the kernel starts; ZeroMQ retries until the socket exists).
 */
export function linkJupyterIpcSockets(connectionFile: string): void {
  const info = JSON.parse(readFileSync(connectionFile, 'utf8')) as { transport?: string; ip?: string } & Record<string, unknown>;
  if (info.transport !== 'ipc' || typeof info.ip !== 'string') return;
  for (const channel of ['shell', 'iopub', 'stdin', 'control', 'hb']) {
    const port = info[`${channel}_port`];
    if (typeof port !== 'number') continue;
    symlinkSync(basename(`${info.ip}-${port}`), `${info.ip}:${port}`);
  }
}

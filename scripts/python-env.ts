/**
 * The project-local Python environment (.venv/), made on demand from pip's index for the tools that
 * compare against or need Python (pandas and Keras references, JupyterLab). Never needed by the lab itself.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';

/** The folder of the project-local virtual environment. */
export const VENV_DIR = join(PROJECT_ROOT, '.venv');

/** The Python interpreter inside .venv/. */
export const VENV_PYTHON = join(VENV_DIR, process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');

function systemPython(): string | undefined {
  for (const candidate of ['python3', 'python']) {
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

/** True when the .venv interpreter can import every module named. */
export function venvHas(modules: string[]): boolean {
  if (!existsSync(VENV_PYTHON)) return false;
  return spawnSync(VENV_PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure .venv/ exists with the given pip packages (name -> module to import), installing what
 * is missing. Returns the interpreter path, or throws an Error that says why Python is unusable.
 */
export function ensurePythonEnv(packages: Record<string, string>, quiet = true): string {
  const modules = Object.values(packages);
  if (venvHas(modules)) return VENV_PYTHON;
  if (!existsSync(VENV_PYTHON)) {
    const python = systemPython();
    if (!python) throw new Error('no python3 on PATH');
    const made = spawnSync(python, ['-m', 'venv', VENV_DIR], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`python3 -m venv failed: ${made.stderr.trim()}`);
  }
  const args = ['-m', 'pip', 'install', ...(quiet ? ['-q'] : []), ...Object.keys(packages)];
  // Offline, pip would retry an unreachable index five times per package: once is enough to move on.
  const env = { ...process.env, PIP_RETRIES: process.env.PIP_RETRIES ?? '1' };
  const installed = spawnSync(VENV_PYTHON, args, { stdio: quiet ? ['ignore', 'ignore', 'pipe'] : 'inherit', encoding: 'utf8', env });
  if (installed.status !== 0 || !venvHas(modules)) {
    throw new Error(`pip install ${Object.keys(packages).join(' ')} failed${installed.stderr ? `: ${installed.stderr.trim().split('\n').pop()}` : ''}`);
  }
  return VENV_PYTHON;
}

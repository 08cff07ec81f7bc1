/**
 * JupyterLab as `npm start` sets it up, all inside this checkout's .venv/ (nothing in the user's
 * own Jupyter folders):
 * - the notebooks' kernel `tslab` (this checkout's tslab), the only kernel offered and the default
 *   one, started without asking for new notebooks;
 * - no "get notified about official Jupyter news?" prompt and no update check;
 * - the French interface when the French language pack is installed.
 * Settings go to `.venv/share/jupyter/lab/settings/overrides.json` (JupyterLab's defaults for every
 * user of this environment; a user's own choice in Settings still wins) and the server's into
 * `.venv/etc/jupyter/jupyter_server_config.json` (the `jupyter_server_config.d/` folder only enables
 * extensions: jupyter_server reads nothing else from it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VENV_DIR } from '../python-env';
import { KERNEL_NAME, venvKernelsDir, writeKernelSpec } from './kernel';

/** The pip package of JupyterLab's French interface, and the locale it provides. */
export const FRENCH_PACK = { pip: 'jupyterlab-language-pack-fr-FR', module: 'jupyterlab_language_pack_fr_FR', locale: 'fr_FR' } as const;

/** JupyterLab's settings overrides (plugin id -> settings) that `npm start` writes. */
export function labSettingsOverrides(french: boolean): Record<string, Record<string, unknown>> {
  return {
    // "Would you like to get notified about official Jupyter news?" is asked while fetchNews is "none".
    '@jupyterlab/apputils-extension:notification': { fetchNews: 'false', checkForUpdates: false },
    // A new notebook starts the default kernel (the server's default_kernel_name) without a dialog.
    '@jupyterlab/notebook-extension:tracker': { autoStartDefaultKernel: true },
    ...(french ? { '@jupyterlab/translation-extension:plugin': { locale: FRENCH_PACK.locale } } : {}),
  };
}

/** The Jupyter server settings `npm start` writes: the notebooks' kernel is the default and the only one listed. */
export function serverConfig(): Record<string, Record<string, unknown>> {
  return {
    MultiKernelManager: { default_kernel_name: KERNEL_NAME },
    // Hides the user-wide kernels (other checkouts', Python's): the launcher shows the lab's kernel only.
    KernelSpecManager: { allowed_kernelspecs: [KERNEL_NAME] },
  };
}

/** Where JupyterLab of `venvDir` reads its settings overrides. */
export function overridesPath(venvDir: string = VENV_DIR): string {
  return join(venvDir, 'share', 'jupyter', 'lab', 'settings', 'overrides.json');
}

/** Where the Jupyter server of `venvDir` reads its configuration (the environment's, ahead of the user's ~/.jupyter). */
export function serverConfigPath(venvDir: string = VENV_DIR): string {
  return join(venvDir, 'etc', 'jupyter', 'jupyter_server_config.json');
}

function readJson(file: string): Record<string, Record<string, unknown>> {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** Writes `value` into the JSON file, keeping its other sections and keys; returns true when the file changed. */
function writeJson(file: string, value: Record<string, Record<string, unknown>>, merge = false): boolean {
  const merged = merge ? readJson(file) : {};
  for (const [section, settings] of Object.entries(value)) merged[section] = { ...(merged[section] ?? {}), ...settings };
  const content = `${JSON.stringify(merged, null, 2)}\n`;
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  return true;
}

/** What configureJupyterLab did. */
export interface LabSetup {
  kernelChanged: boolean;
  overrides: string;
  serverConfig: string;
  french: boolean;
}

/** Writes the kernel, the settings overrides and the server configuration into `venvDir` (idempotent). */
export function configureJupyterLab(venvDir: string = VENV_DIR, french = false): LabSetup {
  const kernelChanged = writeKernelSpec(venvKernelsDir(venvDir));
  writeJson(overridesPath(venvDir), labSettingsOverrides(french));
  writeJson(serverConfigPath(venvDir), serverConfig(), true);
  return { kernelChanged, overrides: overridesPath(venvDir), serverConfig: serverConfigPath(venvDir), french };
}

/** True when `python` has the French language pack. */
export function hasFrenchPack(python: string): boolean {
  return spawnSync(python, ['-c', `import ${FRENCH_PACK.module}`], { stdio: 'ignore' }).status === 0;
}

/** Installs the French language pack with pip if it is missing; returns whether it is there, and pip's reason when not. */
export function ensureFrenchPack(python: string): { installed: boolean; reason?: string } {
  if (hasFrenchPack(python)) return { installed: true };
  // Offline, pip fails fast with one try and a short timeout.
  const run = spawnSync(python, ['-m', 'pip', 'install', '-q', '--retries', '0', '--timeout', '15', FRENCH_PACK.pip], { encoding: 'utf8', timeout: 120_000 });
  if (run.status === 0 && hasFrenchPack(python)) return { installed: true };
  const lines = `${run.stderr ?? ''}`.trim().split('\n').filter((line) => /^ERROR/.test(line));
  return { installed: false, reason: lines.pop() ?? (run.error ? run.error.message : `pip exited with ${run.status}`) };
}

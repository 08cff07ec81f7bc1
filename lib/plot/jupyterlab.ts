/**
 * Installs lib/plot's JupyterLab extension (./jupyterlab/sized-plotly.js) into a Python environment's
 * `share/jupyter/labextensions/`, where JupyterLab 4 loads prebuilt extensions from without a build.
 * Without it, jupyterlab-plotly draws a figure's 2x PNG at twice its size, then jumps to the
 * interactive chart's size when the pointer enters it (see the extension's header).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The extension's package name (also its federated container's name in the page). */
export const PLOTS_EXTENSION = 'analyse-image-plots';

/** The extension's source: one file, served as the container's entry point. */
export const PLOTS_EXTENSION_SOURCE = join(__dirname, 'jupyterlab', 'sized-plotly.js');

/** Where the extension goes inside a Python environment (a virtualenv's prefix, e.g. .venv/). */
export function plotsExtensionDir(prefix: string): string {
  return join(prefix, 'share', 'jupyter', 'labextensions', PLOTS_EXTENSION);
}

/** What `installPlotsExtension` did. */
export interface PlotsExtensionInstall {
  /** The extension's folder. */
  dir: string;
  /** The entry point, relative to `dir` (its name holds a hash of the source). */
  load: string;
  /** False when the same version was already installed. */
  changed: boolean;
}

/**
 * Installs (or updates) the extension under `prefix`; idempotent. The entry point's name carries a
 * hash of its content because JupyterLab lets browsers cache extension files.
 */
export function installPlotsExtension(prefix: string): PlotsExtensionInstall {
  const source = readFileSync(PLOTS_EXTENSION_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = plotsExtensionDir(prefix);
  const staticDir = join(dir, 'static');
  const entry = `remoteEntry.${hash}.js`;
  const load = `static/${entry}`;
  const packageJson = `${JSON.stringify(
    {
      name: PLOTS_EXTENSION,
      version: '1.0.0',
      description: "analyse-image : les figures de lib/plot à leur taille dans JupyterLab (image, puis graphique interactif dans le même cadre)",
      private: true,
      jupyterlab: { _build: { load, extension: './extension' } },
    },
    null,
    2,
  )}\n`;
  const installJson = `${JSON.stringify({ packageManager: 'npm', packageName: 'analyse-image', uninstallInstructions: `Supprimer le dossier ${dir}` }, null, 2)}\n`;
  const files: [string, string | Buffer][] = [
    [join(dir, 'package.json'), packageJson],
    [join(dir, 'install.json'), installJson],
    [join(staticDir, entry), source],
  ];
  const stale = existsSync(staticDir) ? readdirSync(staticDir).filter((file) => file !== entry) : [];
  const changed = stale.length > 0 || files.some(([path, content]) => !existsSync(path) || !readFileSync(path).equals(Buffer.from(content)));
  if (changed) {
    mkdirSync(staticDir, { recursive: true });
    for (const file of stale) rmSync(join(staticDir, file), { force: true });
    for (const [path, content] of files) writeFileSync(path, content);
  }
  return { dir, load, changed };
}

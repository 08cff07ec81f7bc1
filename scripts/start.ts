/**
 * `npm start`: opens JupyterLab on notebooks/ with this project's `tslab` kernel. JupyterLab (and
 * plotly's JupyterLab extension, which draws the interactive charts) is installed on first use into
 * the project-local Python environment .venv/ when no suitable Jupyter is found, and set up there
 * (scripts/setup/jupyterlab.ts: kernel, no news prompt, French interface when available).
 */
import { spawn, spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';
import { installPlotsExtension } from '../lib/plot/jupyterlab';
import { ensurePythonEnv, VENV_DIR } from './python-env';
import { configureJupyterLab, ensureFrenchPack, FRENCH_PACK } from './setup/jupyterlab';
import { KERNEL_NAME, venvKernelsDir } from './setup/kernel';
import { ensureProjectLibTypes } from '../grading/runner/lib-types';

const HELP = `npm start [-- options passed to jupyter lab]

Ouvre JupyterLab sur le dossier notebooks/ avec le noyau TypeScript « tslab » du projet.
Au premier lancement, JupyterLab 4 et l'extension plotly sont installés dans .venv/ (pip),
avec l'interface en français si le paquet ${FRENCH_PACK.pip} peut l'être.
Les nouveaux notebooks démarrent sur le noyau TypeScript de ce dossier.

Exemples :
  npm start
  npm start -- --no-browser --port 8899`;

function main(): void {
  const extra = process.argv.slice(2);
  if (extra.includes('--help') || extra.includes('-h')) {
    console.log(HELP);
    return;
  }
  console.log('[analyse-image] Préparation de JupyterLab (.venv/)...');
  let python: string;
  try {
    // plotly pinned: lib/plot's JupyterLab extension builds on jupyterlab-plotly 7.1's renderer.
    python = ensurePythonEnv({ 'jupyterlab>=4,<5': 'jupyterlab', 'plotly==7.1.0': 'plotly' }, false);
  } catch (error) {
    console.error(
      `JupyterLab n'a pas pu être installé (${(error as Error).message}).\n` +
        'À faire : installez Python 3 avec pip (et un accès à un index pip), puis relancez `npm start`.',
    );
    process.exit(1);
  }
  const french = ensureFrenchPack(python);
  if (!french.installed) console.log(`  L'interface en français n'est pas disponible (${FRENCH_PACK.pip} n'a pas pu être installé : pas d'accès à l'index pip ?) ; JupyterLab reste en anglais.`);
  // Kernel, settings and server options live inside .venv/, so this JupyterLab is the same whatever the user's own Jupyter has.
  configureJupyterLab(VENV_DIR, french.installed);
  console.log(`  Noyau : ${KERNEL_NAME} (${relative(PROJECT_ROOT, join(venvKernelsDir(), KERNEL_NAME, 'kernel.json'))}, le tslab de ce dossier).`);
  const check = spawnSync(python, ['-m', 'jupyter', 'labextension', 'list'], { encoding: 'utf8' });
  if (!/jupyterlab-plotly/.test(`${check.stdout}${check.stderr}`)) {
    console.warn("  ! L'extension jupyterlab-plotly est absente : les graphiques seront affichés en image fixe.");
  }
  // lib/plot's extension: jupyterlab-plotly alone draws a figure's 2x PNG at twice its size, then jumps on hover.
  installPlotsExtension(VENV_DIR);
  ensureProjectLibTypes((line) => console.log(`  ${line}`));
  console.log('[analyse-image] JupyterLab démarre (Ctrl+C pour arrêter)...');
  // Jupyter refuses to run as root (containers, CI) unless told.
  const asRoot = process.getuid?.() === 0 ? ['--allow-root'] : [];
  // .venv/'s kernels and settings before the user's (jupyter_core does so in a venv it owns; say it for every case).
  const env = { ...process.env, JUPYTER_PREFER_ENV_PATH: '1' };
  const lab = spawn(python, ['-m', 'jupyter', 'lab', `--ServerApp.root_dir=${join(PROJECT_ROOT, 'notebooks')}`, ...asRoot, ...extra], { stdio: 'inherit', env });
  const stop = (): void => void lab.kill('SIGINT');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  lab.on('exit', (code) => process.exit(code ?? 0));
}

main();

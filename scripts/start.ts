/**
 * `npm start`: opens JupyterLab on notebooks/ with this project's `tslab` kernel. JupyterLab (and
 * plotly's JupyterLab extension, which draws the interactive charts) is installed on first use into
 * the project-local Python environment .venv/ when no suitable Jupyter is found.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';
import { ensurePythonEnv, VENV_DIR } from './python-env';
import { writeKernelSpec } from './setup/kernel';

const HELP = `npm start [-- options passed to jupyter lab]

Ouvre JupyterLab sur le dossier notebooks/ avec le noyau TypeScript « tslab » du projet.
Au premier lancement, JupyterLab 4 et l'extension plotly sont installés dans .venv/ (pip).

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
    python = ensurePythonEnv({ 'jupyterlab>=4,<5': 'jupyterlab', plotly: 'plotly' }, false);
  } catch (error) {
    console.error(
      `JupyterLab n'a pas pu être installé (${(error as Error).message}).\n` +
        'À faire : installez Python 3 avec pip (et un accès à un index pip), puis relancez `npm start`.',
    );
    process.exit(1);
  }
  // The kernel is registered inside .venv too, so this JupyterLab finds it whatever the user's own Jupyter has.
  writeKernelSpec(join(VENV_DIR, 'share', 'jupyter', 'kernels'));
  const check = spawnSync(python, ['-m', 'jupyter', 'labextension', 'list'], { encoding: 'utf8' });
  if (!/jupyterlab-plotly/.test(`${check.stdout}${check.stderr}`)) {
    console.warn("  ! L'extension jupyterlab-plotly est absente : les graphiques seront affichés en image fixe.");
  }
  console.log('[analyse-image] JupyterLab démarre (Ctrl+C pour arrêter)...');
  // Jupyter refuses to run as root (containers, CI) unless told.
  const asRoot = process.getuid?.() === 0 ? ['--allow-root'] : [];
  const lab = spawn(python, ['-m', 'jupyter', 'lab', `--ServerApp.root_dir=${join(PROJECT_ROOT, 'notebooks')}`, ...asRoot, ...extra], { stdio: 'inherit' });
  const stop = (): void => void lab.kill('SIGINT');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  lab.on('exit', (code) => process.exit(code ?? 0));
}

main();

/**
 * `npm run check:nbclient`: runs the three notebooks in quick mode with `jupyter execute` (nbclient,
 * Jupyter's own headless client, independent of this project's runner) on the registered tslab
 * kernel, and fails if any cell errors. JupyterLab's Python environment (.venv/) is made if needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';
import { ensurePythonEnv, VENV_DIR } from './python-env';
import { writeKernelSpec } from './setup/kernel';

const NOTEBOOKS = ['exploration', 'classification', 'test_model'];

function main(): void {
  if (process.argv.includes('--help')) {
    console.log('npm run check:nbclient\n\nExécute les trois notebooks en mode rapide avec « jupyter execute » (nbclient) sur le noyau tslab.');
    return;
  }
  const python = ensurePythonEnv({ 'jupyterlab>=4,<5': 'jupyterlab', plotly: 'plotly' });
  writeKernelSpec(join(VENV_DIR, 'share', 'jupyter', 'kernels'));
  // nbclient writes outputs into the file it runs (--inplace) or nowhere: run copies, never the sources.
  const scratch = mkdtempSync(join(tmpdir(), 'analyse-image-nbclient-'));
  const modelDir = join(PROJECT_ROOT, '.cache', 'modele-quick');
  mkdirSync(modelDir, { recursive: true });
  let failures = 0;
  try {
    for (const name of NOTEBOOKS) {
      const copy = join(scratch, `${name}.ipynb`);
      copyFileSync(join(PROJECT_ROOT, 'notebooks', `${name}.ipynb`), copy);
      const started = Date.now();
      const run = spawnSync(python, ['-m', 'jupyter', 'execute', '--kernel_name=tslab', '--inplace', copy], {
        encoding: 'utf8',
        env: { ...process.env, ANALYSE_IMAGE_QUICK: '1', ANALYSE_IMAGE_MODELE: modelDir, JUPYTER_PATH: join(VENV_DIR, 'share', 'jupyter') },
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (run.status === 0) {
        console.log(`✓ jupyter execute ${name}.ipynb (${seconds} s)`);
      } else {
        failures++;
        console.log(`✗ jupyter execute ${name}.ipynb (${seconds} s)\n${run.stderr.trim().split('\n').slice(-15).join('\n')}`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.exit(failures ? 1 : 0);
}

main();

/**
 * `npm run lab`: executes the lab's notebooks headlessly on the tslab kernel, in order, with the
 * project's own runner (nbval-ts-runner), writes executed copies into reports/lab/ (never into
 * notebooks/, which holds the lab and nothing else) and prints each result beside the course's
 * published figure.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { executeNotebook, type ExecutionResult, type Notebook } from '../grading/runner';
import { PROJECT_ROOT } from '../lib/paths';
import { LAB_NOTEBOOKS, executedCopyPath, extraNotebooks, labReportsDir, moveLegacyCopies } from './notebook-list';
import { projectKernelSpec } from './setup/kernel';
import { ensureProjectLibTypes } from '../grading/runner/lib-types';

const NOTEBOOKS = [...LAB_NOTEBOOKS, ...extraNotebooks()];

/** Results the course publishes (test accuracy), read from the cells tagged with these names. */
const PUBLISHED: { tag: string; title: string; accuracy: number }[] = [
  { tag: 'result-one-conv', title: '1 convolution, 10 époques', accuracy: 0.9082 },
  { tag: 'result-augmented', title: '1 convolution + augmentation, 50 époques', accuracy: 0.9175 },
  { tag: 'result-four-conv', title: '4 convolutions, 10 époques', accuracy: 0.9302 },
];

const HELP = `npm run lab [-- options]

Exécute les notebooks du laboratoire (${LAB_NOTEBOOKS.join(', ')}) sur le noyau tslab, sans interface,
et affiche les précisions obtenues à côté de celles du cours.

Options :
  --quick            mode rapide : petit échantillon et 1 époque (copies dans reports/lab/quick/,
                     modèle dans .cache/modele-quick/ pour ne pas écraser modele/) ;
                     exécute aussi les notebooks complémentaires
  --all              mode complet : les notebooks complémentaires aussi
                     (${extraNotebooks().join(', ') || 'aucun pour l’instant'})
  --only a,b         seulement ces notebooks (par défaut : tous, dans l'ordre)
  --cell-timeout S   limite par cellule en secondes (par défaut : aucune)
  --help             cette aide

Les copies exécutées sont écrites dans reports/lab/<nom>.ipynb (mode rapide :
reports/lab/quick/<nom>.ipynb) ; notebooks/ et ses sources ne sont jamais modifiés.`;

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** The accuracy printed by a tagged cell ("Précision: 0.91"), if the cell ran. */
export function taggedAccuracy(notebook: Notebook, tag: string): number | undefined {
  for (const cell of notebook.cells) {
    if (cell.cell_type !== 'code' || !(cell.metadata?.tags ?? []).includes(tag)) continue;
    for (const output of cell.outputs ?? []) {
      if (output.output_type !== 'stream') continue;
      const text = Array.isArray(output.text) ? output.text.join('') : output.text;
      const match = /^Précision\s*:\s*([0-9.]+)/m.exec(text);
      if (match) return Number(match[1]);
    }
  }
  return undefined;
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  const quick = process.argv.includes('--quick');
  const only = option('--only')?.split(',');
  const unknown = only?.filter((name) => !(NOTEBOOKS as readonly string[]).includes(name));
  if (unknown?.length) {
    console.error(`Notebook inconnu : ${unknown.join(', ')}. Notebooks : ${NOTEBOOKS.join(', ')}.`);
    process.exit(2);
  }
  const cellTimeout = Number(option('--cell-timeout') ?? 0);
  ensureProjectLibTypes((line) => console.log(line));
  const env: NodeJS.ProcessEnv = { ...process.env, TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS ?? '1' };
  if (quick) {
    env.ANALYSE_IMAGE_QUICK = '1';
    env.ANALYSE_IMAGE_MODELE = join(PROJECT_ROOT, '.cache', 'modele-quick');
    mkdirSync(env.ANALYSE_IMAGE_MODELE, { recursive: true });
  } else {
    delete env.ANALYSE_IMAGE_QUICK;
  }
  // Quick mode is the smoke test of every notebook; full mode is the course, extras on demand.
  const selected = only ?? (quick || process.argv.includes('--all') ? NOTEBOOKS : LAB_NOTEBOOKS);
  console.log(`Laboratoire ${quick ? 'en mode rapide' : 'complet'} : ${selected.join(', ')}\n`);
  // Copies earlier versions wrote beside the sources go to reports/lab/: notebooks/ holds only the lab.
  const moved = moveLegacyCopies();
  if (moved.length) console.log(`Anciennes copies exécutées déplacées de notebooks/ vers reports/lab/ : ${moved.join(', ')}\n`);
  const folder = join(PROJECT_ROOT, 'notebooks');
  mkdirSync(labReportsDir(quick), { recursive: true });
  const results: { name: string; result: ExecutionResult }[] = [];
  for (const name of NOTEBOOKS) {
    if (!selected.includes(name)) continue;
    const outputPath = executedCopyPath(name, quick);
    const result = await executeNotebook(join(folder, `${name}.ipynb`), {
      // The very kernel JupyterLab starts (the registered kernelspec), from the project root.
      argv: projectKernelSpec().argv,
      cwd: PROJECT_ROOT,
      env,
      outputPath,
      cellTimeoutMs: cellTimeout > 0 ? cellTimeout * 1000 : undefined,
      // The course's own notebooks: nothing to cap (the runner's default 1 MB per cell would cut
      // pretraitement's 1.4 MB before/after grid).
      outputLimits: { cellLines: Infinity, cellBytes: Infinity, notebookBytes: Infinity },
      onCellStart: (_cell, position, total) => process.stderr.write(`  [${name}] cellule ${position}/${total}...\n`),
      // Long cells (training) show their own progress lines as they come.
      onOutput: (output) => {
        if (output.output_type === 'stream' && output.name === 'stdout') {
          const text = Array.isArray(output.text) ? output.text.join('') : output.text;
          // Results as soon as they are printed (a long run stopped later still shows them in its log).
          for (const line of text.split('\n')) if (/^(Erreur|Précision)\s*:/.test(line)) process.stderr.write(`    ${line}\n`);
          if (/Époque|ms\/pas/.test(text)) process.stderr.write(`    ${text.replace(/^\r/, '').replace(/\r/g, '\n    ').trimEnd()}\n`);
        }
      },
      onCellDone: (cell, position, total) =>
        process.stderr.write(`  [${name}] cellule ${position}/${total} ${cell.status === 'skipped' ? `ignorée (${cell.skipReason})` : cell.status} (${seconds(cell.durationMs)})\n`),
    });
    results.push({ name, result });
    const failed = result.cells.find((cell) => cell.failed);
    console.log(`${result.ok ? '✓' : '✗'} ${name} : ${seconds(result.durationMs)} -> ${outputPath.replace(`${PROJECT_ROOT}/`, '')}`);
    if (failed) {
      console.log(`  cellule ${failed.index + 1} : ${failed.message ?? failed.status}${failed.error ? ` (${failed.error.ename}: ${failed.error.evalue})` : ''}`);
      break;
    }
  }

  const classification = results.find((r) => r.name === 'classification');
  if (classification) {
    console.log(`\n${'Résultat (précision sur le test)'.padEnd(44)} ${'cours'.padStart(7)} ${'obtenu'.padStart(7)} ${'écart'.padStart(7)}`);
    for (const published of PUBLISHED) {
      const obtained = taggedAccuracy(classification.result.notebook, published.tag);
      const gap = obtained === undefined ? '' : (obtained - published.accuracy >= 0 ? '+' : '') + (obtained - published.accuracy).toFixed(4);
      console.log(`${published.title.padEnd(44)} ${published.accuracy.toFixed(4).padStart(7)} ${(obtained?.toFixed(4) ?? '—').padStart(7)} ${gap.padStart(7)}`);
    }
    if (quick) console.log('(mode rapide : 1 époque sur un petit échantillon, les écarts ne sont pas significatifs)');
  }
  console.log(`\nDurées : ${results.map((r) => `${r.name} ${seconds(r.result.durationMs)}`).join(', ')}`);
  if (results.some((r) => !r.result.ok) || results.length === 0) process.exit(1);
}

main().catch((error: Error) => {
  console.error(`npm run lab : ${error.message}`);
  process.exit(2);
});

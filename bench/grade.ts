/**
 * `npm run bench:grade`: (1) a class of 20 submissions graded with --no-execute, the whole command
 * timed; (2) the notebook runner's cost per trivial cell against `jupyter execute` on the same
 * notebook and the same tslab kernel (Python's nbclient, from .venv or $NBVAL_TS_PYTHON's folder);
 * (3) the sandbox's cost: a grading kernel started (and TensorFlow loaded in it) with bubblewrap
 * and without isolation, alternately, in the same run; (4) grading on Slurm: the cluster tests'
 * class (3 submissions, executed in quick mode) graded by one run and by a job array of 3 tasks
 * on a local Slurm (tests/helpers/slurm.ts, or the one SLURM_CONF names), each timed, with the
 * per-task fixed cost (sbatch to the task's start, the grader's start-up in the task).
 * Options: --submissions N (20), --jobs N (the grader's default), --cells N (100), --repeats N (3),
 * --only classe|cellules|bac-a-sable|slurm (one section).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../lib/paths';
import { bubblewrapProblem, chooseSandbox, limitsOf, SubmissionSandbox, type SandboxChoice } from '../grading/grader/sandbox';
import { prepareScratch } from '../grading/grader/scratch';
import { DEFAULT_SPEC } from '../grading/grader/spec';
import { startGradingKernel } from '../grading/grader/steps/execute-notebooks';
import { temporaryFolder } from '../tests/helpers/fixtures';
import { venvKernelsDir, writeKernelSpec } from '../scripts/setup/kernel';
import { fragmentsDirOf, taskOverheads } from '../grading/cluster/slurm';
import { slurmAvailability, SLURM_HOW, startLocalSlurm } from '../tests/helpers/slurm';
import { writeClusterClass } from '../tests/grading/cluster/fixtures';
import { gradebookShape } from '../tests/grading/cluster/run';

const { values } = parseArgs({ options: { submissions: { type: 'string', default: '20' }, jobs: { type: 'string' }, cells: { type: 'string', default: '100' }, repeats: { type: 'string', default: '3' }, only: { type: 'string' } } });
const SUBMISSIONS = Number(values.submissions);
const CELLS = Number(values.cells);
const REPEATS = Number(values.repeats);
const TSX = require.resolve('tsx/cjs');

function timed(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { seconds: number; status: number | null; output: string } {
  const started = performance.now();
  const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: options.cwd, env: options.env, maxBuffer: 64 << 20 });
  return { seconds: (performance.now() - started) / 1000, status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
}

function trivialNotebook(path: string, cells: number): void {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: Array.from({ length: cells }, (_, i) => ({ id: `c${i}`, cell_type: 'code', metadata: {}, source: `${i} + 1`, outputs: [], execution_count: null })),
  };
  writeFileSync(path, JSON.stringify(nb));
}

function jupyterCommand(): string | undefined {
  const candidates = [process.env.NBVAL_TS_PYTHON ? join(process.env.NBVAL_TS_PYTHON, '..', 'jupyter') : undefined, join(PROJECT_ROOT, '.venv', 'bin', 'jupyter')];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

function benchClass(dir: string): void {
  const classDir = join(dir, 'classe');
  const ids = Array.from({ length: SUBMISSIONS }, (_, i) => `etudiant-${String(i + 1).padStart(2, '0')}=true`);
  process.stderr.write(`Construction d'une classe de ${SUBMISSIONS} soumissions (un petit modèle entraîné une fois, copié)...\n`);
  const build = timed([process.execPath, '--require', TSX, join(PROJECT_ROOT, 'tests', 'grading', 'grader', 'stored-submission.ts'), classDir, ...ids]);
  if (build.status !== 0) throw new Error(`construction impossible :\n${build.output}`);
  const spec = join(dir, 'bareme.json');
  writeFileSync(spec, JSON.stringify({ accuracy: { pass: 0.6, bands: [] } }));
  const args = [process.execPath, '--require', TSX, join(PROJECT_ROOT, 'grading', 'cli', 'grade.ts'), classDir, '--no-execute', '--spec', spec, '--report', join(dir, 'rapport')];
  if (values.jobs) args.push('--jobs', values.jobs);
  const run = timed(args);
  const summary = /(\d+) soumissions?, (\d+) réussies?/.exec(run.output);
  console.log(`\n## Correction d'une classe (--no-execute${values.jobs ? `, --jobs ${values.jobs}` : ''})`);
  console.log(`${SUBMISSIONS} soumissions : ${run.seconds.toFixed(1)} s en tout, ${(run.seconds / SUBMISSIONS).toFixed(2)} s par soumission (code ${run.status}, ${summary ? `${summary[2]}/${summary[1]} réussies` : 'résumé introuvable'}).`);
}

function benchRunner(dir: string): void {
  const small = join(dir, 'un.ipynb');
  const large = join(dir, `cellules-${CELLS}.ipynb`);
  trivialNotebook(small, 1);
  trivialNotebook(large, CELLS + 1);
  const runner = (nb: string) => [process.execPath, '--require', TSX, join(PROJECT_ROOT, 'grading', 'cli', 'nbval-ts-runner.ts'), 'execute', nb, '--quiet', '--output', `${nb}.out.ipynb`];
  const jupyter = jupyterCommand();
  const tools: [string, (nb: string) => string[]][] = [['nbval-ts-runner', runner]];
  // `tslab` is registered inside .venv/ only (npm install registers this checkout under a name of its own).
  if (jupyter) writeKernelSpec(venvKernelsDir());
  if (jupyter) tools.push(['jupyter execute', (nb) => [jupyter, 'execute', '--kernel_name=tslab', nb, '--output', `${nb}.jupyter.ipynb`]]);
  console.log(`\n## Coût par cellule triviale (${CELLS} cellules de plus ; médiane de ${REPEATS}, en alternant les outils)`);
  if (!jupyter) console.log('jupyter introuvable (.venv/bin/jupyter) : seul nbval-ts-runner est mesuré. Créez .venv avec jupyter pour comparer.');
  const times = new Map<string, { small: number[]; large: number[] }>(tools.map(([name]) => [name, { small: [], large: [] }]));
  for (let r = 0; r < REPEATS; r++) {
    for (const [name, argv] of tools) {
      for (const [size, nb] of [['small', small], ['large', large]] as const) {
        const run = timed(argv(nb));
        if (run.status !== 0) throw new Error(`${name} a échoué sur ${nb} :\n${run.output.slice(-2000)}`);
        times.get(name)![size].push(run.seconds);
      }
    }
  }
  const rows = tools.map(([name]) => {
    const t = times.get(name)!;
    const perCell = ((median(t.large) - median(t.small)) / CELLS) * 1000;
    return { name, startup: median(t.small), total: median(t.large), perCell };
  });
  console.log('outil             1 cellule (s)   ' + `${CELLS + 1} cellules (s)   par cellule (ms)`);
  for (const row of rows) console.log(`${row.name.padEnd(18)}${row.startup.toFixed(2).padStart(13)}   ${row.total.toFixed(2).padStart(16)}   ${row.perCell.toFixed(1).padStart(16)}`);
  if (rows.length === 2) console.log(`ratio par cellule nbval-ts-runner / jupyter execute : ${(rows[0].perCell / rows[1].perCell).toFixed(2)}`);
}

/** Kernel start (spawn to first reply) and a first cell loading TensorFlow, in a grading sandbox of `choice`. */
async function sandboxedKernel(dir: string, choice: SandboxChoice, index: number): Promise<{ startup: number; firstCell: number }> {
  const submission = join(dir, `soumission-${index}`);
  mkdirSync(submission, { recursive: true });
  writeFileSync(join(submission, 'classification.ipynb'), '{}');
  const scratch = prepareScratch(submission, dir, `s${index}`, { course: choice.mode === 'bubblewrap' ? 'mounted' : 'copied' });
  const sandbox = SubmissionSandbox.forSubmission(choice, index, scratch.dir, limitsOf(DEFAULT_SPEC));
  sandbox.own(scratch.dir);
  const started = performance.now();
  const kernel = await startGradingKernel(sandbox, scratch.dir, { startupTimeoutMs: 120_000 });
  const startup = (performance.now() - started) / 1000;
  const cell = await kernel.execute("import { loadNativeTf } from './lib/backend';\nloadNativeTf().getBackend()");
  if (cell.status !== 'ok') throw new Error(`la première cellule a échoué (${choice.mode}) : ${cell.error?.evalue ?? cell.status}`);
  await kernel.shutdown({ graceMs: 1000 });
  await sandbox.killAll();
  return { startup, firstCell: cell.durationMs / 1000 };
}

async function benchSandbox(dir: string): Promise<void> {
  console.log(`\n## Coût du bac à sable : démarrage d'un noyau de correction (médiane de ${REPEATS}, en alternant)`);
  const problem = bubblewrapProblem();
  if (problem) {
    console.log(`bubblewrap indisponible (${problem}) : rien à comparer.`);
    return;
  }
  const modes: [string, SandboxChoice][] = [
    ['sans isolation', chooseSandbox('none')],
    ['bubblewrap', chooseSandbox('bubblewrap')],
  ];
  const times = new Map(modes.map(([name]) => [name, { startup: [] as number[], firstCell: [] as number[] }]));
  let index = 0;
  for (let r = 0; r < REPEATS; r++) {
    for (const [name, choice] of modes) {
      const run = await sandboxedKernel(dir, choice, index++);
      times.get(name)!.startup.push(run.startup);
      times.get(name)!.firstCell.push(run.firstCell);
    }
  }
  console.log('isolation          démarrage du noyau (s)   1re cellule, TensorFlow chargé (s)');
  for (const [name] of modes) {
    const t = times.get(name)!;
    console.log(`${name.padEnd(18)}${median(t.startup).toFixed(2).padStart(22)}   ${median(t.firstCell).toFixed(2).padStart(34)}`);
  }
  const [plain, boxed] = modes.map(([name]) => times.get(name)!);
  console.log(`ratio bubblewrap / sans isolation : démarrage ${(median(boxed.startup) / median(plain.startup)).toFixed(2)}, 1re cellule ${(median(boxed.firstCell) / median(plain.firstCell)).toFixed(2)}`);
}

/** `1,23 s`. */
function s(value: number): string {
  return `${value.toLocaleString('fr-FR', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} s`;
}

/** The same class graded with execution (quick mode) by one run (--jobs 1, then 2) and by a Slurm job array of 3 tasks; the per-task fixed cost. */
async function benchSlurm(dir: string): Promise<void> {
  console.log('\n## Correction sur Slurm : une exécution contre un tableau de 3 tâches (3 soumissions exécutées, mode rapide)');
  const availability = slurmAvailability();
  if (!availability.found) {
    console.log(`Slurm indisponible (${availability.what}) : ${SLURM_HOW}.`);
    return;
  }
  const slurm = await startLocalSlurm();
  try {
    const env = { ...slurm.env, ANALYSE_IMAGE_QUICK: '1' };
    const spec = writeClusterClass(join(dir, 'classe'), join(dir, 'bareme.json'));
    const grade = [process.execPath, '--require', TSX, join(PROJECT_ROOT, 'grading', 'cli', 'grade.ts'), 'classe', '--spec', spec];
    const runs: { label: string; seconds: number; report: string }[] = [];
    for (const jobs of ['1', '2']) {
      const run = timed([...grade, '--jobs', jobs, '--report', `seul-${jobs}`], { cwd: dir, env });
      if (run.status !== 0 && run.status !== 1) throw new Error(`la correction en une exécution a échoué :\n${run.output.slice(-3000)}`);
      runs.push({ label: `une exécution, --jobs ${jobs}`, seconds: run.seconds, report: `seul-${jobs}` });
    }
    const array = timed([...grade, '--slurm', '--shards', '3', '--partition', slurm.partition, '--report', 'slurm'], { cwd: dir, env });
    if (array.status !== 0 && array.status !== 1) throw new Error(`la correction sur Slurm a échoué :\n${array.output.slice(-3000)}`);
    runs.push({ label: 'Slurm, 3 tâches d’un cœur', seconds: array.seconds, report: 'slurm' });
    // Bare arrays of 2 tasks (one per core here), once the cluster is warm: Slurm's own dispatch, without the grader.
    const bareStarts: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const bare = join(dir, `nu-${r}`);
      mkdirSync(bare);
      const submittedAt = Date.now() / 1000;
      const wrap = timed(['sbatch', '--wait', '--array=1-2', `--output=${join(bare, '%a.log')}`, '--wrap', 'date +%s.%N'], { cwd: bare, env });
      if (wrap.status !== 0) throw new Error(`sbatch a échoué :\n${wrap.output}`);
      for (const i of [1, 2]) bareStarts.push(Number(readFileSync(join(bare, `${i}.log`), 'utf8').trim()) - submittedAt);
    }
    const same = runs.every((r) => JSON.stringify(gradebookShape(join(dir, r.report, 'grades.json'))) === JSON.stringify(gradebookShape(join(dir, 'seul-1', 'grades.json'))));
    console.log(`Slurm local : ${slurm.started ? `démarré en ${s(slurm.startSeconds)} (munged, slurmctld, slurmd)` : `celui de SLURM_CONF=${slurm.conf}`}, ${availableParallelism()} cœurs.`);
    console.log('correction                         durée (s)');
    for (const run of runs) console.log(`${run.label.padEnd(33)}${run.seconds.toFixed(1).padStart(10)}`);
    console.log(`ratio Slurm / une exécution --jobs 1 : ${(array.seconds / runs[0].seconds).toFixed(2)} ; carnets identiques (identifiants, notes, vérifications, signalements) : ${same ? 'oui' : 'NON'}.`);
    const overheads = taskOverheads(fragmentsDirOf(join(dir, 'slurm')));
    const range = (values: number[]) => `médiane ${s(median(values))} (de ${s(Math.min(...values))} à ${s(Math.max(...values))})`;
    console.log('Coût fixe par tâche :');
    console.log(`  de sbatch au début de la tâche, ${REPEATS} tableaux de 2 tâches « date » (un cœur chacune) : ${range(bareStarts)}`);
    console.log(`  de sbatch au début de la tâche, tableau de la correction : ${range(overheads.queueSeconds)} (une tâche attend qu’un cœur se libère)`);
    console.log(`  démarrage du correcteur dans la tâche (Node, tsx, TensorFlow, choix du bac à sable, lecture de la classe) : ${range(overheads.startupSeconds)}`);
  } finally {
    await slurm.stop();
  }
}

/** Whether `--only` asks for `section` (every section without --only). */
function wanted(section: string): boolean {
  return !values.only || values.only === section;
}

void (async () => {
  if (values.only && !['classe', 'cellules', 'bac-a-sable', 'slurm'].includes(values.only)) throw new Error(`--only attend classe, cellules, bac-a-sable ou slurm, pas ${values.only}.`);
  const folder = temporaryFolder('bench-grade-');
  try {
    mkdirSync(join(folder.dir, 'nb'));
    mkdirSync(join(folder.dir, 'bac-a-sable'));
    mkdirSync(join(folder.dir, 'slurm'));
    if (wanted('classe')) benchClass(folder.dir);
    if (wanted('cellules')) benchRunner(join(folder.dir, 'nb'));
    if (wanted('bac-a-sable')) await benchSandbox(join(folder.dir, 'bac-a-sable'));
    if (wanted('slurm')) await benchSlurm(join(folder.dir, 'slurm'));
  } finally {
    folder.cleanup();
  }
})();

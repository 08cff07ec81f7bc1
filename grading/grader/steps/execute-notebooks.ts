/**
 * Steps: run classification, then test_model, in the submission's sandbox (checks
 * `classification-runs` and `test-model-runs`); with --no-execute, judge the stored outputs instead.
 */
import { chownSync } from 'node:fs';
import { join } from 'node:path';
import { stepOfMessage } from '../../../lib/exercise';
import { describePendingSteps, pendingSteps } from '../../assignment/steps';
import { cellTags, defaultKernelArgv, executeNotebook, KernelClient, type CellResult, type ExecutionResult, type ExitInfo, type Notebook, type OutputLimits } from '../../runner';
import type { GradingSpec } from '../spec';
import { breachMessage, type LimitBreach, type SubmissionLimits, type SubmissionSandbox } from '../sandbox';
import { kernelEnvironment } from '../scratch';
import { recordCheck, type GradingContext, type NotebookKey } from './context';
import { kernelNameOf, linkCourseData, linkJupyterIpcSockets, pythonEnvironment, pythonKernel, type PythonKernel } from './python-kernel';
import { notebookEdition } from './validate-notebooks';

const CHECK_OF: Record<NotebookKey, 'classification-runs' | 'test-model-runs'> = { classification: 'classification-runs', testModel: 'test-model-runs' };

/** The kernel command for grading: the project's tslab, TypeScript folders importable, no change of folder. */
export function gradingKernelArgv(): string[] {
  const [node, ...rest] = defaultKernelArgv();
  return [node, '--require', require.resolve('tsx/cjs'), ...rest];
}

function exitInFrench(exit: ExitInfo): string {
  if (exit.signal) return `tué par le signal ${exit.signal}`;
  return exit.error ? `démarrage impossible : ${exit.error}` : `code de sortie ${exit.code}`;
}

/** Why a cell failed, in French. */
export function cellFailure(cell: CellResult, cellSeconds: number): string {
  const where = `cellule ${cell.index + 1}`;
  switch (cell.status) {
    case 'timeout':
      return `${where} : plus de ${cellSeconds} s sans finir (boucle infinie ?), interrompue${cell.exit ? ' puis noyau arrêté' : ''}`;
    case 'kernel-died':
      return `${where} : le noyau s’est arrêté pendant la cellule (${cell.exit ? exitInFrench(cell.exit) : 'cause inconnue'} ; process.exit ou plantage ?)`;
    case 'ok':
      return `${where} : devait lever une erreur et n’en a pas levé`;
    default: {
      // A blank of the student version (lib/exercise's aCompleter) still in place: name its step.
      const step = stepOfMessage(cell.error?.evalue ?? cell.message ?? '');
      if (step) return `${where} : étape à compléter « ${step} » (l’appel aCompleter(…) n’a pas encore été remplacé par votre code)`;
      return `${where} : ${cell.error ? `${cell.error.ename}: ${cell.error.evalue}` : (cell.message ?? 'erreur')}`;
    }
  }
}

/** The blanks still in a notebook as submitted, in one sentence to append to its run check (empty when none). */
function pendingNote(notebook: Notebook): string {
  const sentence = describePendingSteps(pendingSteps(notebook));
  return sentence ? ` ${sentence}` : '';
}

/** The spec's output caps as the runner takes them (MB to bytes). */
export function outputLimitsOf(spec: GradingSpec): OutputLimits {
  return { cellLines: spec.output.cellLines, cellBytes: spec.output.cellMb * 1e6, notebookBytes: spec.output.notebookMb * 1e6 };
}

/** Starts a kernel inside a submission's sandbox, working in its scratch folder: the project's TypeScript kernel, or `python` (a Python kernel's command, see python-kernel.ts). */
export async function startGradingKernel(sandbox: SubmissionSandbox, scratchDir: string, options: { startupTimeoutMs: number; outputLimits?: OutputLimits; modelFolder?: string; python?: PythonKernel }): Promise<KernelClient> {
  const { startupTimeoutMs, outputLimits, modelFolder, python } = options;
  const env = kernelEnvironment(sandbox.inside(scratchDir), modelFolder);
  const kernel = await KernelClient.start({
    argv: python ? python.argv : gradingKernelArgv(),
    outputLimits,
    cwd: scratchDir,
    env: python ? pythonEnvironment(env) : env,
    // The connection folder stays in the temporary folder (short socket paths) and is mounted into the sandbox.
    transport: sandbox.transport,
    sendInterrupt: (kernelProcess) => sandbox.sendInterrupt(kernelProcess),
    startupTimeoutMs,
    wrapCommand: (argv, where) => {
      if (python && sandbox.transport === 'ipc') linkJupyterIpcSockets(where.connectionFile);
      if (sandbox.uid !== undefined) for (const path of [where.connectionDir, where.connectionFile]) chownSync(path, sandbox.uid, sandbox.uid);
      return sandbox.wrap(argv, { cwd: scratchDir, writable: [where.connectionDir] });
    },
  });
  sandbox.track(kernel.kernelProcess.pid);
  return kernel;
}

/** Runs one notebook of the submission in its sandbox, within the spec's time, memory, process and disk limits. */
export async function runNotebook(ctx: GradingContext, key: NotebookKey): Promise<void> {
  const state = ctx.notebooks[key];
  if (!state?.submitted) return;
  const { spec, sandbox, scratch } = ctx;
  ctx.onProgress?.(`exécution de ${state.file}`);
  const started = Date.now();
  const notebookTimeoutMs = spec.timeouts.notebookSeconds * 1000;
  // The Python edition runs on the kernel its metadata names (ipykernel of the project's .venv).
  const edition = notebookEdition(state.submitted);
  const python = edition === 'python' ? pythonKernel(kernelNameOf(state.submitted)) : undefined;
  if (edition === 'python' && !python) {
    state.runProblem = `notebook Python (noyau « ${kernelNameOf(state.submitted)} ») : aucun noyau Python avec ipykernel et Keras n’est installé pour le correcteur (npm run setup:python), ou corrigez avec --no-execute.`;
    return;
  }
  if (python) linkCourseData(scratch.dir);
  const limited = await sandbox.withLimits(async () => {
    let kernel: KernelClient;
    try {
      kernel = await startGradingKernel(sandbox, scratch.dir, { startupTimeoutMs: Math.min(120_000, notebookTimeoutMs), outputLimits: outputLimitsOf(spec), modelFolder: spec.modelDir, python });
    } catch (error) {
      return { problem: `le noyau ${python ? 'Python' : 'TypeScript'} n’a pas démarré : ${(error as Error).message.split('\n')[0]}` };
    }
    try {
      const run = await executeNotebook(state.submitted!, {
        kernel,
        cellTimeoutMs: spec.timeouts.cellSeconds * 1000,
        notebookTimeoutMs: Math.max(1000, notebookTimeoutMs - (Date.now() - started)),
        outputLimits: outputLimitsOf(spec),
        outputPath: ctx.outputDir ? join(ctx.outputDir, state.file.replace(/\.ipynb$/, '.executed.ipynb')) : undefined,
        onCellStart: (_cell, position, total) => ctx.onProgress?.(`${state.file} : cellule ${position}/${total}`),
      });
      return { run };
    } finally {
      await kernel.shutdown({ graceMs: 1000 });
      await sandbox.killAll();
    }
  });
  state.peakMemoryMb = Math.round(limited.peaks.memoryMb);
  if ('run' in limited.value) state.run = limited.value.run;
  else state.runProblem = limited.value.problem;
  const breach = limited.breach ?? breachFromRun(state.run, sandbox.limits);
  if (breach) state.runProblem = breach.message;
}

/** A limit the kernel itself enforced, read from how the run ended: a file past RLIMIT_FSIZE, no file descriptor left. */
function breachFromRun(run: ExecutionResult | undefined, limits: SubmissionLimits): LimitBreach | undefined {
  const failed = run?.cells.find((c) => c.failed);
  if (!failed) return undefined;
  if (failed.exit?.signal === 'SIGXFSZ') return { limit: 'disk', message: breachMessage('disk', limits) };
  const error = `${failed.error?.ename ?? ''} ${failed.error?.evalue ?? ''}`;
  if (/\bEMFILE\b/.test(error)) return { limit: 'open-files', message: breachMessage('open-files', limits) };
  if (/\bEFBIG\b/.test(error)) return { limit: 'disk', message: breachMessage('disk', limits) };
  if (/\bEAGAIN\b/.test(error) && /spawn|fork/i.test(error)) return { limit: 'processes', message: breachMessage('processes', limits) };
  return undefined;
}

/** The tag of cells the course marks optional (the 4-conv network): a failure there costs no points. */
export const OPTIONAL_TAG = 'optionnel';

function isOptional(notebook: Notebook, index: number): boolean {
  const cell = notebook.cells[index];
  return cell !== undefined && cellTags(cell).includes(OPTIONAL_TAG);
}

function storedProblems(notebook: Notebook): string | undefined {
  for (const [index, cell] of notebook.cells.entries()) {
    if (cell.cell_type !== 'code' || !cell.source.trim() || isOptional(notebook, index)) continue;
    const error = cell.outputs.find((o) => o.output_type === 'error');
    if (error && error.output_type === 'error') return `cellule ${index + 1} : ${error.ename}: ${error.evalue}`;
    if (cell.execution_count === null) return `cellule ${index + 1} : jamais exécutée (le notebook rendu n’a pas été exécuté en entier)`;
  }
  return undefined;
}

/** Records the run check of one notebook from its run (or its stored outputs with --no-execute). */
export function judgeRun(ctx: GradingContext, key: NotebookKey): void {
  const state = ctx.notebooks[key];
  const id = CHECK_OF[key];
  if (!state?.submitted) {
    recordCheck(ctx, id, 0, `${state?.file ?? key} n’a pas pu être lu : rien à exécuter.`);
    return;
  }
  if (!ctx.execute) {
    const problem = storedProblems(state.submitted);
    recordCheck(ctx, id, problem ? 0 : 1, problem ? `${state.file}, ${problem}.${pendingNote(state.submitted)}` : `${state.file} : toutes les cellules ont été exécutées, sans erreur (sorties enregistrées).`);
    return;
  }
  if (state.runProblem || !state.run) {
    recordCheck(ctx, id, 0, `${state.file} : ${state.runProblem ?? 'non exécuté'}`);
    return;
  }
  const optional = (cell: CellResult) => isOptional(state.run!.notebook, cell.index);
  const firstFailure = state.run.cells.find((c) => c.failed);
  // A failure in the optional part counts only if it kept a required cell from running.
  const requiredLeftOut = state.run.cells.some((c) => c.status === 'skipped' && c.skipReason !== 'tag' && c.skipReason !== 'empty' && !optional(c));
  if (firstFailure && (!optional(firstFailure) || requiredLeftOut)) {
    const skipped = state.run.cells.filter((c) => c.status === 'skipped' && c.skipReason !== 'tag' && c.skipReason !== 'empty').length;
    recordCheck(ctx, id, 0, `${state.file}, ${cellFailure(firstFailure, ctx.spec.timeouts.cellSeconds)}${skipped ? ` (${skipped} cellule${skipped > 1 ? 's' : ''} suivante${skipped > 1 ? 's' : ''} non exécutée${skipped > 1 ? 's' : ''})` : ''}.${pendingNote(state.submitted)}`);
    return;
  }
  const ran = state.run.cells.filter((c) => c.status === 'ok').length;
  const optionalPart = firstFailure ? ` Partie optionnelle non faite (sans effet sur la note) : ${cellFailure(firstFailure, ctx.spec.timeouts.cellSeconds)}.` : '';
  recordCheck(ctx, id, 1, `${state.file} : ${ran} cellules exécutées sans erreur en ${(state.run.durationMs / 1000).toFixed(1)} s.${optionalPart}`);
}

/** The step: executes (or inspects) classification then test_model. */
export async function executeNotebooks(ctx: GradingContext): Promise<void> {
  for (const key of ['classification', 'testModel'] as NotebookKey[]) {
    if (ctx.execute) await runNotebook(ctx, key);
    judgeRun(ctx, key);
  }
}

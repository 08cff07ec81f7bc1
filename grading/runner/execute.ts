/** Running a whole notebook on a kernel, cell by cell, with nbclient's semantics and per-cell statuses. */
import { dirname, resolve } from 'node:path';
import { KernelClient, type ExecuteOutcome, type KernelOptions } from './kernel';
import { cellTags, cloneNotebook, readNotebook, writeNotebook, type CodeCell, type ErrorOutput, type Notebook, type Output } from './nbformat';
import { OutputBudget, type ErrorSummary, type OutputTruncation } from './outputs';
import { describeExit, type ExitInfo } from './process';

/** What happened to one code cell. */
export type CellStatus = 'ok' | 'error' | 'timeout' | 'kernel-died' | 'skipped';

/** Why a code cell was not run. */
export type SkipReason = 'tag' | 'empty' | 'after-error' | 'kernel-dead' | 'notebook-timeout';

/** The result of one code cell. */
export interface CellResult {
  /** Position in `notebook.cells` (markdown cells count). */
  index: number;
  id: string;
  status: CellStatus;
  skipReason?: SkipReason;
  executionCount: number | null;
  durationMs: number;
  /** The cell is tagged `raises-exception`. */
  expectsError: boolean;
  /** Counts against the notebook (an unexpected error, a timeout, a dead kernel, a missing expected error). */
  failed: boolean;
  error?: ErrorSummary;
  /** One human sentence when something went wrong. */
  message?: string;
  /** Something that did not fail the cell but makes its outputs doubtful. */
  warning?: string;
  exit?: ExitInfo;
  /** The cell's output reached a cap (ExecuteNotebookOptions.outputLimits): the rest was dropped, and a French note says so in the cell. */
  truncated?: OutputTruncation;
}

/** Output dropped over a whole notebook. */
export interface TruncationSummary {
  /** Cells whose output was truncated. */
  cells: number;
  /** Bytes dropped over these cells (a lower bound when `lowerBound`). */
  droppedBytes: number;
  /** Output messages dropped, whole or in part. */
  droppedMessages: number;
  /** Messages ZeroMQ refused for exceeding the socket cap. */
  refusedMessages: number;
  /** Some cell's dropped counts are lower bounds (OutputTruncation.lowerBound). */
  lowerBound: boolean;
  /** The notebook cap was reached: every later output of the notebook was dropped. */
  notebookCapReached: boolean;
}

/** Why execution stopped before the last cell. */
export interface StopInfo {
  reason: 'error' | 'timeout' | 'kernel-died' | 'notebook-timeout';
  cellIndex: number;
}

/** The result of executing a notebook. */
export interface ExecutionResult {
  /** The executed copy (the input object or file is never modified). */
  notebook: Notebook;
  /** One entry per code cell, in notebook order. */
  cells: CellResult[];
  /** No cell failed. */
  ok: boolean;
  stopped?: StopInfo;
  kernelInfo: Record<string, any>;
  /** Kernel start time (0 when an existing kernel was given). */
  startupMs: number;
  durationMs: number;
  /** The notebook file read, when a path was given. */
  source?: string;
  /** Where the executed notebook was written, if it was. */
  outputPath?: string;
  /** Bytes of output the notebook keeps (what the caps count). */
  outputBytes: number;
  /** Present when some cell's output was truncated. */
  truncated?: TruncationSummary;
}

/** Cell tags that keep a cell from running. */
export const SKIP_TAGS = ['skip-execution', 'nbval-skip'];

/** Options for executeNotebook; kernel options apply when the runner starts its own kernel, except `outputLimits`, which always applies (default: the given kernel's, else the DEFAULT_* caps). */
export interface ExecuteNotebookOptions extends KernelOptions {
  /** Use this running kernel instead of starting one (it is left running). */
  kernel?: KernelClient;
  /** Per-cell time limit in ms (none by default, like `jupyter execute`). */
  cellTimeoutMs?: number;
  /** Whole-notebook time limit in ms, kernel start included. */
  notebookTimeoutMs?: number;
  /** After an interrupt, how long to wait before killing the kernel. Default 3 s. */
  interruptGraceMs?: number;
  /** Stop at the first failing cell (default true, like nbclient). */
  stopOnError?: boolean;
  /** Errors are recorded but neither stop the run nor count as failures (nbclient's allow_errors). */
  allowErrors?: boolean;
  /** A `raises-exception` cell that raises nothing is a failure (regression mode). */
  requireExpectedErrors?: boolean;
  /** Tags that skip a cell. Default SKIP_TAGS. */
  skipTags?: string[];
  /** Record nbclient's `metadata.execution` timestamps (default true). */
  recordTiming?: boolean;
  /** kernelspec display_name to write (default: the notebook's own for tslab, else "TypeScript"). */
  kernelDisplayName?: string;
  /** See ExecuteOptions.heartbeatTimeoutMs. */
  heartbeatTimeoutMs?: number;
  /** Write the executed notebook here (atomically). */
  outputPath?: string;
  /** Called before a code cell runs; `position` counts code cells from 1. */
  onCellStart?: (cell: CodeCell, position: number, total: number) => void;
  /** Called when a code cell is done (run or skipped). */
  onCellDone?: (result: CellResult, position: number, total: number) => void;
  /** Called for every output of a cell as it arrives (e.g. to echo a long training's progress). */
  onOutput?: (output: Output, cell: CodeCell) => void;
}

function errorOutput(ename: string, evalue: string): ErrorOutput {
  return { output_type: 'error', ename, evalue, traceback: [`${ename}: ${evalue}`] };
}

function setKernelMetadata(nb: Notebook, kernelInfo: Record<string, any>, displayName?: string): void {
  const previous = nb.metadata.kernelspec;
  const display = displayName ?? (previous?.name === 'tslab' && typeof previous.display_name === 'string' ? previous.display_name : 'TypeScript');
  nb.metadata.kernelspec = { name: 'tslab', display_name: display, language: kernelInfo.language_info?.name ?? 'typescript' };
  if (kernelInfo.language_info) nb.metadata.language_info = kernelInfo.language_info;
}

/** Executes a notebook (a path or an in-memory Notebook) and returns the executed copy with per-cell results. */
export async function executeNotebook(input: string | Notebook, options: ExecuteNotebookOptions = {}): Promise<ExecutionResult> {
  const started = Date.now();
  const source = typeof input === 'string' ? resolve(input) : undefined;
  const notebook = typeof input === 'string' ? readNotebook(source!) : cloneNotebook(input);
  const deadline = options.notebookTimeoutMs ? started + options.notebookTimeoutMs : undefined;
  // Checked before any kernel starts: invalid limits throw a RangeError.
  const budget = new OutputBudget(options.outputLimits ?? options.kernel?.outputLimits);
  const ownsKernel = !options.kernel;
  const kernel = options.kernel ?? (await KernelClient.start({ ...options, cwd: options.cwd ?? (source ? dirname(source) : process.cwd()), startupTimeoutMs: Math.min(options.startupTimeoutMs ?? 60_000, deadline ? Math.max(1, deadline - Date.now()) : Infinity) }));
  const startupMs = ownsKernel ? kernel.startupMs : 0;
  const skipTags = options.skipTags ?? SKIP_TAGS;
  const stopOnError = options.stopOnError ?? true;
  const recordTiming = options.recordTiming ?? true;
  const codeCells = notebook.cells.map((cell, index) => ({ cell, index })).filter((c): c is { cell: CodeCell; index: number } => c.cell.cell_type === 'code');
  const results: CellResult[] = [];
  let stopped: StopInfo | undefined;
  let skipReason: SkipReason | undefined;

  try {
    setKernelMetadata(notebook, kernel.kernelInfo, options.kernelDisplayName);
    for (const [position, { cell, index }] of codeCells.entries()) {
      const base = { index, id: cell.id, expectsError: cellTags(cell).includes('raises-exception'), executionCount: cell.execution_count, durationMs: 0 };
      const reason: SkipReason | undefined = skipReason ?? (cellTags(cell).some((t) => skipTags.includes(t)) ? 'tag' : !cell.source.trim() ? 'empty' : undefined);
      if (reason) {
        const result: CellResult = { ...base, status: 'skipped', skipReason: reason, failed: false };
        results.push(result);
        options.onCellDone?.(result, position + 1, codeCells.length);
        continue;
      }
      const remaining = deadline ? deadline - Date.now() : undefined;
      if (remaining !== undefined && remaining <= 0) {
        stopped ??= { reason: 'notebook-timeout', cellIndex: index };
        skipReason = 'notebook-timeout';
        const result: CellResult = { ...base, status: 'skipped', skipReason, failed: false };
        results.push(result);
        options.onCellDone?.(result, position + 1, codeCells.length);
        continue;
      }
      options.onCellStart?.(cell, position + 1, codeCells.length);
      const limit = [options.cellTimeoutMs, remaining].filter((v): v is number => v !== undefined && v > 0);
      const timeoutMs = limit.length ? Math.min(...limit) : undefined;
      const byNotebookLimit = remaining !== undefined && (options.cellTimeoutMs === undefined || remaining < options.cellTimeoutMs);

      // Like nbclient: fresh outputs and timing for a cell that runs; skipped cells keep what they had.
      cell.outputs = [];
      if (recordTiming) cell.metadata.execution = {};
      const outcome = await kernel.execute(cell.source, { timeoutMs, interruptGraceMs: options.interruptGraceMs, outputs: cell.outputs, outputBudget: budget, onOutput: options.onOutput ? (output) => options.onOutput!(output, cell) : undefined, stopOnError: !(options.allowErrors || base.expectsError), heartbeatTimeoutMs: options.heartbeatTimeoutMs });
      cell.execution_count = outcome.executionCount;
      if (recordTiming) cell.metadata.execution = timingMetadata(outcome);
      const result = cellResult(base, outcome, { ...options, timeoutMs: timeoutMs ?? 0, byNotebookLimit });
      if (result.status === 'timeout' || result.status === 'kernel-died') cell.outputs.push(errorOutput(result.status === 'timeout' ? 'CellTimeoutError' : 'DeadKernelError', result.message ?? result.status));
      results.push(result);
      options.onCellDone?.(result, position + 1, codeCells.length);

      if (!kernel.isAlive()) {
        stopped ??= { reason: result.status === 'timeout' ? (byNotebookLimit ? 'notebook-timeout' : 'timeout') : 'kernel-died', cellIndex: index };
        skipReason = byNotebookLimit && result.status === 'timeout' ? 'notebook-timeout' : 'kernel-dead';
      } else if (result.status === 'timeout' && byNotebookLimit) {
        stopped ??= { reason: 'notebook-timeout', cellIndex: index };
        skipReason = 'notebook-timeout';
      } else if (result.failed && stopOnError) {
        stopped ??= { reason: result.status === 'timeout' ? 'timeout' : 'error', cellIndex: index };
        skipReason = 'after-error';
      }
    }
  } finally {
    if (ownsKernel) await kernel.shutdown();
  }

  const outputPath = options.outputPath ? resolve(options.outputPath) : undefined;
  if (outputPath) writeNotebook(outputPath, notebook);
  const truncated = truncationSummary(results, budget);
  return { notebook, cells: results, ok: results.every((r) => !r.failed), stopped, kernelInfo: kernel.kernelInfo, startupMs, durationMs: Date.now() - started, source, outputPath, outputBytes: budget.keptBytes, ...(truncated ? { truncated } : {}) };
}

function truncationSummary(results: CellResult[], budget: OutputBudget): TruncationSummary | undefined {
  const cut = results.map((r) => r.truncated).filter((t): t is OutputTruncation => t !== undefined);
  if (!cut.length) return undefined;
  const sum = (key: 'droppedBytes' | 'droppedMessages' | 'refusedMessages') => cut.reduce((total, t) => total + t[key], 0);
  return { cells: cut.length, droppedBytes: sum('droppedBytes'), droppedMessages: sum('droppedMessages'), refusedMessages: sum('refusedMessages'), lowerBound: cut.some((t) => t.lowerBound), notebookCapReached: budget.full };
}

function timingMetadata(outcome: ExecuteOutcome): Record<string, string> {
  const t = outcome.timing;
  const out: Record<string, string> = {};
  if (t.executeInput) out['iopub.execute_input'] = t.executeInput;
  if (t.busy) out['iopub.status.busy'] = t.busy;
  if (t.idle) out['iopub.status.idle'] = t.idle;
  if (t.reply) out['shell.execute_reply'] = t.reply;
  return out;
}

function cellResult(
  base: Pick<CellResult, 'index' | 'id' | 'expectsError'>,
  outcome: ExecuteOutcome,
  options: ExecuteNotebookOptions & { timeoutMs: number; byNotebookLimit: boolean },
): CellResult {
  const common = {
    ...base,
    executionCount: outcome.executionCount,
    durationMs: outcome.durationMs,
    error: outcome.error,
    exit: outcome.exit,
    // A truncated cell flooded IOPub: a lost idle status is no news there, its output is cut anyway.
    warning: outcome.iopubLost && !outcome.truncated ? "the kernel's idle status never arrived: some outputs of this cell may be missing (is tslab-preload.cjs in the kernel command?)" : undefined,
    ...(outcome.truncated ? { truncated: outcome.truncated } : {}),
  };
  switch (outcome.status) {
    case 'ok':
      if (base.expectsError && options.requireExpectedErrors) return { ...common, status: 'ok', failed: true, message: 'tagged raises-exception but raised no error' };
      return { ...common, status: 'ok', failed: false };
    case 'error':
    case 'aborted': {
      const what = outcome.error ? `${outcome.error.ename}: ${outcome.error.evalue}` : outcome.status === 'aborted' ? 'the kernel aborted the request' : 'the cell raised an error';
      return { ...common, status: 'error', failed: !(base.expectsError || options.allowErrors), message: what };
    }
    case 'timeout': {
      const limit = options.byNotebookLimit ? 'the notebook time limit was reached' : `the cell ran longer than ${(options.timeoutMs / 1000).toFixed(1)} s`;
      const after = outcome.killed ? 'the kernel did not respond to the interrupt and was killed' : outcome.exit ? `the kernel stopped after the interrupt (${describeExit(outcome.exit)})` : 'it was interrupted';
      return { ...common, status: 'timeout', failed: true, message: `${limit}; ${after}` };
    }
    case 'kernel-died': {
      const how = outcome.exit ? describeExit(outcome.exit) : (outcome.deathCause ?? 'unknown cause');
      const cause = outcome.deathCause === 'heartbeat' ? 'the kernel stopped answering heartbeats and was killed' : `the kernel died while running this cell (${how})`;
      return { ...common, status: 'kernel-died', failed: true, message: cause };
    }
  }
}

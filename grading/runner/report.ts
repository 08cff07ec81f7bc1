/** Reports of a run or a regression check: a JSON-ready object and its human-readable text. */
import type { CellResult, ExecutionResult, TruncationSummary } from './execute';
import type { OutputTruncation } from './outputs';
import type { RegressionResult } from './regression';

/** One code cell in a report. */
export interface CellReportEntry {
  /** Position in the notebook's cells (markdown cells count). */
  index: number;
  id: string;
  /** Execution status (ok, error, timeout, kernel-died, skipped) or, in check mode, pass/fail/ignored/skipped/not-run. */
  status: string;
  execution: CellResult['status'];
  skipReason?: string;
  executionCount: number | null;
  seconds: number;
  failed: boolean;
  message?: string;
  warning?: string;
  /** The cell's output reached a cap; the rest was dropped. */
  truncated?: OutputTruncation;
  diffs?: string[];
}

/** A whole-notebook report, as written by `--report`. */
export interface NotebookReport {
  tool: 'nbval-ts-runner';
  mode: 'execute' | 'check';
  notebook?: string;
  output?: string;
  ok: boolean;
  summary: Record<string, number>;
  stopped?: ExecutionResult['stopped'];
  kernel: { implementation?: string; language?: string; startupSeconds: number };
  seconds: number;
  /** Bytes of output the executed notebook keeps. */
  outputBytes: number;
  /** Present when some cell's output was truncated. */
  truncated?: TruncationSummary;
  cells: CellReportEntry[];
}

const seconds = (ms: number) => Math.round(ms) / 1000;

function count(statuses: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

function entry(r: CellResult): CellReportEntry {
  return { index: r.index, id: r.id, status: r.status, execution: r.status, skipReason: r.skipReason, executionCount: r.executionCount, seconds: seconds(r.durationMs), failed: r.failed, message: r.message, warning: r.warning, ...(r.truncated ? { truncated: r.truncated } : {}) };
}

/** `n` bytes for people: bytes, kB or MB (10^3 and 10^6). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} byte${n === 1 ? '' : 's'}`;
  return n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}

const CAP_NAMES: Record<OutputTruncation['reason'], string> = { 'cell-lines': "the cell's line cap", 'cell-bytes': "the cell's byte cap", 'notebook-bytes': "the notebook's byte cap" };

/** One line on a truncated cell, e.g. `output truncated at the cell's line cap: kept 10000 lines (111.9 kB), dropped 2.1 MB in 190000 messages`. */
export function describeTruncation(t: OutputTruncation): string {
  const refused = t.refusedMessages ? `, ${t.refusedMessages} of them refused by ZeroMQ as too large` : '';
  return `output truncated at ${CAP_NAMES[t.reason]}: kept ${t.lines} lines (${formatBytes(t.bytes)}), dropped ${t.lowerBound ? 'at least ' : ''}${formatBytes(t.droppedBytes)} in ${t.droppedMessages} message${t.droppedMessages === 1 ? '' : 's'}${refused}`;
}

function kernelPart(result: ExecutionResult): NotebookReport['kernel'] {
  return { implementation: result.kernelInfo.implementation, language: result.kernelInfo.language_info?.name, startupSeconds: seconds(result.startupMs) };
}

/** The report of an execution. */
export function executionReport(result: ExecutionResult): NotebookReport {
  const cells = result.cells.map(entry);
  return { tool: 'nbval-ts-runner', mode: 'execute', notebook: result.source, output: result.outputPath, ok: result.ok, summary: count(cells.map((c) => c.status)), stopped: result.stopped, kernel: kernelPart(result), seconds: seconds(result.durationMs), ...outputPart(result), cells };
}

/** The report of a regression check. */
export function regressionReport(result: RegressionResult): NotebookReport {
  const cells = result.cells.map((c) => ({ ...entry(c.execution), status: c.status, failed: c.status === 'fail', diffs: c.diffs }));
  const execution = result.execution;
  return { tool: 'nbval-ts-runner', mode: 'check', notebook: result.source, output: execution.outputPath, ok: result.ok, summary: count(cells.map((c) => c.status)), stopped: execution.stopped, kernel: kernelPart(execution), seconds: seconds(execution.durationMs), ...outputPart(execution), cells };
}

function outputPart(result: ExecutionResult): Pick<NotebookReport, 'outputBytes' | 'truncated'> {
  return { outputBytes: result.outputBytes, ...(result.truncated ? { truncated: result.truncated } : {}) };
}

/** The progress line printed for each code cell, e.g. `cell 3/20 [a1b2c3d4] ok 0.02s`. */
export function progressLine(result: CellResult, position: number, total: number): string {
  const what = result.status === 'skipped' ? `skipped (${result.skipReason})` : result.status;
  const expected = result.status === 'error' && !result.failed ? ' (allowed)' : '';
  const why = result.message && result.failed ? ` — ${result.message}` : result.warning ? ` — warning: ${result.warning}` : '';
  const cut = result.truncated ? ` — ${describeTruncation(result.truncated)}` : '';
  return `cell ${position}/${total} [${result.id}] ${what}${expected} ${seconds(result.durationMs).toFixed(2)}s${why}${cut}`;
}

/** The report as text for people: one line per code cell, differences indented, then a summary. */
export function formatReport(report: NotebookReport): string {
  const lines: string[] = [];
  lines.push(`${report.mode === 'check' ? 'Regression check' : 'Execution'} of ${report.notebook ?? '(in-memory notebook)'}`);
  for (const cell of report.cells) {
    const extra = cell.skipReason ? ` (${cell.skipReason})` : cell.executionCount !== null ? ` [${cell.executionCount}]` : '';
    lines.push(`  cell ${String(cell.index).padStart(3)} ${cell.id.padEnd(10)} ${cell.status.toUpperCase().padEnd(11)}${extra} ${cell.seconds.toFixed(2)}s`);
    if (cell.message && (cell.failed || cell.execution !== 'ok')) lines.push(`      ${cell.message}`);
    if (cell.warning) lines.push(`      warning: ${cell.warning}`);
    if (cell.truncated) lines.push(`      ${describeTruncation(cell.truncated)}`);
    for (const diff of cell.diffs ?? []) if (!diff.startsWith('execution:')) lines.push(`      ${diff}`);
  }
  const summary = Object.entries(report.summary)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  lines.push(`${report.ok ? 'OK' : 'FAILED'}: ${summary || 'no code cells'} in ${report.seconds.toFixed(1)}s (kernel start ${report.kernel.startupSeconds.toFixed(1)}s)`);
  if (report.stopped) lines.push(`Stopped at cell ${report.stopped.cellIndex}: ${report.stopped.reason}; later cells were not run.`);
  const cut = report.truncated;
  if (cut) {
    const dropped = `${cut.lowerBound ? 'at least ' : ''}${formatBytes(cut.droppedBytes)} in ${cut.droppedMessages} message${cut.droppedMessages === 1 ? '' : 's'}`;
    lines.push(`Output truncated in ${cut.cells} cell${cut.cells === 1 ? '' : 's'} (${dropped} dropped${cut.notebookCapReached ? "; the notebook's byte cap was reached" : ''}); the notebook keeps ${formatBytes(report.outputBytes)} of output.`);
  }
  if (report.output) lines.push(`Executed notebook written to ${report.output}`);
  return lines.join('\n');
}

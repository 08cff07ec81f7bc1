/** Regression checking in nbval's spirit: run a notebook and compare fresh outputs with the stored ones, cell by cell. */
import { dirname, resolve } from 'node:path';
import { executeNotebook, type CellResult, type ExecuteNotebookOptions, type ExecutionResult } from './execute';
import { cellTags, readNotebook, type CodeCell, type Notebook, type Output } from './nbformat';
import { sanitizeLines, type SanitizeOptions } from './sanitize';

/** How outputs are compared. */
export interface CompareOptions extends SanitizeOptions {
  /** Relative tolerance for numbers in text (default 1e-5, like numpy.isclose). */
  rtol?: number;
  /** Absolute tolerance for numbers in text (default 1e-8). */
  atol?: number;
  /** Compare stderr too (default true; never for cells tagged raises-exception, whose stack traces vary). */
  compareStderr?: boolean;
}

/** Options for checkNotebook: execution options plus comparison options. */
export interface CheckOptions extends ExecuteNotebookOptions, CompareOptions {
  /** nbval's --nbval-lax: only compare cells tagged `nbval-check-output`. */
  lax?: boolean;
}

/** The verdict on one code cell. */
export type CheckStatus = 'pass' | 'fail' | 'ignored' | 'skipped' | 'not-run';

/** The regression result of one code cell. */
export interface CellCheck {
  index: number;
  id: string;
  status: CheckStatus;
  /** Why: the execution problem and/or the output differences, one line each. */
  diffs: string[];
  execution: CellResult;
}

/** The regression result of a notebook. */
export interface RegressionResult {
  ok: boolean;
  cells: CellCheck[];
  execution: ExecutionResult;
  source?: string;
  rtol: number;
  atol: number;
}

const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?Infinity|NaN/g;

function splitNumbers(line: string): { text: string[]; numbers: string[] } {
  return { text: line.split(NUMBER), numbers: line.match(NUMBER) ?? [] };
}

function close(expected: number, actual: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return Number.isNaN(expected) && Number.isNaN(actual);
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return expected === actual;
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}

function quote(s: string, max = 80): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

/** Compares one line, numbers within tolerance; returns why they differ, or undefined when they match. */
export function compareLine(expected: string, actual: string, rtol: number, atol: number): string | undefined {
  if (expected === actual) return undefined;
  const e = splitNumbers(expected);
  const a = splitNumbers(actual);
  if (e.numbers.length !== a.numbers.length || e.text.some((t, i) => t !== a.text[i])) return `expected ${quote(expected)}, got ${quote(actual)}`;
  for (let i = 0; i < e.numbers.length; i++) {
    if (!close(Number(e.numbers[i]), Number(a.numbers[i]), rtol, atol)) return `${e.numbers[i]} became ${a.numbers[i]} (beyond rtol=${rtol}, atol=${atol}) in ${quote(actual)}`;
  }
  return undefined;
}

/** Compares two texts line by line after sanitizing; returns difference lines prefixed by `label`. */
export function compareText(label: string, expected: string, actual: string, options: CompareOptions = {}): string[] {
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-8;
  const e = sanitizeLines(expected, options);
  const a = sanitizeLines(actual, options);
  const diffs: string[] = [];
  for (let i = 0; i < Math.min(e.length, a.length) && diffs.length < 3; i++) {
    const why = compareLine(e[i], a[i], rtol, atol);
    if (why) diffs.push(`${label} line ${i + 1}: ${why}`);
  }
  if (e.length !== a.length) {
    const extra = e.length > a.length ? `missing ${quote(e[a.length])}` : `extra ${quote(a[e.length])}`;
    diffs.push(`${label}: expected ${e.length} line(s), got ${a.length} (first ${extra})`);
  }
  return diffs;
}

type Rich = Extract<Output, { data: unknown }>;

function richOutputs(outputs: Output[]): Array<Rich | Extract<Output, { output_type: 'error' }>> {
  return outputs.filter((o): o is Rich | Extract<Output, { output_type: 'error' }> => o.output_type !== 'stream');
}

function streamText(outputs: Output[], name: 'stdout' | 'stderr'): string {
  return outputs
    .filter((o) => o.output_type === 'stream' && o.name === name)
    .map((o) => (o as { text: string }).text)
    .join('');
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 1);
}

/**
 * Compares stored and fresh outputs of a cell. Streams are compared per name (stdout, stderr),
 * other outputs in order; images only by MIME type; metadata and execution counts never.
 */
export function compareOutputs(expected: Output[], actual: Output[], options: CompareOptions = {}): string[] {
  const diffs: string[] = [];
  for (const name of options.compareStderr === false ? (['stdout'] as const) : (['stdout', 'stderr'] as const)) {
    diffs.push(...compareText(name, streamText(expected, name), streamText(actual, name), options));
  }
  const e = richOutputs(expected);
  const a = richOutputs(actual);
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    const label = `output ${i + 1}`;
    const x = e[i];
    const y = a[i];
    if (!x || !y) {
      diffs.push(`${label}: ${x ? `missing ${x.output_type}` : `unexpected ${y!.output_type}`}`);
      continue;
    }
    const kind = (o: Output) => (o.output_type === 'error' ? 'error' : 'rich');
    if (kind(x) !== kind(y)) {
      diffs.push(`${label}: expected ${x.output_type}, got ${y.output_type}`);
      continue;
    }
    if (x.output_type === 'error' && y.output_type === 'error') {
      if (x.ename !== y.ename) diffs.push(`${label}: expected error ${x.ename}, got ${y.ename}`);
      else diffs.push(...compareText(`${label} (${x.ename})`, x.evalue, y.evalue, options));
      continue;
    }
    const xd = (x as Rich).data;
    const yd = (y as Rich).data;
    const xm = Object.keys(xd).sort();
    const ym = Object.keys(yd).sort();
    if (xm.join() !== ym.join()) {
      diffs.push(`${label}: MIME types differ: expected [${xm.join(', ')}], got [${ym.join(', ')}]`);
      continue;
    }
    for (const mime of xm) {
      if (mime.startsWith('image/') || mime === 'application/pdf') continue;
      diffs.push(...compareText(`${label} ${mime}`, asText(xd[mime]), asText(yd[mime]), options));
    }
  }
  return diffs;
}

/** Runs a notebook and compares each code cell's fresh outputs with the outputs stored in it. */
export async function checkNotebook(input: string | Notebook, options: CheckOptions = {}): Promise<RegressionResult> {
  const source = typeof input === 'string' ? resolve(input) : undefined;
  const stored = typeof input === 'string' ? readNotebook(source!) : input;
  const execution = await executeNotebook(stored, {
    ...options,
    // nbval reports every cell, so a failing cell does not stop the others by default.
    stopOnError: options.stopOnError ?? false,
    requireExpectedErrors: options.requireExpectedErrors ?? true,
    cwd: options.cwd ?? (source ? dirname(source) : undefined),
  });
  execution.source = source;
  const cells = execution.cells.map((result): CellCheck => {
    const before = stored.cells[result.index] as CodeCell;
    const after = execution.notebook.cells[result.index] as CodeCell;
    const tags = cellTags(before);
    const base = { index: result.index, id: result.id, execution: result };
    if (result.status === 'skipped') {
      return { ...base, status: result.skipReason === 'tag' || result.skipReason === 'empty' ? 'skipped' : 'not-run', diffs: result.skipReason === 'tag' || result.skipReason === 'empty' ? [] : [`not run: ${result.skipReason}`] };
    }
    const problems = result.failed ? [`execution: ${result.status}${result.message ? ` (${result.message})` : ''}`] : [];
    const notCompared = tags.includes('nbval-ignore-output') || (options.lax && !tags.includes('nbval-check-output'));
    if (notCompared) return { ...base, status: problems.length ? 'fail' : 'ignored', diffs: problems };
    const diffs = compareOutputs(before.outputs, after.outputs, { ...options, compareStderr: result.expectsError ? false : options.compareStderr });
    const all = [...problems, ...diffs];
    return { ...base, status: all.length ? 'fail' : 'pass', diffs: all };
  });
  return { ok: cells.every((c) => c.status !== 'fail'), cells, execution, source, rtol: options.rtol ?? 1e-5, atol: options.atol ?? 1e-8 };
}

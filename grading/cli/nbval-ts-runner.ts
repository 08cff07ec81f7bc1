/**
 * nbval-ts-runner: execute a notebook on the tslab kernel, or check it for regressions against its
 * stored outputs. Run with `npx tsx grading/cli/nbval-ts-runner.ts --help`.
 */
import { invocationDir } from '../../lib/paths';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkNotebook,
  DEFAULT_CELL_BYTES,
  DEFAULT_CELL_LINES,
  DEFAULT_NOTEBOOK_BYTES,
  executeNotebook,
  executionReport,
  formatReport,
  loadSanitizeFile,
  progressLine,
  readNotebook,
  regressionReport,
  writeFileAtomic,
  type CellResult,
  type CheckOptions,
  type NotebookReport,
  type OutputLimits,
} from '../runner';
import { chooseKernel } from './kernel-choice';

const USAGE = `Usage:
  nbval-ts-runner execute <in.ipynb> [options]   run every code cell on a fresh tslab kernel
  nbval-ts-runner check <in.ipynb> [options]     run it and compare outputs with the stored ones

Options (both commands):
  --output FILE            write the executed notebook here (never written otherwise; the input is
                           only overwritten if FILE is the input itself)
  --timeout S              per-cell limit in seconds (interrupt, then kill the kernel)
  --notebook-timeout S     whole-notebook limit in seconds
  --startup-timeout S      kernel start limit in seconds (default 60)
  --kernel NAME            project: this project's kernel (tslab from the project root, as JupyterLab
                           starts it); plain: a plain tslab; else a kernelspec name from Jupyter's
                           kernel folders. Default: project for a notebook inside the project, else
                           the kernelspec named in the notebook's metadata when installed (not the
                           generic "tslab"), else plain
  --cwd DIR                working directory of a plain or named kernel (default: the notebook's
                           folder; the project's kernel always works from the project root)
  --report FILE            write a JSON report (per cell: index, id, status, diffs)
  --max-cell-lines N       lines of text kept per cell (default ${DEFAULT_CELL_LINES}); the rest of
                           the cell's output is dropped, with a note in the cell
  --max-cell-output-mb N   MB of output (text and data) kept per cell (default ${DEFAULT_CELL_BYTES / 1e6})
  --max-notebook-output-mb N
                           MB of output kept for the whole notebook (default ${DEFAULT_NOTEBOOK_BYTES / 1e6})
  --allow-errors           errors neither stop the run nor count as failures
  --no-stop-on-error       keep running after a failing cell (default for check)
  --quiet                  no per-cell progress on stderr
  -h, --help               this text

check only:
  --sanitize-with FILE     regex replacements, JSON ({"pattern": "replacement"}) or nbval INI
                           ([name] / regex: ... / replace: ...)
  --rtol X, --atol Y       tolerance for numbers in text (default 1e-5, 1e-8)
  --no-default-ignores     also compare timing, progress-bar and stack-frame lines
  --lax                    only compare cells tagged nbval-check-output

Cell tags: skip-execution / nbval-skip (not run), raises-exception (error expected),
nbval-ignore-output (run, not compared).
Exit codes: 0 every cell ok, 1 some cell failed, 2 the tool could not run (bad arguments, unreadable
notebook, kernel did not start).`;

class UsageError extends Error {}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number of seconds, got ${JSON.stringify(value)}`);
  return Math.round(n * 1000);
}

function positive(value: string | undefined, flag: string, what: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${flag} needs a positive ${what}, got ${JSON.stringify(value)}`);
  return n;
}

function outputLimits(values: Record<string, string | boolean | undefined>): OutputLimits | undefined {
  const cellLines = positive(values['max-cell-lines'] as string | undefined, '--max-cell-lines', 'whole number of lines', true);
  const cellMb = positive(values['max-cell-output-mb'] as string | undefined, '--max-cell-output-mb', 'number of MB');
  const notebookMb = positive(values['max-notebook-output-mb'] as string | undefined, '--max-notebook-output-mb', 'number of MB');
  if (cellLines === undefined && cellMb === undefined && notebookMb === undefined) return undefined;
  return { cellLines, cellBytes: cellMb === undefined ? undefined : Math.round(cellMb * 1e6), notebookBytes: notebookMb === undefined ? undefined : Math.round(notebookMb * 1e6) };
}

function tolerance(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} needs a non-negative number, got ${JSON.stringify(value)}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  // Paths typed by the user are relative to where they typed the command, not to the project root npm run starts in.
  process.chdir(invocationDir('nbval'));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      timeout: { type: 'string' },
      'notebook-timeout': { type: 'string' },
      'startup-timeout': { type: 'string' },
      cwd: { type: 'string' },
      kernel: { type: 'string' },
      report: { type: 'string' },
      'max-cell-lines': { type: 'string' },
      'max-cell-output-mb': { type: 'string' },
      'max-notebook-output-mb': { type: 'string' },
      'allow-errors': { type: 'boolean' },
      'no-stop-on-error': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      'sanitize-with': { type: 'string' },
      rtol: { type: 'string' },
      atol: { type: 'string' },
      'no-default-ignores': { type: 'boolean' },
      lax: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, notebook, ...extra] = positionals;
  if (command !== 'execute' && command !== 'check') throw new UsageError(command ? `unknown command ${JSON.stringify(command)}: use execute or check` : 'missing command: use execute or check');
  if (!notebook) throw new UsageError(`${command} needs a notebook path`);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (command === 'execute') {
    for (const flag of ['sanitize-with', 'rtol', 'atol', 'no-default-ignores', 'lax'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} only applies to check`);
  }

  const progress = (result: CellResult, position: number, total: number) => {
    if (!values.quiet) process.stderr.write(`${progressLine(result, position, total)}\n`);
  };
  const options: CheckOptions = {
    outputPath: values.output ? resolve(values.output) : undefined,
    cellTimeoutMs: seconds(values.timeout, '--timeout'),
    notebookTimeoutMs: seconds(values['notebook-timeout'], '--notebook-timeout'),
    startupTimeoutMs: seconds(values['startup-timeout'], '--startup-timeout'),
    allowErrors: values['allow-errors'] ?? false,
    outputLimits: outputLimits(values),
    onCellDone: progress,
  };
  if (values['no-stop-on-error']) options.stopOnError = false;
  // The project's notebooks on the project's kernel, others on their own or a plain tslab (kernel-choice.ts).
  const kernel = chooseKernel(notebook, readNotebook(resolve(notebook)), { kernel: values.kernel, cwd: values.cwd ? resolve(values.cwd) : undefined });
  Object.assign(options, { argv: kernel.argv, env: kernel.env, interruptMode: kernel.interruptMode, cwd: kernel.cwd });
  if (!values.quiet) process.stderr.write(`${kernel.description}\n`);

  let report: NotebookReport;
  if (command === 'execute') {
    report = executionReport(await executeNotebook(notebook, options));
  } else {
    if (values['sanitize-with']) options.rules = loadSanitizeFile(values['sanitize-with']);
    options.rtol = tolerance(values.rtol, '--rtol');
    options.atol = tolerance(values.atol, '--atol');
    if (values['no-default-ignores']) options.ignoreLines = [];
    options.lax = values.lax ?? false;
    report = regressionReport(await checkNotebook(notebook, options));
  }
  if (values.report) writeFileAtomic(resolve(values.report), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatReport(report)}\n`);
  return report.ok ? 0 : 1;
}

// The kernel runs in its own process group, out of reach of the terminal's Ctrl-C: exit through
// process.exit so the runner's exit hook kills it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => process.exit(130));

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    const usage = error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`nbval-ts-runner: ${error.message}\n${usage ? 'Run with --help for usage.\n' : ''}`);
    process.exitCode = 2;
  },
);

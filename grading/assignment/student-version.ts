/**
 * The student version of the lab notebooks, nbgrader's way: what lies between solution markers is
 * replaced by a stub, and outputs are cleared so that no answer leaks through a stored result.
 */
import { existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
// Straight from nbformat rather than the runner's index, which loads zeromq for the kernel client.
import { cloneNotebook, readNotebook, writeNotebook, type Notebook } from '../runner/nbformat';

/** The marker pairs that delimit a solution region, for code cells and for markdown cells. */
const MARKERS = [
  { begin: '// BEGIN SOLUTION', end: '// END SOLUTION', kind: 'code' },
  { begin: '<!-- BEGIN SOLUTION -->', end: '<!-- END SOLUTION -->', kind: 'markdown' },
] as const;

type Marker = (typeof MARKERS)[number];

/** What replaces a code solution region by default: a reminder, and a failure if the cell is run as is. */
export const DEFAULT_CODE_STUB = '// À COMPLÉTER\nthrow new Error("À compléter");';

/** What replaces a markdown solution region. */
export const MARKDOWN_STUB = '*À compléter.*';

/** Thrown for unbalanced or nested solution markers; the message names the file, the cell (1-based) and the line. */
export class SolutionMarkerError extends Error {
  override name = 'SolutionMarkerError';
}

/** Options of stripSolutions: the code stub, and where the source comes from (for error messages). */
export interface StripOptions {
  /** Replaces code regions (`// BEGIN SOLUTION`); each of its lines gets the BEGIN line's indentation. */
  stub?: string;
  /** The notebook's file name, quoted in error messages. */
  file?: string;
  /** The cell's 0-based index in the notebook; error messages show it 1-based. */
  cellIndex?: number;
}

function location(options: StripOptions, line: number): string {
  const parts: string[] = [];
  if (options.file) parts.push(options.file);
  if (options.cellIndex !== undefined) parts.push(`cell ${options.cellIndex + 1}`);
  parts.push(`line ${line}`);
  return parts.join(', ');
}

function markerOn(line: string, which: 'begin' | 'end'): Marker | undefined {
  return MARKERS.find((marker) => line.includes(marker[which]));
}

/** Replaces every solution region of `source` (markers included) with a stub indented like its BEGIN line. */
export function stripSolutions(source: string, options: StripOptions = {}): { source: string; regions: number } {
  // Split on \n only, keeping the terminators, so line numbers are those the notebook editor shows.
  const lines = source.split(/(?<=\n)/);
  const out: string[] = [];
  let open: { marker: Marker; line: number; indent: string } | undefined;
  let regions = 0;
  lines.forEach((line, index) => {
    const number = index + 1;
    const begin = markerOn(line, 'begin');
    const end = markerOn(line, 'end');
    if (begin) {
      if (open) throw new SolutionMarkerError(`${location(options, number)}: "${begin.begin}" inside the solution region opened at line ${open.line} (regions cannot be nested; add "${open.marker.end}" before it)`);
      open = { marker: begin, line: number, indent: /^[ \t]*/.exec(line)![0] };
      // A one-line region (BEGIN and END on the same line) falls through to the END handling below.
      if (!end) return;
    }
    if (end) {
      if (!open) throw new SolutionMarkerError(`${location(options, number)}: "${end.end}" has no matching "${end.begin}"`);
      if (end !== open.marker) throw new SolutionMarkerError(`${location(options, number)}: "${end.end}" closes "${open.marker.begin}" opened at line ${open.line}; use "${open.marker.end}"`);
      const terminator = /\r?\n$/.exec(line)?.[0] ?? '';
      const stub = open.marker.kind === 'code' ? (options.stub ?? DEFAULT_CODE_STUB) : MARKDOWN_STUB;
      const indent = open.indent;
      out.push(stub.split(/\r?\n/).map((stubLine) => (stubLine ? indent + stubLine : stubLine)).join(terminator || '\n') + terminator);
      open = undefined;
      regions += 1;
      return;
    }
    if (!open) out.push(line);
  });
  if (open) throw new SolutionMarkerError(`${location(options, open.line)}: "${open.marker.begin}" has no matching "${open.marker.end}"`);
  return { source: out.join(''), regions };
}

/** A copy of `nb` for students: solution regions stripped, outputs and execution counts cleared, grading metadata removed. */
export function studentNotebook(nb: Notebook, file?: string): { notebook: Notebook; regions: number } {
  const notebook = cloneNotebook(nb);
  let regions = 0;
  notebook.cells.forEach((cell, cellIndex) => {
    if (cell.cell_type !== 'raw') {
      const stripped = stripSolutions(cell.source, { file, cellIndex });
      cell.source = stripped.source;
      regions += stripped.regions;
    }
    if (cell.cell_type === 'code') {
      cell.outputs = [];
      cell.execution_count = null;
    }
    // nbgrader's ids and checksums belong to the instructor's copy; execution timings would date the run.
    delete cell.metadata.nbgrader;
    delete cell.metadata.execution;
  });
  return { notebook, regions };
}

/** The notebooks of a folder that are sources, not the runner's executed or quick copies of them. */
function sourceNotebooks(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ipynb') && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .filter((name) => !name.endsWith('.executed.ipynb') && !name.endsWith('.quick.ipynb'))
    .sort();
}

function canonical(path: string): string {
  return existsSync(path) ? realpathSync(path) : resolve(path);
}

/** One notebook written by makeAssignment. */
export interface AssignmentEntry {
  /** The solution notebook read. */
  source: string;
  /** The student version written. */
  output: string;
  /** Solution regions replaced in it. */
  regions: number;
}

/** Writes the student version of each source notebook of `sourceDir` into `outDir`; never writes into `sourceDir`. */
export function makeAssignment(sourceDir: string, outDir: string, options: { files?: string[] } = {}): { written: string[]; regions: number; notebooks: AssignmentEntry[] } {
  if (!existsSync(sourceDir)) throw new Error(`${sourceDir}: source folder not found`);
  // Through symlinks too: the student version would overwrite the solutions it was made from.
  if (canonical(outDir) === canonical(sourceDir)) throw new Error(`${outDir}: the output folder is the source folder; choose another one so the solution notebooks are not overwritten`);
  const names = options.files ?? sourceNotebooks(sourceDir);
  for (const name of names) {
    // A path would let an output land back in the source tree (outDir/x.ipynb = sourceDir/sub/x.ipynb).
    if (basename(name) !== name || name === '..' || name === '.') throw new Error(`${name}: give notebook file names inside ${sourceDir}, not paths`);
  }
  // Everything is stripped before anything is written: a marker error leaves no half-made assignment.
  const prepared = names.map((name) => {
    const source = join(sourceDir, name);
    const { notebook, regions } = studentNotebook(readNotebook(source), name);
    return { source, output: join(outDir, name), regions, notebook };
  });
  if (prepared.length) mkdirSync(outDir, { recursive: true });
  for (const entry of prepared) writeNotebook(entry.output, entry.notebook);
  const notebooks = prepared.map(({ source, output, regions }) => ({ source, output, regions }));
  return { written: notebooks.map((n) => n.output), regions: notebooks.reduce((sum, n) => sum + n.regions, 0), notebooks };
}

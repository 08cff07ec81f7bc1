/**
 * The student version of the lab notebooks, nbgrader's way: what lies between solution markers is
 * replaced by a stub, and outputs are cleared so that no answer leaks through a stored result.
 *
 * A code region may carry its own stub, written first in the region as a block comment that the
 * solution never runs:
 *
 *     // BEGIN SOLUTION
 *     /* STUB
 *     // À COMPLÉTER : what to write, which lib/ function or tfjs call to look at.
 *     const total: number = aCompleter('additionner les deux nombres');
 *     *\/
 *     const total = premier + second;
 *     // END SOLUTION
 *
 * The student version gets the stub's lines as written (the `/* STUB` and `*\/` lines dropped);
 * a region without one gets DEFAULT_CODE_STUB. `aCompleter` (lib/exercise) throws a French error
 * naming the step, and its generic return type lets the declared variables stand for the missing values.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
// Straight from nbformat rather than the runner's index, which loads zeromq for the kernel client.
import { cloneNotebook, readNotebook, writeNotebook, type Notebook } from '../runner/nbformat';

/** The marker pairs that delimit a solution region, for code cells and for markdown cells. */
const MARKERS = [
  { begin: '// BEGIN SOLUTION', end: '// END SOLUTION', kind: 'code' },
  { begin: '<!-- BEGIN SOLUTION -->', end: '<!-- END SOLUTION -->', kind: 'markdown' },
] as const;

type Marker = (typeof MARKERS)[number];

/** Opens a code region's own stub (alone on its line, first in the region); a line holding only `*\/` closes it. */
export const STUB_BEGIN = '/* STUB';

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
  /**
   * Regions to leave solved (their code kept, markers and stub dropped), by number: 0-based, counted
   * from `firstRegion` (default 0). A partly done version, as a student who wrote the first steps has.
   */
  solved?: (region: number) => boolean;
  /** The number of this source's first region (regions of the cells before it, for studentNotebook). */
  firstRegion?: number;
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

/** One solution region of a source, as stripSolutions found it. */
export interface SolutionRegion {
  /** 1-based line of its BEGIN marker. */
  line: number;
  kind: 'code' | 'markdown';
  /** Its own stub (a code region's `/* STUB` section), without the section's markers; undefined: the default stub. */
  stub?: string;
}

/** Replaces every solution region of `source` (markers included) with its own stub, or a default one indented like its BEGIN line. */
export function stripSolutions(source: string, options: StripOptions = {}): { source: string; regions: number; found: SolutionRegion[] } {
  // Split on \n only, keeping the terminators, so line numbers are those the notebook editor shows.
  const lines = source.split(/(?<=\n)/);
  const out: string[] = [];
  // The open region: `started` once its first non-blank line is seen, `stubOpen` inside its STUB section, `body` its solution lines.
  let open: { marker: Marker; line: number; indent: string; started: boolean; stubLines?: string[]; stubOpen: boolean; body: string[] } | undefined;
  const found: SolutionRegion[] = [];
  lines.forEach((line, index) => {
    const number = index + 1;
    const begin = markerOn(line, 'begin');
    const end = markerOn(line, 'end');
    if (begin) {
      if (open) throw new SolutionMarkerError(`${location(options, number)}: "${begin.begin}" inside the solution region opened at line ${open.line} (regions cannot be nested; add "${open.marker.end}" before it)`);
      open = { marker: begin, line: number, indent: /^[ \t]*/.exec(line)![0], started: false, stubOpen: false, body: [] };
      // A one-line region (BEGIN and END on the same line) falls through to the END handling below.
      if (!end) return;
    }
    if (end) {
      if (!open) throw new SolutionMarkerError(`${location(options, number)}: "${end.end}" has no matching "${end.begin}"`);
      if (end !== open.marker) throw new SolutionMarkerError(`${location(options, number)}: "${end.end}" closes "${open.marker.begin}" opened at line ${open.line}; use "${open.marker.end}"`);
      if (open.stubOpen) throw new SolutionMarkerError(`${location(options, number)}: "${end.end}" inside the "${STUB_BEGIN}" section opened in the region of line ${open.line}; close it with a line holding only "*/"`);
      const terminator = /\r?\n$/.exec(line)?.[0] ?? '';
      let replacement: string;
      if (options.solved?.((options.firstRegion ?? 0) + found.length)) {
        replacement = open.body.join('');
        if (!terminator) replacement = replacement.replace(/\r?\n$/, '');
      } else if (open.stubLines) {
        // The region's own stub, as written (its lines already carry their indentation).
        replacement = open.stubLines.join('');
        if (terminator && !replacement.endsWith('\n')) replacement += terminator;
        if (!terminator) replacement = replacement.replace(/\r?\n$/, '');
      } else {
        const stub = open.marker.kind === 'code' ? (options.stub ?? DEFAULT_CODE_STUB) : MARKDOWN_STUB;
        const indent = open.indent;
        replacement = stub.split(/\r?\n/).map((stubLine) => (stubLine ? indent + stubLine : stubLine)).join(terminator || '\n') + terminator;
      }
      out.push(replacement);
      found.push({ line: open.line, kind: open.marker.kind, ...(open.stubLines ? { stub: open.stubLines.join('').replace(/\r?\n$/, '') } : {}) });
      open = undefined;
      return;
    }
    if (!open) {
      out.push(line);
      return;
    }
    // Inside a region: its first non-blank line may open its own stub.
    if (open.stubOpen) {
      if (line.trim() === '*/') open.stubOpen = false;
      else open.stubLines!.push(line);
      return;
    }
    if (!open.started && line.trim() !== '') {
      open.started = true;
      if (line.trim() === STUB_BEGIN) {
        if (open.marker.kind !== 'code') throw new SolutionMarkerError(`${location(options, number)}: "${STUB_BEGIN}" belongs in code regions ("// BEGIN SOLUTION"), not in markdown ones`);
        open.stubOpen = true;
        open.stubLines = [];
        return;
      }
    } else if (line.trim() === STUB_BEGIN) {
      throw new SolutionMarkerError(`${location(options, number)}: "${STUB_BEGIN}" must be the first line of its solution region (opened at line ${open.line})`);
    }
    open.body.push(line);
  });
  if (open) throw new SolutionMarkerError(`${location(options, open.line)}: "${open.marker.begin}" has no matching "${open.marker.end}"`);
  return { source: out.join(''), regions: found.length, found };
}

/** A copy of `nb` for students: solution regions stripped, outputs and execution counts cleared, grading metadata removed. */
export function studentNotebook(nb: Notebook, file?: string, options: Pick<StripOptions, 'solved'> = {}): { notebook: Notebook; regions: number } {
  const notebook = cloneNotebook(nb);
  let regions = 0;
  notebook.cells.forEach((cell, cellIndex) => {
    if (cell.cell_type !== 'raw') {
      const stripped = stripSolutions(cell.source, { file, cellIndex, solved: options.solved, firstRegion: regions });
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

/**
 * A file written into the student version beside the notebooks (a students' check script, a
 * README...): `name` is its path inside the output folder, with its `content` or a file to copy `from`.
 */
export type AssignmentExtra = { name: string; content: string | Buffer } | { name: string; from: string };

/** Options of makeAssignment. */
export interface AssignmentOptions {
  /** Only these notebook file names of the source folder (default: every source notebook). */
  files?: string[];
  /** Files written beside the notebooks, after them (default: none; the CLI passes ASSIGNMENT_EXTRAS). */
  extras?: readonly AssignmentExtra[];
}

/** What makeAssignment wrote. */
export interface AssignmentResult {
  /** Every notebook written, in order. */
  written: string[];
  /** Solution regions replaced, all notebooks together. */
  regions: number;
  notebooks: AssignmentEntry[];
  /** The extras written (absolute paths), in the order given. */
  extras: string[];
}

function checkedExtraPath(outDir: string, name: string): string {
  const parts = name.split(/[\\/]/);
  if (!name || name.startsWith('/') || parts.some((part) => part === '..' || part === '')) throw new Error(`${name}: an extra file's name must be a relative path inside the output folder, without ".."`);
  if (name.endsWith('.ipynb') && parts.length === 1) throw new Error(`${name}: an extra file cannot be a notebook of the assignment; put the notebook in the source folder`);
  return join(outDir, ...parts);
}

/** Writes the student version of each source notebook of `sourceDir` into `outDir`, then the extras; never writes into `sourceDir`. */
export function makeAssignment(sourceDir: string, outDir: string, options: AssignmentOptions = {}): AssignmentResult {
  if (!existsSync(sourceDir)) throw new Error(`${sourceDir}: source folder not found`);
  // Through symlinks too: the student version would overwrite the solutions it was made from.
  if (canonical(outDir) === canonical(sourceDir)) throw new Error(`${outDir}: the output folder is the source folder; choose another one so the solution notebooks are not overwritten`);
  const names = options.files ?? sourceNotebooks(sourceDir);
  for (const name of names) {
    // A path would let an output land back in the source tree (outDir/x.ipynb = sourceDir/sub/x.ipynb).
    if (basename(name) !== name || name === '..' || name === '.') throw new Error(`${name}: give notebook file names inside ${sourceDir}, not paths`);
  }
  // Everything is stripped and checked before anything is written: an error leaves no half-made assignment.
  const prepared = names.map((name) => {
    const source = join(sourceDir, name);
    const { notebook, regions } = studentNotebook(readNotebook(source), name);
    return { source, output: join(outDir, name), regions, notebook };
  });
  const extras = (options.extras ?? []).map((extra) => {
    const path = checkedExtraPath(outDir, extra.name);
    if ('from' in extra && !existsSync(extra.from)) throw new Error(`${extra.from}: file not found (extra ${extra.name} of the assignment)`);
    return { path, extra };
  });
  if (prepared.length || extras.length) mkdirSync(outDir, { recursive: true });
  for (const entry of prepared) writeNotebook(entry.output, entry.notebook);
  for (const { path, extra } of extras) {
    mkdirSync(dirname(path), { recursive: true });
    if ('from' in extra) copyFileSync(extra.from, path);
    else writeFileSync(path, extra.content);
  }
  const notebooks = prepared.map(({ source, output, regions }) => ({ source, output, regions }));
  return { written: notebooks.map((n) => n.output), regions: notebooks.reduce((sum, n) => sum + n.regions, 0), notebooks, extras: extras.map((e) => e.path) };
}

/** Reading, checking and writing Jupyter notebooks (nbformat 4, written as 4.5 the way nbformat does). */
import { writeFileAtomic as writeAtomically } from '../../lib/io/atomic';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A MIME bundle: MIME type to content (text, base64 or, for JSON types, any JSON). */
export type MimeBundle = Record<string, unknown>;

/** A `stream` output (stdout or stderr text). */
export interface StreamOutput {
  output_type: 'stream';
  name: 'stdout' | 'stderr';
  text: string;
}

/** A `display_data` output. */
export interface DisplayDataOutput {
  output_type: 'display_data';
  data: MimeBundle;
  metadata: Record<string, unknown>;
}

/** An `execute_result` output. */
export interface ExecuteResultOutput {
  output_type: 'execute_result';
  execution_count: number | null;
  data: MimeBundle;
  metadata: Record<string, unknown>;
}

/** An `error` output. */
export interface ErrorOutput {
  output_type: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}

/** Any code-cell output, in nbformat's JSON form with multi-line strings joined. */
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

/** Cell metadata; only the keys the runner reads are typed. */
export interface CellMetadata {
  tags?: string[];
  execution?: Record<string, string>;
  [key: string]: unknown;
}

/** A code cell, with `source` joined into one string. */
export interface CodeCell {
  cell_type: 'code';
  id: string;
  metadata: CellMetadata;
  source: string;
  outputs: Output[];
  execution_count: number | null;
}

/** A markdown or raw cell, with `source` joined into one string. */
export interface TextCell {
  cell_type: 'markdown' | 'raw';
  id: string;
  metadata: CellMetadata;
  source: string;
  attachments?: Record<string, MimeBundle>;
}

/** Any notebook cell. */
export type Cell = CodeCell | TextCell;

/** A notebook in memory: nbformat 4, every cell with an id, multi-line strings joined. */
export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, any>;
  cells: Cell[];
}

/** The nbformat minor version the runner writes (cell ids became required in 4.5). */
export const NBFORMAT_MINOR = 5;

const CELL_ID = /^[a-zA-Z0-9-_]{1,64}$/;

/** A new random cell id, like nbformat's (8 hex digits). */
export function randomCellId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 8);
}

/** The tags of a cell (an empty list when it has none). */
export function cellTags(cell: Cell): string[] {
  const tags = cell.metadata?.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/** Thrown for a notebook file that cannot be used; the message names the file and the problem. */
export class NotebookFormatError extends Error {
  override name = 'NotebookFormatError';
}

function joinMultiline(value: unknown, where: string, problems: string[]): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((line) => typeof line === 'string')) return value.join('');
  problems.push(`${where} must be a string or a list of strings`);
  return '';
}

function isJsonMime(mime: string): boolean {
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}

function joinBundle(bundle: unknown, where: string, problems: string[]): MimeBundle {
  if (!bundle || typeof bundle !== 'object' || Array.isArray(bundle)) {
    problems.push(`${where} must be an object of MIME type -> content`);
    return {};
  }
  const out: MimeBundle = {};
  for (const [mime, value] of Object.entries(bundle)) {
    out[mime] = !isJsonMime(mime) && Array.isArray(value) && value.every((l) => typeof l === 'string') ? value.join('') : value;
  }
  return out;
}

function normalizeOutput(raw: any, where: string, problems: string[]): Output | undefined {
  if (!raw || typeof raw !== 'object') {
    problems.push(`${where} is not an object`);
    return undefined;
  }
  switch (raw.output_type) {
    case 'stream':
      if (raw.name !== 'stdout' && raw.name !== 'stderr') problems.push(`${where}: stream name must be stdout or stderr`);
      return { output_type: 'stream', name: raw.name, text: joinMultiline(raw.text, `${where}.text`, problems) };
    case 'display_data':
      return { output_type: 'display_data', data: joinBundle(raw.data, `${where}.data`, problems), metadata: raw.metadata ?? {} };
    case 'execute_result':
      return { output_type: 'execute_result', execution_count: raw.execution_count ?? null, data: joinBundle(raw.data, `${where}.data`, problems), metadata: raw.metadata ?? {} };
    case 'error':
      return { output_type: 'error', ename: String(raw.ename ?? ''), evalue: String(raw.evalue ?? ''), traceback: Array.isArray(raw.traceback) ? raw.traceback.map(String) : [] };
    default:
      problems.push(`${where}: unknown output_type ${JSON.stringify(raw.output_type)}`);
      return undefined;
  }
}

/**
 * Turns parsed JSON into a Notebook: joins multi-line strings, gives every cell a unique valid id
 * (nbformat's repair), upgrades 4.x to 4.5. `name` is used in error messages (usually the file path).
 */
export function normalizeNotebook(json: unknown, name = 'notebook'): Notebook {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new NotebookFormatError(`${name}: not a notebook (the top level must be a JSON object with "cells", "metadata", "nbformat")`);
  const raw = json as Record<string, any>;
  if (raw.nbformat !== 4) {
    const found = raw.nbformat === undefined ? 'no "nbformat" field' : `nbformat ${JSON.stringify(raw.nbformat)}`;
    throw new NotebookFormatError(`${name}: ${found}; only nbformat 4 notebooks are supported (open and save it with JupyterLab to convert it)`);
  }
  if (!Array.isArray(raw.cells)) throw new NotebookFormatError(`${name}: "cells" must be a list`);
  const problems: string[] = [];
  const seen = new Set<string>();
  const cells: Cell[] = raw.cells.map((rawCell: any, index: number): Cell => {
    const where = `cell ${index}`;
    if (!rawCell || typeof rawCell !== 'object') {
      problems.push(`${where} is not an object`);
      return { cell_type: 'raw', id: randomCellId(), metadata: {}, source: '' };
    }
    let id = typeof rawCell.id === 'string' && CELL_ID.test(rawCell.id) && !seen.has(rawCell.id) ? rawCell.id : randomCellId();
    while (seen.has(id)) id = randomCellId();
    seen.add(id);
    const metadata: CellMetadata = rawCell.metadata && typeof rawCell.metadata === 'object' ? { ...rawCell.metadata } : {};
    const source = joinMultiline(rawCell.source ?? '', `${where}.source`, problems);
    if (rawCell.cell_type === 'code') {
      const outputs = Array.isArray(rawCell.outputs) ? rawCell.outputs : [];
      return {
        cell_type: 'code',
        id,
        metadata,
        source,
        outputs: outputs.map((o: unknown, j: number) => normalizeOutput(o, `${where} output ${j}`, problems)).filter((o: Output | undefined): o is Output => !!o),
        execution_count: typeof rawCell.execution_count === 'number' ? rawCell.execution_count : null,
      };
    }
    if (rawCell.cell_type === 'markdown' || rawCell.cell_type === 'raw') {
      const cell: TextCell = { cell_type: rawCell.cell_type, id, metadata, source };
      if (rawCell.attachments && typeof rawCell.attachments === 'object') cell.attachments = rawCell.attachments;
      return cell;
    }
    problems.push(`${where}: unknown cell_type ${JSON.stringify(rawCell.cell_type)} (expected code, markdown or raw)`);
    return { cell_type: 'raw', id, metadata, source };
  });
  if (problems.length) throw new NotebookFormatError(`${name}: not a valid nbformat 4 notebook: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
  const metadata = raw.metadata && typeof raw.metadata === 'object' && !Array.isArray(raw.metadata) ? { ...raw.metadata } : {};
  const minor = typeof raw.nbformat_minor === 'number' ? raw.nbformat_minor : 0;
  return { nbformat: 4, nbformat_minor: Math.max(minor, NBFORMAT_MINOR), metadata, cells };
}

/** Parses notebook JSON text; errors name `name` (the file) and say what is wrong. */
export function parseNotebook(text: string, name = 'notebook'): Notebook {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new NotebookFormatError(`${name}: not valid JSON (${(error as Error).message}); is it really a .ipynb saved by Jupyter?`);
  }
  return normalizeNotebook(json, name);
}

/** Reads and normalizes a notebook file; throws NotebookFormatError naming the file when it is missing or invalid. */
export function readNotebook(path: string): Notebook {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found (check the path)' : code === 'EISDIR' ? 'is a folder, not a .ipynb file' : (error as Error).message;
    throw new NotebookFormatError(`${path}: ${why}`);
  }
  return parseNotebook(text, path);
}

/** Python's str.splitlines(keepends=True), which nbformat uses to split text into lines. */
export function splitLines(text: string): string[] {
  const lines: string[] = [];
  const boundary = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g;
  let start = 0;
  for (let m = boundary.exec(text); m; m = boundary.exec(text)) {
    lines.push(text.slice(start, m.index + m[0].length));
    start = m.index + m[0].length;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

const SPLIT_NON_TEXT = new Set(['application/javascript', 'image/svg+xml']);

function splitBundle(bundle: MimeBundle): MimeBundle {
  const out: MimeBundle = {};
  for (const [mime, value] of Object.entries(bundle)) {
    out[mime] = typeof value === 'string' && (mime.startsWith('text/') || SPLIT_NON_TEXT.has(mime)) ? splitLines(value) : value;
  }
  return out;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** The file text nbformat would write: split lines, sorted keys, one-space indent, trailing newline. */
export function serializeNotebook(nb: Notebook): string {
  const metadata = { ...nb.metadata };
  // nbformat strips these transient keys on every write.
  for (const key of ['orig_nbformat', 'orig_nbformat_minor', 'signature']) delete metadata[key];
  const cells = nb.cells.map((cell) => {
    const { trusted: _trusted, ...cellMetadata } = cell.metadata;
    const base = { ...cell, metadata: cellMetadata, source: splitLines(cell.source) };
    if (cell.cell_type !== 'code') {
      return cell.attachments ? { ...base, attachments: Object.fromEntries(Object.entries(cell.attachments).map(([k, b]) => [k, splitBundle(b)])) } : base;
    }
    const outputs = cell.outputs.map((o) => {
      if (o.output_type === 'stream') return { ...o, text: splitLines(o.text) };
      if (o.output_type === 'display_data' || o.output_type === 'execute_result') return { ...o, data: splitBundle(o.data) };
      return o;
    });
    return { ...base, outputs };
  });
  return `${JSON.stringify(sortKeys({ ...nb, metadata, cells }), null, 1)}\n`;
}

/** Writes a text file atomically (lib/io's temporary file + rename), with an error that names the file. */
export function writeFileAtomic(path: string, text: string): void {
  try {
    writeAtomically(path, text);
  } catch (error) {
    throw new Error(`could not write ${path}: ${(error as Error).message} (check that its folder exists and is writable)`);
  }
}

/** Writes `nb` to `path` atomically, in nbformat's file layout. */
export function writeNotebook(path: string, nb: Notebook): void {
  writeFileAtomic(path, serializeNotebook(nb));
}

/** A deep copy of a notebook (outputs included), so callers can execute without touching the original. */
export function cloneNotebook(nb: Notebook): Notebook {
  return structuredClone(nb);
}

const MIME_KEY = /^[a-zA-Z0-9\-+.]+\/[a-zA-Z0-9\-+.]+$/;

function checkBundle(bundle: unknown, where: string, problems: string[]): void {
  if (!bundle || typeof bundle !== 'object' || Array.isArray(bundle)) {
    problems.push(`${where} must be an object`);
    return;
  }
  for (const [mime, value] of Object.entries(bundle)) {
    if (!MIME_KEY.test(mime)) problems.push(`${where}: invalid MIME type ${JSON.stringify(mime)}`);
    if (!isJsonMime(mime) && typeof value !== 'string' && !(Array.isArray(value) && value.every((l) => typeof l === 'string'))) problems.push(`${where}[${mime}] must be a string or list of strings`);
  }
}

function checkKeys(obj: Record<string, unknown>, required: string[], allowed: string[], where: string, problems: string[]): void {
  for (const key of required) if (!(key in obj)) problems.push(`${where}: missing "${key}"`);
  for (const key of Object.keys(obj)) if (!required.includes(key) && !allowed.includes(key)) problems.push(`${where}: unexpected property "${key}"`);
}

/**
 * The essential rules of nbformat's v4.5 JSON schema, checked on the JSON as written (parse the
 * file text first). Returns the problems found; an empty list means valid.
 */
export function validateNotebookJson(json: any): string[] {
  const problems: string[] = [];
  if (!json || typeof json !== 'object') return ['top level is not an object'];
  checkKeys(json, ['metadata', 'nbformat_minor', 'nbformat', 'cells'], [], 'notebook', problems);
  if (json.nbformat !== 4) problems.push('nbformat must be 4');
  if (!Number.isInteger(json.nbformat_minor) || json.nbformat_minor < 5) problems.push('nbformat_minor must be an integer >= 5 (cell ids)');
  const md = json.metadata ?? {};
  if (md.kernelspec !== undefined && (typeof md.kernelspec?.name !== 'string' || typeof md.kernelspec?.display_name !== 'string')) problems.push('metadata.kernelspec needs string name and display_name');
  if (md.language_info !== undefined && typeof md.language_info?.name !== 'string') problems.push('metadata.language_info needs a string name');
  if (!Array.isArray(json.cells)) return [...problems, 'cells must be a list'];
  const ids = new Set<string>();
  json.cells.forEach((cell: any, i: number) => {
    const where = `cell ${i}`;
    if (typeof cell?.id !== 'string' || !CELL_ID.test(cell.id)) problems.push(`${where}: id must match ${CELL_ID}`);
    else if (ids.has(cell.id)) problems.push(`${where}: duplicate id ${cell.id}`);
    else ids.add(cell.id);
    const src = cell?.source;
    if (typeof src !== 'string' && !(Array.isArray(src) && src.every((l: unknown) => typeof l === 'string'))) problems.push(`${where}: source must be a string or list of strings`);
    if (!cell?.metadata || typeof cell.metadata !== 'object') problems.push(`${where}: metadata must be an object`);
    if (cell?.cell_type === 'markdown' || cell?.cell_type === 'raw') {
      checkKeys(cell, ['id', 'cell_type', 'metadata', 'source'], ['attachments'], where, problems);
      return;
    }
    if (cell?.cell_type !== 'code') {
      problems.push(`${where}: cell_type must be code, markdown or raw`);
      return;
    }
    checkKeys(cell, ['id', 'cell_type', 'metadata', 'source', 'outputs', 'execution_count'], [], where, problems);
    if (cell.execution_count !== null && !(Number.isInteger(cell.execution_count) && cell.execution_count >= 0)) problems.push(`${where}: execution_count must be null or a non-negative integer`);
    if (!Array.isArray(cell.outputs)) return problems.push(`${where}: outputs must be a list`);
    cell.outputs.forEach((o: any, j: number) => {
      const at = `${where} output ${j}`;
      switch (o?.output_type) {
        case 'stream':
          checkKeys(o, ['output_type', 'name', 'text'], [], at, problems);
          if (o.name !== 'stdout' && o.name !== 'stderr') problems.push(`${at}: stream name must be stdout or stderr`);
          if (typeof o.text !== 'string' && !(Array.isArray(o.text) && o.text.every((l: unknown) => typeof l === 'string'))) problems.push(`${at}: text must be a string or list of strings`);
          break;
        case 'display_data':
          checkKeys(o, ['output_type', 'data', 'metadata'], [], at, problems);
          checkBundle(o.data, `${at}.data`, problems);
          break;
        case 'execute_result':
          checkKeys(o, ['output_type', 'data', 'metadata', 'execution_count'], [], at, problems);
          checkBundle(o.data, `${at}.data`, problems);
          break;
        case 'error':
          checkKeys(o, ['output_type', 'ename', 'evalue', 'traceback'], [], at, problems);
          if (!Array.isArray(o.traceback)) problems.push(`${at}: traceback must be a list`);
          break;
        default:
          problems.push(`${at}: unknown output_type`);
      }
    });
  });
  return problems;
}

/**
 * Moodle's offline grading worksheet ("Download grading worksheet" / "Upload grading worksheet" of
 * an assignment), read and written back with the grades filled in. Formats, as read in moodle/moodle:
 * - The columns (mod/assign/gradingtable.php, when downloading): Identifier, Full name, the
 *   identity fields (Email address...), Status, Grade, Maximum Grade (or Scale), Grade can be
 *   changed, Last modified (submission), one column per submission plugin with text (Online text),
 *   Last modified (grade), one column per feedback plugin field (Feedback comments). Header strings
 *   from mod/assign/lang/en/assign.php (recordid, maxgrade, scale, lastmodifiedgrade...),
 *   lang/en/moodle.php (grade / gradenoun), mod/assign/feedback/comments/lang/en (pluginname); the
 *   French ones from Moodle's French language pack (fr/assign.php, fr/assignfeedback_comments.php).
 * - The identifier (gradingtable.php col_recordid): get_string('hiddenuser') then the unique id:
 *   `Participant 123456` in English, `Participant123456` in French (its string has no trailing
 *   space); the importer (mod/assign/feedback/offline/importgradeslib.php, next) strips exactly that prefix.
 * - The importer finds its columns by their exact header text in the uploader's language, and needs
 *   Identifier, Grade and Last modified (grade) (importgradeslib.php, init).
 * - Grades are written by format_float with the grade item's decimals and the language's decimal
 *   separator (gradingtable.php display_grade and col_grademax; langconfig decsep: `.` in English,
 *   `,` in French) and read back by unformat_float with the same separator
 *   (mod/assign/feedback/offline/locallib.php, process_import_grades), which also skips a grade
 *   above the maximum or below 0.
 * - The file (dataformat/csv via lib/openspout/src/Writer/CSV/Writer.php and Options.php): UTF-8 with a
 *   BOM, `,` between fields, `"` around a field when PHP's fputcsv wants it (a delimiter, a quote,
 *   a space, a tab or a line break inside), rows ended by `\n`.
 * A worksheet saved again by a spreadsheet keeps its own encoding (UTF-8 with or without BOM,
 * UTF-16, Windows-1252), separator (`,` `;` tab `:`, the ones Moodle's importer offers) and line
 * endings: rows the grader does not fill are copied byte for byte.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import * as iconv from 'iconv-lite';

/** The languages whose headers are known. */
export type WorksheetLanguage = 'en' | 'fr';

/** The header of each column the grader reads or fills, per language (see the file comment for their sources). */
export const WORKSHEET_HEADERS: Record<WorksheetLanguage, { identifier: string; fullName: string; grade: string; maxGrade: string[]; scale: string; gradeCanBeChanged: string; lastModifiedGrade: string; feedbackComments: string; participantPrefix: string; decimalSeparator: string; no: string }> = {
  en: { identifier: 'Identifier', fullName: 'Full name', grade: 'Grade', maxGrade: ['Maximum Grade', 'Maximum grade'], scale: 'Scale', gradeCanBeChanged: 'Grade can be changed', lastModifiedGrade: 'Last modified (grade)', feedbackComments: 'Feedback comments', participantPrefix: 'Participant ', decimalSeparator: '.', no: 'No' },
  fr: { identifier: 'Identifiant', fullName: 'Nom complet', grade: 'Note', maxGrade: ['Note maximale'], scale: 'Barème', gradeCanBeChanged: 'La note peut être modifiée', lastModifiedGrade: 'Dernière modification (note)', feedbackComments: 'Feedback par commentaires', participantPrefix: 'Participant', decimalSeparator: ',', no: 'Non' },
};

/** A worksheet that cannot be used; the message (French) names the file and what is wrong. */
export class WorksheetError extends Error {}

/** The encodings a worksheet may come in. */
export type WorksheetEncoding = 'utf-8' | 'utf-16le' | 'windows-1252';

/** One row after the header. */
export interface WorksheetRow {
  /** The row's exact text, line ending included. */
  raw: string;
  /** Its fields. */
  fields: string[];
  /** The participant number of its Identifier, when it has one. */
  participant?: string;
}

/** A worksheet read: how it is written, its columns and rows. */
export interface Worksheet {
  path: string;
  language: WorksheetLanguage;
  encoding: WorksheetEncoding;
  bom: boolean;
  delimiter: string;
  /** The header's exact text, line ending included. */
  headerRaw: string;
  header: string[];
  /** Column indexes. */
  columns: { identifier: number; grade: number; lastModifiedGrade: number; fullName?: number; maxGrade?: number; scale?: number; comments?: number; gradeCanBeChanged?: number };
  rows: WorksheetRow[];
  /** Decimal separator of the grades (the language's). */
  decimalSeparator: string;
  /** Decimals of the grades, from the Maximum Grade column (format_float with the grade item's decimals). */
  decimals: number;
  /** The assignment's maximum grade, from its column (undefined for a scale). */
  maxGrade?: number;
}

/** Moodle's importer offers these separators (csv_import_reader::get_delimiter_list). */
const DELIMITERS = [',', ';', '\t', ':'];

/** Decodes the file: BOM first, else strict UTF-8, else Windows-1252 (a spreadsheet's "CSV" on Windows). */
function decode(bytes: Buffer): { text: string; encoding: WorksheetEncoding; bom: boolean } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { text: bytes.subarray(3).toString('utf8'), encoding: 'utf-8', bom: true };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: iconv.decode(bytes.subarray(2), 'utf-16le'), encoding: 'utf-16le', bom: true };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8', bom: false };
  } catch {
    return { text: iconv.decode(bytes, 'windows-1252'), encoding: 'windows-1252', bom: false };
  }
}

/** Encodes text back as the worksheet was. */
export function encodeWorksheet(ws: Pick<Worksheet, 'encoding' | 'bom'>, text: string): Buffer {
  if (ws.encoding === 'utf-8') return Buffer.concat([ws.bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]);
  if (ws.encoding === 'utf-16le') return Buffer.concat([ws.bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), iconv.encode(text, 'utf-16le')]);
  return iconv.encode(text, 'windows-1252');
}

/** Records with their exact text, sliced from the input at the byte offsets csv-parse reports (its `info.bytes`). */
function records(text: string, delimiter: string, toLine?: number): { record: string[]; raw: string }[] {
  const bytes = Buffer.from(text, 'utf8');
  const parsed = parse(bytes, { delimiter, info: true, relax_column_count: true, skip_empty_lines: false, ...(toLine ? { to_line: toLine } : {}) }) as unknown as { record: string[]; info: { bytes: number } }[];
  let start = 0;
  return parsed.map(({ record, info }) => {
    const raw = bytes.subarray(start, info.bytes).toString('utf8');
    start = info.bytes;
    return { record, raw };
  });
}

/** The header language and the separator for which the header has Moodle's Identifier and Grade columns. */
function detect(text: string): { delimiter: string; language: WorksheetLanguage; header: string[] } | undefined {
  for (const delimiter of DELIMITERS) {
    let header: string[];
    try {
      header = records(text, delimiter, 1)[0]?.record ?? [];
    } catch {
      continue;
    }
    const names = header.map((h) => h.trim());
    for (const language of ['en', 'fr'] as const) {
      const h = WORKSHEET_HEADERS[language];
      if (names.includes(h.identifier) && names.includes(h.grade)) return { delimiter, language, header };
    }
  }
  return undefined;
}

/** A grade as Moodle's worksheet holds it ("20.00", "20,00"), or undefined. */
function parseGrade(text: string, decimalSeparator: string): number | undefined {
  const clean = text.replace(/[\s\u00a0\u202f]/g, '').replace(decimalSeparator, '.');
  return clean !== '' && Number.isFinite(Number(clean)) ? Number(clean) : undefined;
}

/** The participant number of an Identifier cell (`Participant 123456`, `Participant123456`), or undefined. */
export function participantOfIdentifier(cell: string): string | undefined {
  const match = /^\D*?(\d+)\s*$/.exec(cell.trim());
  return match ? String(Number(match[1])) : undefined;
}

/** Reads a worksheet Moodle exported (English or French headers); throws WorksheetError, in French, when it is not one. */
export function readWorksheet(path: string): Worksheet {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new WorksheetError(`${path} : feuille de notes illisible (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
  const name = basename(path);
  const { text, encoding, bom } = decode(bytes);
  const found = detect(text);
  if (!found) {
    throw new WorksheetError(`${name} n’est pas une feuille de notes Moodle : sa première ligne n’a pas les colonnes « ${WORKSHEET_HEADERS.en.identifier} » et « ${WORKSHEET_HEADERS.en.grade} » (ou « ${WORKSHEET_HEADERS.fr.identifier} » et « ${WORKSHEET_HEADERS.fr.grade} »). Téléchargez-la depuis le devoir : « Télécharger la feuille d’évaluation » (Download grading worksheet).`);
  }
  const { delimiter, language } = found;
  let all: { record: string[]; raw: string }[];
  try {
    all = records(text, delimiter);
  } catch (error) {
    throw new WorksheetError(`${name} : CSV mal formé (${(error as Error).message}).`);
  }
  if (all.map((r) => r.raw).join('') !== text) throw new WorksheetError(`${name} : CSV que le correcteur ne saurait réécrire à l’identique (lignes vides ou texte hors des champs).`);
  const h = WORKSHEET_HEADERS[language];
  const header = all[0].record;
  const index = (names: string | string[]) => {
    const i = header.findIndex((cell) => (Array.isArray(names) ? names : [names]).includes(cell.trim()));
    return i < 0 ? undefined : i;
  };
  const identifier = index(h.identifier)!;
  const grade = index(h.grade)!;
  const lastModifiedGrade = index(h.lastModifiedGrade);
  if (lastModifiedGrade === undefined) throw new WorksheetError(`${name} : la colonne « ${h.lastModifiedGrade} » manque ; Moodle refuserait la feuille (il la lit pour ne pas écraser une note plus récente).`);
  const columns = { identifier, grade, lastModifiedGrade, fullName: index(h.fullName), maxGrade: index(h.maxGrade), scale: index(h.scale), comments: index(h.feedbackComments), gradeCanBeChanged: index(h.gradeCanBeChanged) };
  const rows = all.slice(1).map(({ record, raw }) => ({ raw, fields: record, participant: participantOfIdentifier(record[identifier] ?? '') }));
  const maxCells = columns.maxGrade === undefined ? [] : rows.map((r) => r.fields[columns.maxGrade!] ?? '').filter((c) => c.trim() !== '');
  const decimals = maxCells.length ? (/[.,](\d+)\s*$/.exec(maxCells[0])?.[1].length ?? 0) : 2;
  const maxGrade = maxCells.length ? parseGrade(maxCells[0], h.decimalSeparator) : undefined;
  if (columns.maxGrade === undefined && columns.scale !== undefined) {
    throw new WorksheetError(`${name} : ce devoir est noté avec un barème (colonne « ${h.scale} »), pas sur des points : le correcteur ne peut pas y écrire sa note. Choisissez le type de note « Point » dans les réglages du devoir.`);
  }
  return { path, language, encoding, bom, delimiter, headerRaw: all[0].raw, header, columns, rows, decimalSeparator: h.decimalSeparator, decimals, maxGrade };
}

/** A grade in the worksheet's format: its decimals and decimal separator ("15.50", "15,50"). */
export function formatWorksheetGrade(ws: Pick<Worksheet, 'decimals' | 'decimalSeparator'>, value: number): string {
  return value.toFixed(ws.decimals).replace('.', ws.decimalSeparator);
}

/** The line ending a raw row ends with. */
function lineEnding(raw: string): string {
  return raw.endsWith('\r\n') ? '\r\n' : raw.endsWith('\n') ? '\n' : raw.endsWith('\r') ? '\r' : '';
}

/** One row written again as PHP's fputcsv writes it (what Moodle's CSV writer uses), with the row's own line ending. */
function writeRow(fields: string[], delimiter: string, eol: string): string {
  return stringify([fields], { delimiter, quote: '"', escape: '"', quoted_match: /[ \t\r\n]/, record_delimiter: eol || '\n', eof: Boolean(eol) });
}

/** What to write into a participant's row. */
export interface WorksheetFill {
  /** On the worksheet's scale (its Maximum Grade). */
  grade: number;
  /** Feedback comments, when the worksheet has the column. */
  comment: string;
}

/**
 * The worksheet's text with, for every row whose participant has a fill, the Grade (and Feedback
 * comments, when the column exists) replaced; every other row, the header and the order are kept
 * byte for byte. Returns the text and the participants filled.
 */
export function fillWorksheet(ws: Worksheet, fills: ReadonlyMap<string, WorksheetFill>): { text: string; filled: string[] } {
  const filled: string[] = [];
  const parts = [ws.headerRaw];
  for (const row of ws.rows) {
    const fill = row.participant === undefined ? undefined : fills.get(row.participant);
    if (!fill) {
      parts.push(row.raw);
      continue;
    }
    const fields = [...row.fields];
    while (fields.length < ws.header.length) fields.push('');
    fields[ws.columns.grade] = formatWorksheetGrade(ws, fill.grade);
    if (ws.columns.comments !== undefined) fields[ws.columns.comments] = fill.comment;
    parts.push(writeRow(fields, ws.delimiter, lineEnding(row.raw)));
    filled.push(row.participant!);
  }
  return { text: parts.join(''), filled };
}

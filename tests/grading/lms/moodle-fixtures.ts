/**
 * Moodle's files as Moodle makes them, for the tests, from its code (moodle/moodle):
 * - the grading worksheet: columns of mod/assign/gradingtable.php when downloading, headers from
 *   mod/assign/lang/en/assign.php and lang/en/moodle.php (French: Moodle's fr language pack),
 *   identifiers from col_recordid (hiddenuser + unique id), grades from display_grade
 *   (format_float with the grade item's decimals), written by lib/openspout/src/Writer/CSV/Writer.php
 *   (UTF-8 BOM, `,`, PHP fputcsv quoting, `\n` rows);
 * - the "Download all submissions" zip: mod/assign/classes/downloader.php (folders
 *   `<full name>_<unique id>_assignsubmission_<plugin>` since Moodle 4.1) and
 *   mod/assign/locallib.php download_submissions before it (same with a trailing `_`); the
 *   online text as `onlinetext.html` (assignsubmission_onlinetext's onlinetextfilename string).
 * The writers here are the tests' own, independent of the grader's reader.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';

/** PHP's fputcsv (no escape character, as OpenSpout calls it): quotes a field holding the delimiter, a quote, a space, a tab or a line break. */
export function fputcsvLine(fields: readonly string[], delimiter = ','): string {
  return `${fields.map((f) => (/[\s"]/.test(f) || f.includes(delimiter) ? `"${f.replace(/"/g, '""')}"` : f)).join(delimiter)}\n`;
}

/** The English worksheet's header for an assignment with online text and file submissions, feedback comments and files, email shown. */
export const ENGLISH_HEADER = ['Identifier', 'Full name', 'Email address', 'Status', 'Grade', 'Maximum Grade', 'Grade can be changed', 'Last modified (submission)', 'Online text', 'Last modified (grade)', 'Feedback comments'];

/** The same worksheet downloaded by a user whose language is French. */
export const FRENCH_HEADER = ['Identifiant', 'Nom complet', 'Adresse de courriel', 'Statut', 'Note', 'Note maximale', 'La note peut être modifiée', 'Dernière modification (travail remis)', 'Texte en ligne', 'Dernière modification (note)', 'Feedback par commentaires'];

/** One participant's row. */
export interface WorksheetStudent {
  participant: string;
  name: string;
  email?: string;
  status?: string;
  grade?: string;
  onlineText?: string;
  lastModifiedGrade?: string;
  comments?: string;
  locked?: boolean;
}

/** A worksheet's text as Moodle writes it (BOM not included), English or French. */
export function worksheetText(students: readonly WorksheetStudent[], options: { language?: 'en' | 'fr'; maxGrade?: string; delimiter?: string } = {}): string {
  const fr = options.language === 'fr';
  const header = fr ? FRENCH_HEADER : ENGLISH_HEADER;
  const rows = students.map((s) => [
    `${fr ? 'Participant' : 'Participant '}${s.participant}`,
    s.name,
    s.email ?? `${s.participant}@etu.example.fr`,
    s.status ?? (fr ? 'Remis pour évaluation' : 'Submitted for grading'),
    s.grade ?? '',
    options.maxGrade ?? (fr ? '20,00' : '20.00'),
    s.locked ? (fr ? 'Non' : 'No') : fr ? 'Oui' : 'Yes',
    fr ? 'mardi 14 janvier 2025, 10:02' : 'Tuesday, 14 January 2025, 10:02 AM',
    s.onlineText ?? '',
    s.lastModifiedGrade ?? '-',
    s.comments ?? '',
  ]);
  return [header, ...rows].map((r) => fputcsvLine(r, options.delimiter)).join('');
}

/** The worksheet's bytes as Moodle sends them: UTF-8 with a BOM. */
export function worksheetBytes(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
}

/** The Moodle download folder of a participant: before 4.1 (trailing `_`) or since. */
export function downloadFolder(name: string, participant: string, plugin = 'file', since41 = false): string {
  return `${name.replace(/_/g, ' ')}_${participant}_assignsubmission_${plugin}${since41 ? '' : '_'}`;
}

/** Writes a zip (yazl, UTF-8 names) of the given entries. */
export async function writeTestZip(path: string, entries: readonly { name: string; data: Buffer | string }[]): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const { name, data } of entries) zip.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data), name, { mtime: new Date('2025-01-14T10:02:00Z') });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

/** A zip's bytes (for a zip inside a zip). */
export async function testZipBuffer(entries: readonly { name: string; data: Buffer | string }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const { name, data } of entries) zip.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A zip's entries and their bytes, read with yauzl. */
export async function readTestZip(path: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true });
  const out = new Map<string, Buffer>();
  await new Promise<void>((done, fail) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, async (error, stream) => {
        if (error) return fail(error);
        const chunks: Buffer[] = [];
        for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
        out.set(entry.fileName, Buffer.concat(chunks));
        zip.readEntry();
      });
    });
    zip.on('end', done);
    zip.on('error', fail);
    zip.readEntry();
  });
  zip.close();
  return out;
}

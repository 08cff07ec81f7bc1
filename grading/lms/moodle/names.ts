/**
 * Moodle's file and folder names, as read in moodle/moodle:
 * - "Download all submissions" (mod/assign/classes/downloader.php, get_student_prefix and
 *   load_submissionplugin_filelist; mod/assign/locallib.php download_submissions before 4.1): the
 *   prefix is the student's full name with `_` replaced by spaces, then `_<participant>` (the
 *   assignment's unique id for the user), through clean_filename; with "Download submissions in
 *   folders" (the default) each plugin gets a folder `<prefix>_<subtype>_<type>` — with a trailing
 *   `_` before Moodle 4.1 — else every file is flat, `<prefix>_<subtype>_<type>_<file name>`.
 * - "Upload multiple feedback files in a zip" (mod/assign/feedback/file/importziplib.php,
 *   is_valid_filename_for_import): each path part is split on `_` into at most 5 pieces; the first
 *   part with 4 or more whose second piece is a participant number of the assignment and whose
 *   third and fourth name a plugin (`assignsubmission`, `file`) attaches the rest of the path to that
 *   participant. Files whose name starts with `.` or `~` are ignored.
 */

/** One top-level name of a Moodle download, understood. */
export interface MoodleName {
  /** The full name part (underscores were spaces). */
  name: string;
  /** The participant number (unique id of the user in the assignment). */
  participant: string;
  /** The submission plugin: `file`, `onlinetext`... */
  plugin: string;
  /** For a flat download, the file name after the prefix. */
  file?: string;
}

/** A plugin folder: `<name>_<participant>_assignsubmission_<plugin>` with or without the trailing `_`. */
const FOLDER = /^(.+)_(\d+)_assignsubmission_([a-z0-9]+)_?$/;

/** A flat file: `<name>_<participant>_assignsubmission_<plugin>_<file>`. */
const FLAT = /^(.+?)_(\d+)_assignsubmission_([a-z0-9]+)_(.+)$/;

/** A folder name of a Moodle download ("in folders"), or undefined. */
export function parseMoodleFolder(folder: string): MoodleName | undefined {
  const match = FOLDER.exec(folder.normalize('NFC'));
  return match ? { name: match[1], participant: match[2], plugin: match[3] } : undefined;
}

/** A file name of a flat Moodle download (not "in folders"), or undefined. */
export function parseMoodleFlatFile(file: string): MoodleName | undefined {
  const match = FLAT.exec(file.normalize('NFC'));
  return match ? { name: match[1], participant: match[2], plugin: match[3], file: match[4] } : undefined;
}

/** What Moodle's clean_filename leaves of a name: no path separators, reserved or control characters. */
export function cleanFileName(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[\\/:*?"<>|\p{Cc}]+/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The folder a student's files sit in, as "Download all submissions in folders" names it before
 * Moodle 4.1 (`Nom Prénom_123456_assignsubmission_file_`; 4.1 and later accept it too): the
 * grader's identity.ts reads the name and participant number from it.
 */
export function submissionFolderName(fullName: string, participant: string): string {
  const name = cleanFileName(fullName.replace(/_/g, ' ')) || 'Participant';
  return `${name}_${participant}_assignsubmission_file_`;
}

/** Where a feedback file goes in the zip for "Upload multiple feedback files in a zip": the student's download folder. */
export function feedbackZipPath(fullName: string, participant: string, file: string): string {
  return `${submissionFolderName(fullName, participant)}/${file}`;
}

/**
 * The participant a feedback-zip path attaches to, read as Moodle's importer reads it (first path
 * part split on `_` into 5 pieces with a numeric second piece and a known plugin), or undefined.
 */
export function participantOfFeedbackPath(path: string, plugins: ReadonlySet<string> = new Set(['assignsubmission_file', 'assignsubmission_onlinetext'])): { participant: string; file: string } | undefined {
  const base = path.split('/').pop() ?? '';
  if (base.startsWith('.') || base.startsWith('~') || path.endsWith('/')) return undefined;
  const parts = path.split('/');
  while (parts.length) {
    const part = parts.shift()!;
    const pieces = splitLimit(part, '_', 5);
    if (pieces.length < 4 || !/^\d+(\.\d+)?$/.test(pieces[1]) || !plugins.has(`${pieces[2]}_${pieces[3]}`)) continue;
    return { participant: String(Number(pieces[1])), file: [pieces[4] ?? '', ...parts].join('/') };
  }
  return undefined;
}

/** PHP's explode($separator, $text, $limit): at most `limit` pieces, the last one holding the rest. */
function splitLimit(text: string, separator: string, limit: number): string[] {
  const pieces = text.split(separator);
  return pieces.length <= limit ? pieces : [...pieces.slice(0, limit - 1), pieces.slice(limit - 1).join(separator)];
}

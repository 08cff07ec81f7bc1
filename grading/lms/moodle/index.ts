/**
 * The Moodle output adapter: from a class report, the files an instructor uploads back to the
 * assignment. `writeMoodleFiles` is the one entry point (npm run grade calls it, and so can a tool
 * that merges reports): the grading worksheet given, filled in ("Upload grading worksheet"), and a
 * zip of feedback pages ("Upload multiple feedback files in a zip"), in `<report>/moodle/`.
 */
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../../lib/io/atomic';
import type { SubmissionGrade } from '../../grader/pipeline';
import { CHECK_TITLES, feedbackPage, type ClassReport } from '../../grader/reports';
import { writeZip } from '../zip';
import { feedbackZipPath } from './names';
import { encodeWorksheet, fillWorksheet, formatWorksheetGrade, readWorksheet, WORKSHEET_HEADERS, WorksheetError, type Worksheet, type WorksheetFill } from './worksheet';

export { feedbackZipPath, parseMoodleFlatFile, parseMoodleFolder, participantOfFeedbackPath, submissionFolderName } from './names';
export { encodeWorksheet, fillWorksheet, formatWorksheetGrade, participantOfIdentifier, readWorksheet, WORKSHEET_HEADERS, WorksheetError, type Worksheet, type WorksheetFill } from './worksheet';

/** The folder of the report that holds the Moodle files. */
export const MOODLE_DIR = 'moodle';

/** The feedback zip's name in that folder. */
export const FEEDBACK_ZIP = 'retours-moodle.zip';

/** The name of each student's feedback page inside the zip (Moodle shows it as the feedback file). */
export const FEEDBACK_FILE = 'retour-correction.html';

/** What writeMoodleFiles wrote and found. */
export interface MoodleFiles {
  /** The filled worksheet (same file name as the one given), when one was given. */
  worksheet?: string;
  /** The zip of feedback pages, when some submission has a participant number. */
  feedbackZip?: string;
  /** Participant numbers whose row was filled. */
  filled: string[];
  /** Rows of the worksheet left exactly as they were. */
  untouched: number;
  /** Graded submissions whose participant number is not in the worksheet ("name (number)"). */
  notInWorksheet: string[];
  /** Submissions left out of the worksheet because the grader itself failed on them ("name (number)"). */
  internalErrors: string[];
  /** French lines for the console. */
  messages: string[];
}

/** A number the French way, for messages: 20, 17,5. */
function french(value: number): string {
  return value.toLocaleString('fr-FR', { maximumFractionDigits: 2 });
}

/** The short French comment of one grade, on Moodle's scale (`points` and `max` as the worksheet writes them). */
export function moodleComment(grade: SubmissionGrade, points: string, max: string): string {
  const failed = grade.checks.filter((c) => !c.passed);
  const first = failed.find((c) => c.id === 'notebooks-valid');
  const verdict = grade.passed
    ? 'toutes les vérifications sont réussies'
    : first
      ? `à reprendre : ${first.message.replace(/\s*Note 0\.$/, '').replace(/\.$/, '')}`
      : `à reprendre : ${failed.map((c) => (CHECK_TITLES[c.id] ?? c.id).replace(/^./, (l) => l.toLowerCase())).join(' ; ')}`;
  return `Correction automatique : ${points} / ${max}, ${verdict}. Le détail est dans le fichier de retour ${FEEDBACK_FILE}.`;
}

/** Grades on Moodle's scale: the score times the worksheet's maximum over the spec's, rounded to the worksheet's decimals. */
function onMoodleScale(grade: SubmissionGrade, ws: Pick<Worksheet, 'decimals' | 'maxGrade'> | undefined): { value: number; max: number } {
  const max = ws?.maxGrade ?? grade.maxScore;
  const decimals = ws?.decimals ?? 2;
  const factor = grade.maxScore > 0 ? max / grade.maxScore : 0;
  const value = Math.min(max, Math.max(0, Math.round(grade.score * factor * 10 ** decimals) / 10 ** decimals));
  return { value, max };
}

/**
 * Writes `<reportDir>/moodle/`: the worksheet at `worksheetPath` (Moodle's offline grading
 * worksheet, English or French) with Grade and Feedback comments filled for every participant of
 * the report, other rows untouched; and retours-moodle.zip, one feedback page per participant in
 * the folder Moodle's feedback-zip import attaches to them. Throws WorksheetError (French).
 */
export async function writeMoodleFiles(reportDir: string, report: ClassReport, worksheetPath?: string): Promise<MoodleFiles> {
  const dir = join(reportDir, MOODLE_DIR);
  const withParticipant = report.submissions.filter((s) => s.participant);
  const result: MoodleFiles = { filled: [], untouched: 0, notInWorksheet: [], internalErrors: [], messages: [] };
  const ws = worksheetPath ? readWorksheet(worksheetPath) : undefined;
  mkdirSync(dir, { recursive: true });
  const names = new Map<string, string>();
  if (ws) {
    const output = join(dir, basename(worksheetPath!));
    if (resolve(output) === resolve(worksheetPath!)) throw new WorksheetError(`${worksheetPath} serait écrasée par la feuille remplie : donnez une feuille hors de ${dir}.`);
    const h = WORKSHEET_HEADERS[ws.language];
    const present = new Set(ws.rows.map((r) => r.participant).filter((p): p is string => p !== undefined));
    const fills = new Map<string, WorksheetFill>();
    for (const grade of withParticipant) {
      if (!present.has(grade.participant!)) {
        result.notInWorksheet.push(`${grade.name} (${grade.participant})`);
        continue;
      }
      // A grade the grader could not finish is not the student's: the row keeps what Moodle has.
      if (grade.internalError) {
        result.internalErrors.push(`${grade.name} (${grade.participant})`);
        continue;
      }
      const { value, max } = onMoodleScale(grade, ws);
      fills.set(grade.participant!, { grade: value, comment: moodleComment(grade, formatWorksheetGrade(ws, value), formatWorksheetGrade(ws, max)) });
    }
    const { text, filled } = fillWorksheet(ws, fills);
    writeFileAtomic(output, encodeWorksheet(ws, text));
    result.worksheet = output;
    result.filled = filled;
    result.untouched = ws.rows.length - filled.length;
    for (const row of ws.rows) if (ws.columns.fullName !== undefined && row.participant) names.set(row.participant, row.fields[ws.columns.fullName] ?? '');
    const scaleMax = ws.maxGrade;
    const specMax = withParticipant[0]?.maxScore;
    result.messages.push(`Feuille de notes Moodle : ${filled.length} ligne${filled.length > 1 ? 's' : ''} remplie${filled.length > 1 ? 's' : ''} (colonne « ${h.grade} »${ws.columns.comments !== undefined ? ` et « ${h.feedbackComments} »` : ''}), ${result.untouched} laissée${result.untouched > 1 ? 's' : ''} telle${result.untouched > 1 ? 's' : ''} quelle${result.untouched > 1 ? 's' : ''} ; à déposer avec « Téléverser la feuille d’évaluation » (Upload grading worksheet).`);
    if (ws.columns.comments === undefined) result.messages.push(`La feuille n’a pas de colonne « ${h.feedbackComments} » : commentaires non écrits (activez les commentaires de feedback du devoir, puis téléchargez à nouveau la feuille).`);
    if (scaleMax !== undefined && specMax !== undefined && scaleMax !== specMax) result.messages.push(`Notes ramenées de ${french(specMax)} points (barème du correcteur) à ${french(scaleMax)} (note maximale du devoir dans Moodle).`);
    if (scaleMax === undefined) result.messages.push(`La feuille ne donne pas la note maximale du devoir : notes écrites sur ${french(specMax ?? 0)} points.`);
    if (ws.columns.gradeCanBeChanged !== undefined) {
      const locked = ws.rows.filter((r) => r.participant && fills.has(r.participant) && (r.fields[ws.columns.gradeCanBeChanged!] ?? '').trim() === h.no);
      if (locked.length) result.messages.push(`Notes verrouillées dans Moodle (« ${h.gradeCanBeChanged} » : ${h.no}), que Moodle ne changera pas : ${locked.map((r) => r.fields[ws.columns.fullName ?? ws.columns.identifier]).join(', ')}.`);
    }
    if (result.internalErrors.length) result.messages.push(`Erreur interne du correcteur, lignes laissées telles quelles : ${result.internalErrors.join(', ')}.`);
    if (result.notInWorksheet.length) result.messages.push(`Absents de la feuille de notes (autre devoir, ou désinscrits ?), non écrits : ${result.notInWorksheet.join(', ')}.`);
  }
  if (withParticipant.length) {
    const entries = withParticipant.map((grade) => ({ name: feedbackZipPath(names.get(grade.participant!) || grade.name, grade.participant!, FEEDBACK_FILE), data: feedbackPage(grade, report) }));
    const zipPath = join(dir, FEEDBACK_ZIP);
    await writeZip(zipPath, entries, new Date(report.gradedAt));
    result.feedbackZip = zipPath;
    result.messages.push(`Retours Moodle : ${entries.length} page${entries.length > 1 ? 's' : ''} dans ${FEEDBACK_ZIP}, à déposer avec « Téléverser plusieurs fichiers de feedback dans un zip » (Upload multiple feedback files in a zip).`);
  }
  return result;
}

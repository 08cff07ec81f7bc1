/**
 * Writing a merged gradebook (npm run grade:merge, and npm run grade -- --slurm once its tasks are
 * done): the class reports, the Moodle files as npm run grade writes them (grading/lms/moodle), the
 * summary on stdout, the exit code.
 */
import { summaryTable } from '../grader/class-run';
import { writeReports, type ClassReport } from '../grader/reports';
import { writeMoodleFiles } from '../lms/moodle';
import { shown } from './merge';

/** What a merged gradebook writes besides the class reports. */
export interface GradebookOptions {
  /** Moodle's offline grading worksheet to fill (--moodle-worksheet). */
  worksheet?: string;
  /** The class came from Moodle (participant numbers): write the feedback zip. Default: some submission has a participant number. */
  moodle?: boolean;
}

/** Writes the gradebook into `reportDir` (and the Moodle files, as npm run grade does), prints the summary; returns the exit code (0 all pass, 1 a check fails, 2 an internal error). */
export async function writeGradebook(reportDir: string, report: ClassReport, options: GradebookOptions = {}): Promise<number> {
  const written = writeReports(reportDir, report);
  const moodleClass = options.moodle ?? report.submissions.some((s) => s.participant);
  const moodle = options.worksheet || moodleClass ? await writeMoodleFiles(reportDir, report, options.worksheet) : undefined;
  const grades = report.submissions;
  const flagged = grades.filter((g) => g.flags.length).length;
  console.log(`\n${summaryTable(grades)}\n`);
  console.log(flagged ? `Intégrité (sur toute la classe) : ${flagged} soumission${flagged > 1 ? 's' : ''} signalée${flagged > 1 ? 's' : ''} (poids du modèle ou notebook identiques à ceux d’une autre, ou sorties tronquées ; voir index.html et grades.json, notes inchangées).` : 'Intégrité (sur toute la classe) : aucune soumission n’a les poids du modèle ou le notebook d’une autre, ni de sortie tronquée.');
  const where = shown(reportDir);
  console.log(`Rapports : ${where}/ (${written.length} fichiers : grades.json, grades.csv, junit.xml, index.html, feedback/${moodle ? ', moodle/' : ''}).`);
  for (const line of moodle?.messages ?? []) console.log(line);
  const internal = grades.filter((g) => g.internalError);
  for (const g of internal) console.error(`Erreur interne du correcteur pour ${g.id} : ${g.internalError}`);
  if (internal.length) return 2;
  return grades.every((g) => g.passed) ? 0 : 1;
}

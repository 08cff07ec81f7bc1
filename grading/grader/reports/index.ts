/** Writes a class run's reports into a folder, each file atomically. */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../../runner';
import { gradesCsv, gradesJson, junitXml, type ClassReport } from './data';
import { feedbackPage, indexPage } from './html';

export { gradesCsv, gradesJson, junitXml, xmlEscape, type ClassReport } from './data';
export { CHECK_TITLES, confusionTable, feedbackPage, htmlEscape, indexPage } from './html';

/** A file name safe for any submission id (ids from identity.ts are kept as they are). */
export function feedbackFileName(id: string): string {
  return `${id.replace(/[^\w.-]+/g, '_')}.html`;
}

/** Writes grades.json, grades.csv, junit.xml, index.html and feedback/<id>.html; returns the paths. */
export function writeReports(dir: string, report: ClassReport): string[] {
  // One page per student: two submissions sharing a page would show one student another's grade.
  const pages = new Map<string, string>();
  for (const grade of report.submissions) {
    const file = feedbackFileName(grade.id);
    // Lower-cased: on a case-insensitive disk (macOS, Windows) Bob.html is bob.html.
    const other = pages.get(file.toLowerCase());
    if (other !== undefined) throw new Error(`deux soumissions auraient la même page feedback/${file} (« ${other} » et « ${grade.folder} ») : identifiants non uniques.`);
    pages.set(file.toLowerCase(), grade.folder);
  }
  mkdirSync(join(dir, 'feedback'), { recursive: true });
  const written: string[] = [];
  const write = (path: string, text: string) => {
    writeFileAtomic(path, text);
    written.push(path);
  };
  write(join(dir, 'grades.json'), gradesJson(report));
  write(join(dir, 'grades.csv'), gradesCsv(report));
  write(join(dir, 'junit.xml'), junitXml(report));
  for (const grade of report.submissions) {
    const page = join(dir, 'feedback', feedbackFileName(grade.id));
    const executedDir = join(dir, 'executed', grade.id);
    const links = existsSync(executedDir) ? readdirSync(executedDir).filter((f) => f.endsWith('.ipynb')).sort().map((f) => ({ label: f, href: relative(join(dir, 'feedback'), join(executedDir, f)) })) : [];
    write(page, feedbackPage(grade, report, links));
  }
  write(join(dir, 'index.html'), indexPage(report, (id) => `feedback/${feedbackFileName(id)}`));
  return written;
}

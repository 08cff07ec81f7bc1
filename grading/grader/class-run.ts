/** Grading a whole class: finding the submissions, grading them N at a time, showing progress. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { compareFolderNames, identifySubmissions, type SubmissionIdentity } from './identity';
import { gradeSubmission, type GradeOptions, type SubmissionGrade } from './pipeline';
import { isSubmissionDir } from './scratch';
import type { GradingSpec } from './spec';

/** One submission folder: its identity (unique id, name, Moodle participant number, folder name) and path. */
export interface SubmissionRef extends SubmissionIdentity {
  dir: string;
}

/** `path` is one submission, or a class folder with one submission per subfolder; errors say which it is not. */
export function discoverSubmissions(path: string, spec: GradingSpec): SubmissionRef[] {
  const dir = resolve(path);
  if (!existsSync(dir)) throw new Error(`${path} n’existe pas.`);
  if (!statSync(dir).isDirectory()) throw new Error(`${path} n’est pas un dossier : donnez le dossier d’une soumission ou celui d’une classe.`);
  const names = [spec.notebooks.classification, spec.notebooks.testModel];
  if (isSubmissionDir(dir, names)) return [{ ...identifySubmissions([basename(dir)])[0], dir }];
  const subfolders = readdirSync(dir)
    .filter((entry) => !entry.startsWith('.') && statSync(join(dir, entry)).isDirectory())
    .sort(compareFolderNames);
  if (subfolders.length === 0) throw new Error(`${path} ne contient ni ${names.join(' ni ')} (une soumission), ni sous-dossiers (une classe).`);
  return identifySubmissions(subfolders).map((identity) => ({ ...identity, dir: join(dir, identity.folder) }));
}

/** What the progress display hears about. */
export type ClassEvent =
  | { type: 'start'; ref: SubmissionRef; position: number; total: number }
  | { type: 'status'; ref: SubmissionRef; status: string }
  | { type: 'done'; ref: SubmissionRef; grade: SubmissionGrade; done: number; total: number };

/** Grades every submission, `jobs` at a time, in their own sandboxes; results keep the input order. */
export async function gradeClass(
  submissions: SubmissionRef[],
  options: Omit<GradeOptions, 'index' | 'onProgress'> & { jobs: number },
  onEvent: (event: ClassEvent) => void = () => undefined,
): Promise<SubmissionGrade[]> {
  const grades: SubmissionGrade[] = new Array(submissions.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < submissions.length) {
      const index = next++;
      const ref = submissions[index];
      onEvent({ type: 'start', ref, position: index + 1, total: submissions.length });
      grades[index] = await gradeSubmission(ref.dir, ref, { ...options, index, onProgress: (status) => onEvent({ type: 'status', ref, status }) });
      onEvent({ type: 'done', ref, grade: grades[index], done: ++done, total: submissions.length });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.jobs, submissions.length)) }, worker));
  return grades;
}

/** A progress display on stderr: a live status line on a terminal, one line per event otherwise. */
export class ClassProgress {
  private readonly active = new Map<string, string>();
  private done = 0;
  private total = 0;
  private readonly started = Date.now();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  private get live(): boolean {
    return Boolean(this.stream.isTTY);
  }

  private clear(): void {
    if (this.live) this.stream.write('\r\x1b[2K');
  }

  private redraw(): void {
    if (!this.live) return;
    const width = this.stream.columns ?? 100;
    const doing = [...this.active].map(([id, status]) => `${id} : ${status}`).join(' | ');
    const line = `[${this.done}/${this.total}, ${Math.round((Date.now() - this.started) / 1000)} s] ${doing}`;
    this.stream.write(`\r\x1b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
  }

  /** Feeds one event. */
  handle(event: ClassEvent): void {
    if (event.type !== 'status') this.total = event.total;
    if (event.type === 'start') {
      this.active.set(event.ref.id, 'copie');
      if (!this.live) this.stream.write(`[${event.position}/${event.total}] ${event.ref.name} : correction...\n`);
    } else if (event.type === 'status') {
      const previous = this.active.get(event.ref.id);
      this.active.set(event.ref.id, event.status);
      // Off a terminal, per-cell lines would flood a log: only the step changes.
      if (!this.live && !/cellule \d/.test(event.status) && previous !== event.status) this.stream.write(`    ${event.ref.name} : ${event.status}\n`);
    } else {
      this.done = event.done;
      this.active.delete(event.ref.id);
      this.clear();
      const g = event.grade;
      const failed = g.checks.filter((c) => !c.passed).map((c) => c.id);
      this.stream.write(`${g.passed ? '✔' : '✘'} ${g.name} : ${g.score} / ${g.maxScore}${failed.length ? ` (échecs : ${failed.join(', ')})` : ''} en ${(g.durationMs / 1000).toFixed(1)} s\n`);
    }
    this.redraw();
  }

  /** Ends the live line. */
  finish(): void {
    this.clear();
  }
}

/** The final summary table, plain text: the student's name, then the id their reports are filed under. */
export function summaryTable(grades: SubmissionGrade[]): string {
  const rows = grades.map((g) => [g.name, g.id, `${g.score} / ${g.maxScore}`, g.accuracy === undefined ? '–' : g.accuracy.toFixed(4), g.passed ? 'réussi' : 'à reprendre', g.checks.filter((c) => !c.passed).map((c) => c.id).join(', ')]);
  const header = ['Nom', 'Identifiant', 'Note', 'Précision', 'Résultat', 'Vérifications échouées'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  const passed = grades.filter((g) => g.passed).length;
  const mean = grades.length ? grades.reduce((s, g) => s + g.score, 0) / grades.length : 0;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', `${grades.length} soumission${grades.length > 1 ? 's' : ''}, ${passed} réussie${passed > 1 ? 's' : ''} ; moyenne ${mean.toFixed(2)} / ${grades[0]?.maxScore ?? 0}.`].join('\n');
}

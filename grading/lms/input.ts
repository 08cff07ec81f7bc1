/**
 * The grader's input adapter: what `npm run grade -- <path>` grades, a submission folder, a class
 * folder, or a zip (Moodle's "Download all submissions", or a plain zip of a class or of one
 * submission). Everything a zip needs (safe unpacking, Moodle's folder names, online-text folders,
 * uploads zipped or in a subfolder) happens here, at the edge: the pipeline sees ordinary folders.
 * A student with nothing to grade gets a 0 built here, with the French reason, without a run.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { discoverSubmissions, gradeClass, type ClassEvent, type SubmissionRef } from '../grader/class-run';
import type { GradeOptions, SubmissionGrade } from '../grader/pipeline';
import type { SandboxMode } from '../grader/sandbox';
import { CHECK_IDS, maxScore, type GradingSpec } from '../grader/spec';
import { openClassZip, type ClassZipOptions } from './class-zip';
import { looksLikeZip } from './zip';

/** One submission of the input: a folder to grade, or a student with nothing to grade (`ungradable`). */
export interface InputSubmission extends SubmissionRef {
  /** Why there is nothing to grade (French): the grade is 0 with this note, no pipeline run. */
  ungradable?: string;
  /** French notes added to the student's page (what the input adapter unpacked or left aside). */
  notes?: string[];
}

/** What is to be graded, and how to let go of it. */
export interface GradingInput {
  /** A folder (as given), or a zip unpacked into a temporary folder. */
  kind: 'folder' | 'zip';
  /** Participant numbers come from Moodle's folder names. */
  moodle: boolean;
  /** Every submission, in class order, with unique ids. */
  submissions: InputSubmission[];
  /** French lines for the console about the input as a whole. */
  messages: string[];
  /** Removes what the input unpacked (also done at process exit); the input itself is never modified. */
  cleanup(): void;
}

/** True when `path` is a file that is a zip (by its first bytes, or its name). */
export function isZipInput(path: string): boolean {
  try {
    return statSync(path).isFile() && (looksLikeZip(path) || path.toLowerCase().endsWith('.zip'));
  } catch {
    return false;
  }
}

/** Opens what `npm run grade` was given: a folder (discoverSubmissions) or a zip (openClassZip); errors are French. */
export async function openGradingInput(path: string, spec: GradingSpec, options: ClassZipOptions = {}): Promise<GradingInput> {
  const target = resolve(path);
  if (!isZipInput(target)) {
    const submissions = discoverSubmissions(target, spec);
    return { kind: 'folder', moodle: submissions.some((s) => s.participant), submissions, messages: [], cleanup: () => undefined };
  }
  const zip = await openClassZip(target, spec, options);
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    process.removeListener('exit', cleanup);
    zip.cleanup();
  };
  process.once('exit', cleanup);
  return { kind: 'zip', moodle: zip.moodle, submissions: zip.submissions, messages: zip.messages, cleanup };
}

/** The grade of a student with nothing to grade: every check failed at 0 points, the reason first. */
export function zeroGrade(ref: InputSubmission, spec: GradingSpec, run: { execute: boolean; sandbox: SandboxMode }, reason: string): SubmissionGrade {
  const checks = CHECK_IDS.map((id, i) => ({ id, passed: false, points: 0, maxPoints: spec.points[id], message: i === 0 ? reason : 'Non vérifié : rien à corriger (voir la première vérification).' }));
  return { id: ref.id, name: ref.name, participant: ref.participant, folder: ref.folder, flags: [], score: 0, maxScore: maxScore(spec), passed: false, checks, executed: run.execute, sandbox: run.sandbox, durationMs: 0, notes: [reason, ...(ref.notes ?? [])] };
}

/**
 * Grades an input's submissions: the gradable ones through gradeClass (the pipeline, `jobs` at a
 * time), the others get zeroGrade; the input's notes go first on each page. Results keep the order.
 */
export async function gradeInput(
  submissions: readonly InputSubmission[],
  options: Omit<GradeOptions, 'index' | 'onProgress'> & { jobs: number },
  onEvent: (event: ClassEvent) => void = () => undefined,
): Promise<SubmissionGrade[]> {
  const gradable = submissions.filter((s) => !s.ungradable);
  const graded = await gradeClass(gradable, options, onEvent);
  const byId = new Map(gradable.map((s, i) => [s.id, graded[i]]));
  return submissions.map((s) => {
    if (s.ungradable) return zeroGrade(s, options.spec, { execute: options.execute, sandbox: options.sandbox.mode }, s.ungradable);
    const grade = byId.get(s.id)!;
    return s.notes?.length ? { ...grade, notes: [...s.notes, ...grade.notes] } : grade;
  });
}

/** What the grading steps share about one submission, and how a step records a check. */
import type { ExecutionResult, Notebook } from '../../runner';
import type { ModelProbe } from '../evaluate-model';
import type { SubmissionSandbox } from '../sandbox';
import type { Scratch } from '../scratch';
import type { CheckId, GradingSpec } from '../spec';

/** The outcome of one check, as grades.json holds it. */
export interface CheckResult {
  id: CheckId;
  passed: boolean;
  points: number;
  maxPoints: number;
  /** In French, for the student. */
  message: string;
}

/** The course's two editions: TypeScript (tslab, TensorFlow.js) and Python (ipykernel, Keras). */
export type Edition = 'typescript' | 'python';

/** Each edition as the reports name it. */
export const EDITION_LABELS: Record<Edition, string> = { typescript: 'TypeScript (noyau tslab, TensorFlow.js)', python: 'Python (noyau python3, Keras)' };

/** Which notebook of the submission. */
export type NotebookKey = 'classification' | 'testModel';

/** One notebook of the submission along the pipeline. */
export interface NotebookState {
  file: string;
  /** As submitted (parsed), when it is valid. */
  submitted?: Notebook;
  /** Why it could not be read. */
  problem?: string;
  /** The run, when the grader executed it. */
  run?: ExecutionResult;
  /** A run that could not happen at all (kernel did not start, memory limit...). */
  runProblem?: string;
  /** Peak memory of the run, MB. */
  peakMemoryMb?: number;
}

/** Everything known about one submission while it is graded. */
export interface GradingContext {
  id: string;
  submissionDir: string;
  spec: GradingSpec;
  /** Run the notebooks (false: grade the outputs stored in them). */
  execute: boolean;
  scratch: Scratch;
  sandbox: SubmissionSandbox;
  /** Where this submission's executed notebooks are written, if anywhere. */
  outputDir?: string;
  notebooks: Partial<Record<NotebookKey, NotebookState>>;
  /** Which edition of the course the classification notebook is (its kernel's language); set by validate-notebooks. */
  edition?: Edition;
  probe?: ModelProbe;
  /** The probe could not run (crash, time or memory limit). */
  probeProblem?: string;
  checks: CheckResult[];
  /** Facts for the feedback page that are not checks (sandbox, files left out, memory). */
  notes: string[];
  /** Short French status lines for the progress display. */
  onProgress?: (status: string) => void;
}

/** A step of the pipeline: reads and extends the context. */
export type GradingStep = (ctx: GradingContext) => Promise<void> | void;

/** Records a check earning `fraction` of its points; it passes only with all of them. */
export function recordCheck(ctx: GradingContext, id: CheckId, fraction: number, message: string, passed = fraction >= 1): CheckResult {
  const maxPoints = ctx.spec.points[id];
  const points = Math.round(maxPoints * Math.max(0, Math.min(1, fraction)) * 100) / 100;
  const check: CheckResult = { id, passed, points, maxPoints, message };
  const existing = ctx.checks.findIndex((c) => c.id === id);
  if (existing >= 0) ctx.checks[existing] = check;
  else ctx.checks.push(check);
  return check;
}

/** The text a notebook printed on stdout (executed run first, else the stored outputs), cell by cell. */
export function printedText(state: NotebookState | undefined): string[] {
  const notebook = state?.run?.notebook ?? state?.submitted;
  if (!notebook) return [];
  return notebook.cells.map((cell) =>
    cell.cell_type !== 'code'
      ? ''
      : cell.outputs
          .map((o) => (o.output_type === 'stream' && o.name === 'stdout' ? (Array.isArray(o.text) ? o.text.join('') : o.text) : ''))
          .join(''),
  );
}

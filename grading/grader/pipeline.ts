/**
 * Grading one submission: a pipeline of small named steps over a scratch copy, in nbgrader's
 * spirit (validate, execute, probe the model, compare what was printed with what was measured).
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SubmissionIdentity } from './identity';
import type { IntegrityFlag } from './integrity';
import type { SavedModelFormat } from '../../lib/io/model';
import { type CheckResult, type Edition, type GradingContext, type GradingStep } from './steps/context';
import { compareReportedAccuracy, compareTestModelPredictions } from './steps/compare-outputs';
import { executeNotebooks } from './steps/execute-notebooks';
import { probeModel } from './steps/probe-model';
import { validateNotebooks } from './steps/validate-notebooks';
import { limitsOf, SubmissionSandbox, type SandboxChoice, type SandboxMode } from './sandbox';
import { prepareScratch } from './scratch';
import { CHECK_IDS, maxScore, type CheckId, type GradingSpec } from './spec';

export type { CheckResult } from './steps/context';

/** The steps, in order. */
export const PIPELINE: ReadonlyArray<{ name: string; run: GradingStep }> = [
  { name: 'validate-notebooks', run: validateNotebooks },
  { name: 'execute-notebooks', run: executeNotebooks },
  { name: 'probe-model', run: probeModel },
  { name: 'reported-accuracy', run: compareReportedAccuracy },
  { name: 'test-model-predictions', run: compareTestModelPredictions },
];

/** One submission's grade, as grades.json holds it (plus what the feedback page shows). */
export interface SubmissionGrade {
  /** Unique in the class, safe as a file name (identity.ts). */
  id: string;
  /** The student's name, accents kept. */
  name: string;
  /** Moodle's participant number, when the folder came from Moodle. */
  participant?: string;
  /** The submission's folder name, as on disk. */
  folder: string;
  /** Class-level integrity flags (integrity.ts), for the instructor only; empty until that step runs. */
  flags: IntegrityFlag[];
  score: number;
  maxScore: number;
  passed: boolean;
  checks: CheckResult[];
  /** The notebooks were run by the grader (false: stored outputs graded). */
  executed: boolean;
  /** Which edition of the course was graded (the classification notebook's kernel); absent means TypeScript. */
  edition?: Edition;
  /** The saved model's format, when the grader could read it. */
  modelFormat?: SavedModelFormat;
  sandbox: SandboxMode;
  durationMs: number;
  accuracy?: number;
  loss?: number;
  confusion?: number[][];
  /** The grader's own verdicts on its photos. */
  predictions?: { file: string; label: string; probability: number }[];
  notes: string[];
  /** A step of the grader itself failed (a bug, not the student's fault). */
  internalError?: string;
}

/** How to grade one submission. */
export interface GradeOptions {
  spec: GradingSpec;
  execute: boolean;
  sandbox: SandboxChoice;
  /** Position in the class run (gives the sandbox its own user id). */
  index: number;
  /** Folder that holds the scratch folders. */
  scratchRoot: string;
  /** Executed notebooks go to `<outputRoot>/<id>/`. */
  outputRoot?: string;
  /** Photos test_model must classify. Default: the project's images/. */
  imagesDir?: string;
  keepScratch?: boolean;
  onProgress?: (status: string) => void;
}

/** A check that could not earn anything, with why. */
function failedCheck(spec: GradingSpec, id: CheckId, message: string): CheckResult {
  return { id, passed: false, points: 0, maxPoints: spec.points[id], message };
}

/** The submission's own flag when the grader cut a notebook's output (the instructor sees it in index.html). */
function truncationFlags(ctx: GradingContext): IntegrityFlag[] {
  const flags: IntegrityFlag[] = [];
  for (const state of Object.values(ctx.notebooks)) {
    const cut = state?.run?.truncated;
    if (!state || !cut) continue;
    const cells = state.run!.cells.filter((c) => c.truncated).map((c) => c.index + 1);
    const dropped = `${(cut.droppedBytes / 1e6).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} Mo${cut.lowerBound ? ' au moins' : ''}`;
    flags.push({
      kind: 'output-truncated',
      with: [],
      message: `${state.file} : sortie tronquée par le correcteur (cellule${cells.length > 1 ? 's' : ''} ${cells.join(', ')} ; ${dropped} non conservés${cut.notebookCapReached ? ', plafond du notebook atteint' : ''}).`,
    });
  }
  return flags;
}

/** Grades one submission folder; never modifies it. `who` is its identity, or just an id (then also its name). */
export async function gradeSubmission(submissionDir: string, who: string | SubmissionIdentity, options: GradeOptions): Promise<SubmissionGrade> {
  const started = Date.now();
  const identity: SubmissionIdentity = typeof who === 'string' ? { id: who, name: who, folder: basename(submissionDir) } : who;
  const id = identity.id;
  const base = { id, name: identity.name, participant: identity.participant, folder: identity.folder, flags: [] as IntegrityFlag[], maxScore: maxScore(options.spec), executed: options.execute, sandbox: options.sandbox.mode };
  if (!existsSync(submissionDir) || !statSync(submissionDir).isDirectory()) {
    const checks = CHECK_IDS.map((checkId) => failedCheck(options.spec, checkId, `Soumission introuvable : ${submissionDir} n’est pas un dossier.`));
    return { ...base, edition: 'typescript', score: 0, passed: false, checks, durationMs: 0, notes: [] };
  }
  const scratch = prepareScratch(submissionDir, options.scratchRoot, `${options.index + 1}-${id}`, {
    // Stored outputs speak of the student's photos; a run classifies the grader's.
    imagesDir: options.execute ? options.imagesDir : existsSync(join(submissionDir, 'images')) ? join(submissionDir, 'images') : options.imagesDir,
    dropModelDir: options.execute && options.spec.freshModel ? options.spec.modelDir : undefined,
    // bubblewrap mounts the course's lib/ and node_modules/ read-only; other modes need them in the folder.
    course: options.sandbox.mode === 'bubblewrap' ? 'mounted' : 'copied',
  });
  const sandbox = SubmissionSandbox.forSubmission(options.sandbox, options.index, scratch.dir, limitsOf(options.spec));
  sandbox.own(scratch.dir);
  const outputDir = options.outputRoot ? join(options.outputRoot, id) : undefined;
  if (outputDir) mkdirSync(outputDir, { recursive: true });
  const ctx: GradingContext = { id, submissionDir, spec: options.spec, execute: options.execute, scratch, sandbox, outputDir, notebooks: {}, checks: [], notes: [], onProgress: options.onProgress };
  ctx.notes.push(`Isolation : ${options.sandbox.reason}.`);
  if (scratch.skipped.length) ctx.notes.push(`Fichiers non copiés : ${scratch.skipped.join(', ')}.`);
  let internalError: string | undefined;
  try {
    for (const step of PIPELINE) {
      try {
        await step.run(ctx);
      } catch (error) {
        internalError = `étape ${step.name} : ${(error as Error).stack ?? error}`;
        break;
      }
    }
  } finally {
    await sandbox.killAll();
    if (!options.keepScratch) rmSync(scratch.dir, { recursive: true, force: true });
  }
  for (const checkId of CHECK_IDS) {
    if (!ctx.checks.some((c) => c.id === checkId)) ctx.checks.push(failedCheck(options.spec, checkId, `Non vérifié : erreur du correcteur (${internalError?.split('\n')[0] ?? 'étape manquante'}).`));
  }
  ctx.checks.sort((a, b) => CHECK_IDS.indexOf(a.id) - CHECK_IDS.indexOf(b.id));
  for (const state of Object.values(ctx.notebooks)) if (state?.peakMemoryMb) ctx.notes.push(`${state.file} : mémoire maximale ${state.peakMemoryMb} Mo.`);
  const flags = truncationFlags(ctx);
  for (const flag of flags) ctx.notes.push(`${flag.message} Affichez moins (un résumé, quelques valeurs) : le correcteur ne garde que ${options.spec.output.cellLines.toLocaleString('fr-FR')} lignes et ${options.spec.output.cellMb} Mo par cellule, ${options.spec.output.notebookMb} Mo par notebook.`);
  const evaluation = ctx.probe?.evaluation;
  return {
    ...base,
    edition: ctx.edition ?? 'typescript',
    modelFormat: ctx.probe?.files.format,
    flags,
    score: Math.round(ctx.checks.reduce((sum, c) => sum + c.points, 0) * 100) / 100,
    passed: ctx.checks.every((c) => c.passed),
    checks: ctx.checks,
    durationMs: Date.now() - started,
    accuracy: evaluation?.accuracy,
    loss: evaluation?.loss,
    confusion: evaluation?.confusion,
    predictions: ctx.probe?.predictions?.map(({ file, label, probability }) => ({ file, label, probability })),
    notes: ctx.notes,
    internalError,
  };
}

/**
 * The students' check before they hand in (`npm run verifier`): the grader's own pipeline, run
 * twice on the student's folder and never writing into it.
 *
 * 1. Stored: `gradeSubmission` without execution, as `npm run grade -- --no-execute` grades: the
 *    notebooks as saved, the model in modele/ measured on the 10 000 test images, the printed
 *    accuracy and test_model's verdicts held against that model.
 * 2. Quick: `gradeSubmission` with execution and ANALYSE_IMAGE_QUICK=1: both notebooks run from top
 *    to bottom in a fresh kernel in the grader's scratch copy and sandbox (the grader points
 *    saveModel/loadModel at the copy's modele/ with ANALYSE_IMAGE_MODELE, so the student's is not
 *    touched), then the model that run saved is probed.
 *
 * Each check's expected points are the lower of the two runs for the checks a quick run can speak
 * for (QUICK_RUN_CHECKS: the notebooks run, and the model they save is complete, of the right
 * shape, and is the one test_model uses); accuracy checks come from the stored run alone (a quick
 * run learns from 3 000 images for one epoch).
 */
import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { isInsideFolder, PROJECT_ROOT } from '../../lib/paths';
import { describePendingSteps, pendingSteps } from '../assignment/steps';
import { readNotebook } from '../runner/nbformat';
import type { NotebookKey } from '../grader/steps/context';
import { gradeSubmission, type CheckResult, type SubmissionGrade } from '../grader/pipeline';
import type { SandboxChoice } from '../grader/sandbox';
import { makeScratchRoot } from '../grader/scratch';
import { CHECK_IDS, DEFAULT_SPEC, loadSpec, maxScore, type CheckId, type GradingSpec } from '../grader/spec';

/** The checks whose quick-run result counts as well as the stored one (not the two accuracy checks). */
export const QUICK_RUN_CHECKS: readonly CheckId[] = ['classification-runs', 'test-model-runs', 'model-files', 'model-architecture', 'test-model-predictions'];

/** The spec file a folder may hold beside its notebooks (the class's spec, shipped with the student version). */
export const FOLDER_SPEC_FILE = 'bareme.json';

/** A mistake in what the verifier was asked to check (exit code 2); the message is French. */
export class VerifierInputError extends Error {}

/** What the verifier checks: the notebooks' folder, the model and photos that go with them, the spec. */
export interface VerifierTarget {
  /** The folder holding the two notebooks. */
  folder: string;
  /** The model folder graded (may not exist: the grader then says so). */
  modelDir: string;
  /** Where that model folder comes from, in French (for the header). */
  modelOrigin: string;
  /** The photos the stored verdicts of test_model are compared on (undefined: the project's images/, the grader's default). */
  imagesDir?: string;
  spec: GradingSpec;
  /** Where the spec comes from, in French. */
  specOrigin: string;
  /** The folder can be graded as it is (it holds its own model folder, or lies outside the project); otherwise a copy of the notebooks and the model is assembled. */
  asIs: boolean;
}

/** Where to look and what to use; paths relative to `cwd`. */
export interface TargetOptions {
  /** The folder given on the command line. */
  folder?: string;
  /** A model folder instead of the one found. */
  modelDir?: string;
  /** A spec file instead of the one found. */
  specFile?: string;
  /** Where the student typed the command (npm's INIT_CWD); default: the process's working folder. */
  cwd?: string;
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function holdsNotebooks(dir: string, spec: GradingSpec): boolean {
  return [spec.notebooks.classification, spec.notebooks.testModel].some((name) => existsSync(join(dir, name)));
}

/** A path for messages: relative to `cwd` when inside it, else absolute. */
export function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : isInsideFolder(path, cwd) ? rel : path;
}

/**
 * Finds what to check. The folder: the one given, else where the command was typed if it holds a
 * notebook of the spec, else the project's notebooks/. The spec: the file given, else the folder's
 * bareme.json, else the grader's default. The model: the one given, else the folder's modele/, else
 * (a folder of the project, whose notebooks run from the project root) the project's modele/.
 */
export function resolveTarget(options: TargetOptions = {}): VerifierTarget {
  const cwd = resolve(options.cwd ?? process.cwd());
  let folder: string;
  if (options.folder !== undefined) {
    folder = resolve(cwd, options.folder);
    if (!existsSync(folder)) throw new VerifierInputError(`${options.folder} n’existe pas.`);
    if (!isDir(folder)) throw new VerifierInputError(`${options.folder} n’est pas un dossier : donnez le dossier de vos notebooks.`);
  } else folder = cwd;

  const folderSpec = join(folder, FOLDER_SPEC_FILE);
  const specFile = options.specFile !== undefined ? resolve(cwd, options.specFile) : undefined;
  // A spec naming other notebooks changes which files count: read it before looking for them.
  const readSpec = (file: string | undefined): { spec: GradingSpec; origin: string } =>
    file ? { spec: loadSpec(file), origin: `${shownPath(file, cwd)}${options.specFile === undefined ? ' (le barème joint au dossier)' : ''}` } : { spec: DEFAULT_SPEC, origin: 'celui du correcteur par défaut' };
  let { spec, origin: specOrigin } = readSpec(specFile ?? (existsSync(folderSpec) ? folderSpec : undefined));

  if (!holdsNotebooks(folder, spec)) {
    const projectNotebooks = join(PROJECT_ROOT, 'notebooks');
    if (options.folder === undefined && isInsideFolder(cwd, PROJECT_ROOT) && holdsNotebooks(projectNotebooks, spec)) {
      folder = projectNotebooks;
      if (!specFile && existsSync(join(folder, FOLDER_SPEC_FILE))) ({ spec, origin: specOrigin } = readSpec(join(folder, FOLDER_SPEC_FILE)));
    } else {
      const where = options.folder ?? shownPath(cwd, cwd);
      throw new VerifierInputError(`${where} ne contient ni ${spec.notebooks.classification} ni ${spec.notebooks.testModel} : lancez la vérification dans le dossier de vos notebooks, ou donnez-le (npm run verifier -- <dossier>).`);
    }
  }

  const inProject = isInsideFolder(folder, PROJECT_ROOT);
  const ownModel = join(folder, spec.modelDir);
  let modelDir: string;
  let modelOrigin: string;
  if (options.modelDir !== undefined) {
    modelDir = resolve(cwd, options.modelDir);
    if (existsSync(modelDir) && !isDir(modelDir)) throw new VerifierInputError(`--model ${options.modelDir} n’est pas un dossier.`);
    modelOrigin = 'le dossier donné (--model)';
  } else if (isDir(ownModel) || !inProject) {
    modelDir = ownModel;
    modelOrigin = `le dossier ${spec.modelDir}/ à côté des notebooks`;
  } else {
    // Notebooks of the project run from its root: saveModel() writes there (ANALYSE_IMAGE_MODELE aside).
    modelDir = process.env.ANALYSE_IMAGE_MODELE ? resolve(process.env.ANALYSE_IMAGE_MODELE) : join(PROJECT_ROOT, 'modele');
    modelOrigin = process.env.ANALYSE_IMAGE_MODELE ? 'celui de ANALYSE_IMAGE_MODELE, où vos notebooks le sauvegardent' : 'celui du projet, où vos notebooks le sauvegardent';
  }
  const ownImages = join(folder, 'images');
  const imagesDir = isDir(ownImages) ? ownImages : undefined;
  return { folder, modelDir, modelOrigin, imagesDir, spec, specOrigin, asIs: options.modelDir === undefined && (isDir(ownModel) || !inProject) };
}

/** One check as the verifier reports it: the expected points, and what each run said. */
export interface VerifiedCheck {
  id: CheckId;
  passed: boolean;
  /** What the grader should give: the lower of the two runs when the quick run counts for this check. */
  points: number;
  maxPoints: number;
  /** The grader's check on the stored outputs and the saved model. */
  stored: CheckResult;
  /** The grader's check after the quick run, for QUICK_RUN_CHECKS when it ran. */
  quick?: CheckResult;
}

/** The verifier's whole answer. */
export interface Verification {
  target: VerifierTarget;
  stored: SubmissionGrade;
  /** Absent when the quick run was skipped. */
  quick?: SubmissionGrade;
  checks: VerifiedCheck[];
  score: number;
  maxScore: number;
  /** Every check passes in both runs. */
  passed: boolean;
  /** The grader's sentence listing the blanks (aCompleter calls) left in each notebook, as its run checks end with it. */
  pendingSteps: Partial<Record<NotebookKey, string>>;
  /** The grader failed (a bug, not the student's doing): the verifier exits 2. */
  internalError?: string;
}

/** Puts the two runs' checks together, check by check (pure: the tests feed it grades). */
export function combineChecks(spec: GradingSpec, stored: SubmissionGrade, quick?: SubmissionGrade): Pick<Verification, 'checks' | 'score' | 'maxScore' | 'passed'> {
  const find = (grade: SubmissionGrade, id: CheckId): CheckResult => grade.checks.find((c) => c.id === id) ?? { id, passed: false, points: 0, maxPoints: spec.points[id], message: 'Non vérifié.' };
  const checks = CHECK_IDS.map((id): VerifiedCheck => {
    const s = find(stored, id);
    const q = quick && QUICK_RUN_CHECKS.includes(id) ? find(quick, id) : undefined;
    return { id, passed: s.passed && (q?.passed ?? true), points: Math.min(s.points, q?.points ?? Infinity), maxPoints: s.maxPoints, stored: s, ...(q ? { quick: q } : {}) };
  });
  const score = Math.round(checks.reduce((sum, c) => sum + c.points, 0) * 100) / 100;
  return { checks, score, maxScore: maxScore(spec), passed: checks.every((c) => c.passed) };
}

/** Each notebook's blanks left, in the sentence the grader appends to its run check (none for a notebook without blanks or unreadable). */
function pendingSentences(target: VerifierTarget): Partial<Record<NotebookKey, string>> {
  const sentences: Partial<Record<NotebookKey, string>> = {};
  for (const key of ['classification', 'testModel'] as const) {
    try {
      const sentence = describePendingSteps(pendingSteps(readNotebook(join(target.folder, target.spec.notebooks[key]))));
      if (sentence) sentences[key] = sentence;
    } catch {
      // missing or invalid: the notebooks-valid check says so
    }
  }
  return sentences;
}

/** How to run the check. */
export interface VerifyOptions {
  sandbox: SandboxChoice;
  /** Also run both notebooks in quick mode (default true). */
  quickRun?: boolean;
  /** French progress lines: which run, then the grader's statuses (notebook, cell, model evaluation). */
  onProgress?: (run: 'stored' | 'quick', status: string) => void;
}

/** The submission the grader would receive: the folder itself, or a temporary copy of its two notebooks beside the model folder found. */
function submissionView(target: VerifierTarget): { dir: string; cleanup: () => void } {
  if (target.asIs) return { dir: target.folder, cleanup: () => undefined };
  const parent = mkdtempSync(join(tmpdir(), 'analyse-image-verifier-'));
  const dir = join(parent, 'soumission');
  for (const name of [target.spec.notebooks.classification, target.spec.notebooks.testModel]) {
    if (existsSync(join(target.folder, name))) cpSync(join(target.folder, name), join(dir, name));
  }
  // Links are copied as links: the grader refuses them, as it would in a handed-in folder.
  if (existsSync(target.modelDir)) cpSync(target.modelDir, join(dir, target.spec.modelDir), { recursive: true, verbatimSymlinks: true });
  return { dir, cleanup: () => rmSync(parent, { recursive: true, force: true }) };
}

/** Runs the grader's pipeline on the target: stored outputs first, then the quick run; never writes into the student's folder. */
export async function verify(target: VerifierTarget, options: VerifyOptions): Promise<Verification> {
  const view = submissionView(target);
  const scratchRoot = makeScratchRoot();
  const quickBefore = process.env.ANALYSE_IMAGE_QUICK;
  try {
    const base = { spec: target.spec, sandbox: options.sandbox, scratchRoot };
    // As the grader runs: ANALYSE_IMAGE_QUICK reaches the kernels only when set (kernelEnvironment).
    delete process.env.ANALYSE_IMAGE_QUICK;
    const stored = await gradeSubmission(view.dir, 'verification', { ...base, execute: false, index: 0, imagesDir: target.imagesDir, onProgress: (s) => options.onProgress?.('stored', s) });
    let quick: SubmissionGrade | undefined;
    if (options.quickRun !== false && !stored.internalError) {
      process.env.ANALYSE_IMAGE_QUICK = '1';
      // The grader's own photos (the project's images/), as a graded run classifies.
      quick = await gradeSubmission(view.dir, 'verification-rapide', { ...base, execute: true, index: 1, onProgress: (s) => options.onProgress?.('quick', s) });
    }
    const internalError = stored.internalError ?? quick?.internalError;
    return { target, stored, ...(quick ? { quick } : {}), ...combineChecks(target.spec, stored, quick), pendingSteps: pendingSentences(target), ...(internalError ? { internalError } : {}) };
  } finally {
    if (quickBefore === undefined) delete process.env.ANALYSE_IMAGE_QUICK;
    else process.env.ANALYSE_IMAGE_QUICK = quickBefore;
    rmSync(scratchRoot, { recursive: true, force: true });
    view.cleanup();
  }
}

/**
 * The scratch folder a submission is graded in: a copy of the student's files (the submission
 * itself is never opened for writing), the course's test photos, and the course's own `lib/` and
 * installed packages (copied and linked, or mounted read-only by the bubblewrap sandbox).
 * Notebooks run there exactly as in the project root.
 */
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dataDir, PROJECT_ROOT } from '../../lib/paths';
import { DEFAULT_SPEC } from './spec';

/** Folders of a submission that are never copied: the course provides them, or they are too big. */
const NOT_COPIED = new Set(['node_modules', 'lib', 'datas', '.git', '.cache', '.venv', '.ipynb_checkpoints']);

/** A submission's scratch folder and what the copy left out. */
export interface Scratch {
  /** The folder the notebooks run in. */
  dir: string;
  /** Files of the submission not copied, with the reason (symbolic links, special files). */
  skipped: string[];
}

/** Makes the folder that holds every submission's scratch folder of one grader run. */
export function makeScratchRoot(parent = tmpdir()): string {
  const root = mkdtempSync(join(parent, 'analyse-image-grading-'));
  // Traversable, not listable: a sandboxed kernel can reach its own folder but not list the others.
  chmodSync(root, 0o711);
  return root;
}

function copySubmission(from: string, to: string, skipped: string[], relative = ''): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    const shown = relative ? `${relative}/${entry}` : entry;
    if (!relative && NOT_COPIED.has(entry)) continue;
    const stat = lstatSync(source);
    // A link could point at the instructor's files; the grader never follows one out of a submission.
    if (stat.isSymbolicLink()) skipped.push(`${shown} (lien symbolique)`);
    else if (stat.isDirectory()) copySubmission(source, join(to, entry), skipped, shown);
    else if (stat.isFile()) copyFileSync(source, join(to, entry));
    else skipped.push(`${shown} (fichier spécial)`);
  }
}

/** Options of prepareScratch. */
export interface ScratchOptions {
  /** The photos test_model classifies (replacing the student's `images/`). Default: the project's images/. */
  imagesDir?: string;
  /** Remove the submitted model folder, so the one graded is the one the notebook writes. */
  dropModelDir?: string;
  /** `copied` (default): lib/ copied and node_modules/ linked; `mounted`: empty folders the sandbox mounts them on. */
  course?: 'copied' | 'mounted';
}

/** Longest scratch folder name: the kernel's ipc socket paths inside it must stay under the 107 bytes of a Unix socket address. */
const MAX_NAME = 32;

/** Copies a submission into a new folder under `root` (named from `name`) and adds the course's files. */
export function prepareScratch(submissionDir: string, root: string, name: string, options: ScratchOptions = {}): Scratch {
  const dir = join(root, name.replace(/[^\w.-]+/g, '_').slice(0, MAX_NAME) || 'soumission');
  const skipped: string[] = [];
  copySubmission(resolve(submissionDir), dir, skipped);
  for (const file of ['package.json', 'tsconfig.json']) copyFileSync(join(PROJECT_ROOT, file), join(dir, file));
  if (options.course === 'mounted') {
    for (const folder of ['lib', 'node_modules']) mkdirSync(join(dir, folder));
  } else {
    cpSync(join(PROJECT_ROOT, 'lib'), join(dir, 'lib'), { recursive: true });
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  }
  const images = join(dir, 'images');
  rmSync(images, { recursive: true, force: true });
  cpSync(options.imagesDir ?? join(PROJECT_ROOT, 'images'), images, { recursive: true });
  if (options.dropModelDir) rmSync(join(dir, options.dropModelDir), { recursive: true, force: true });
  for (const folder of ['.home', '.tmp']) mkdirSync(join(dir, folder), { recursive: true });
  chmodSync(dir, 0o700);
  return { dir, skipped };
}

/** The environment student code gets: none of the instructor's variables, the course's data folder; `scratchDir` as the code sees it. */
export function kernelEnvironment(scratchDir: string, modelFolder = DEFAULT_SPEC.modelDir): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: join(scratchDir, '.home'),
    TMPDIR: join(scratchDir, '.tmp'),
    LANG: process.env.LANG ?? 'C.UTF-8',
    ANALYSE_IMAGE_DATAS: dataDir(),
    // Where saveModel() and loadModel() default to: the folder the grader probes, quick mode or not.
    ANALYSE_IMAGE_MODELE: join(scratchDir, modelFolder),
    TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS ?? '1',
    TF_CPP_MIN_LOG_LEVEL: '2',
  };
  // Lets the instructor grade a quick run of the lab (smaller training), as the tests do.
  if (process.env.ANALYSE_IMAGE_QUICK) env.ANALYSE_IMAGE_QUICK = process.env.ANALYSE_IMAGE_QUICK;
  return env;
}

/** True when the folder looks like one submission (it holds one of the spec's notebooks). */
export function isSubmissionDir(dir: string, notebookNames: string[]): boolean {
  return notebookNames.some((name) => existsSync(join(dir, name)));
}

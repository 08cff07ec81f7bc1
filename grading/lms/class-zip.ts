/**
 * A class handed in as one zip: Moodle's "Download all submissions" (one folder per student and
 * plugin, or flat files, see moodle/names.ts), or a plain zip of a class folder (one subfolder per
 * student) or of one submission. The zip is unpacked safely (zip.ts) into a temporary folder and
 * laid out as a class folder the grader reads as usual: one folder per student, named so that
 * identity.ts finds the Moodle participant number. What a student uploaded is made gradable at
 * this edge, never in the pipeline: a zip of their folder is unpacked (safely, within the same
 * budget), notebooks found in a subfolder (`analyse_image/`) are graded from there, and an
 * online-text folder joins the same participant's files. A student left without any notebook is
 * marked ungradable, with the French reason their 0 will carry.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import type { SubmissionRef } from '../grader/class-run';
import { compareFolderNames, identifySubmissions } from '../grader/identity';
import { isSubmissionDir } from '../grader/scratch';
import type { GradingSpec } from '../grader/spec';
import { parseMoodleFlatFile, parseMoodleFolder, submissionFolderName } from './moodle/names';
import { DEFAULT_ZIP_LIMITS, extractZip, ZipRefusedError, zipBudget, type ZipBudget, type ZipLimits } from './zip';
import { frenchList } from '../french';

/** Items a message lists before counting the rest. */
const LISTED = 8;

/** One student of a class zip, ready for the grader (or not, with why). */
export interface ZipSubmission extends SubmissionRef {
  /** Why there is nothing to grade (French): the student gets 0 with this note. */
  ungradable?: string;
  /** French notes for the student's page: what the grader unpacked or left aside. */
  notes: string[];
}

/** A class zip laid out as a class folder, in a temporary folder that cleanup() removes. */
export interface ClassZip {
  /** The class folder built from the zip (one folder per student). */
  classDir: string;
  /** The students, in folder-name order, with unique ids. */
  submissions: ZipSubmission[];
  /** The zip came from Moodle's "Download all submissions" (participant numbers known). */
  moodle: boolean;
  /** French lines for the console about the zip as a whole. */
  messages: string[];
  /** Removes the temporary folder (the zip itself is never modified). */
  cleanup(): void;
}

/** Options of openClassZip. */
export interface ClassZipOptions {
  limits?: ZipLimits;
  /** Where the temporary folder goes (default: the system's). */
  tmpRoot?: string;
}

/** Entries worth looking at: no macOS or hidden files. */
function visible(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && name !== '__MACOSX' && name !== 'Thumbs.db' && name !== 'desktop.ini')
    .sort(compareFolderNames);
}

function isDir(path: string): boolean {
  return lstatSync(path).isDirectory();
}

function isFile(path: string): boolean {
  return lstatSync(path).isFile();
}

/** Folders under `dir` (depth ≤ maxDepth) that hold one of the notebooks, shallowest first. */
function notebookFolders(dir: string, names: string[], maxDepth = 4): string[] {
  const found: { path: string; depth: number }[] = [];
  const walk = (current: string, depth: number) => {
    for (const entry of visible(current)) {
      const path = join(current, entry);
      if (!isDir(path)) continue;
      if (isSubmissionDir(path, names)) found.push({ path, depth });
      else if (depth < maxDepth) walk(path, depth + 1);
    }
  };
  walk(dir, 1);
  return found.sort((a, b) => a.depth - b.depth || compareFolderNames(a.path, b.path)).map((f) => f.path);
}

/** Moves every entry of `from` into `to` (same file system); returns the names that were already there. */
function moveChildren(from: string, to: string): string[] {
  const clashes: string[] = [];
  for (const entry of readdirSync(from)) {
    const target = join(to, entry);
    let exists = true;
    try {
      lstatSync(target);
    } catch {
      exists = false;
    }
    if (exists) clashes.push(entry);
    else renameSync(join(from, entry), target);
  }
  return clashes;
}

/** What one student handed in, gathered from the zip's top level. */
interface Gathered {
  folder: string;
  /** Folders whose content is the student's files. */
  fileDirs: string[];
  /** Flat files (Moodle without folders): path and file name. */
  flatFiles: { path: string; file: string }[];
  /** Moodle online-text folders or files. */
  onlineText: string[];
  /** Other Moodle submission plugins seen (not graded). */
  otherPlugins: string[];
  moodle: boolean;
}

/**
 * Makes a student's folder gradable: unpacks the zips they uploaded when no notebook is at the
 * top, then takes the shallowest subfolder holding a notebook. Returns French notes, and the reason
 * when nothing can be graded.
 */
async function makeGradable(dir: string, spec: GradingSpec, shown: string, limits: ZipLimits, budget: ZipBudget, fromMoodle: boolean): Promise<{ notes: string[]; ungradable?: string }> {
  const names = [spec.notebooks.classification, spec.notebooks.testModel];
  const notes: string[] = [];
  const received = visible(dir);
  /** Folders made from the student's zips, to name them by their zip in notes. */
  const unpacked = new Map<string, string>();
  if (!isSubmissionDir(dir, names)) {
    for (const file of received.filter((f) => f.toLowerCase().endsWith('.zip') && isFile(join(dir, f)))) {
      let target = join(dir, file.replace(/\.zip$/i, '') || 'zip');
      for (let n = 2; visible(dir).includes(basename(target)); n++) target = join(dir, `${file.replace(/\.zip$/i, '')}-${n}`);
      try {
        await extractZip(join(dir, file), target, { shownName: `${file} (dépôt de ${shown})`, limits, budget });
        rmSync(join(dir, file)); // the grader's copy only: the class zip is untouched
        unpacked.set(basename(target), file);
        notes.push(`${file} a été décompressé par le correcteur.`);
      } catch (error) {
        rmSync(target, { recursive: true, force: true });
        if (!(error instanceof ZipRefusedError)) throw error;
        return { notes, ungradable: `Votre dépôt ${file} a été refusé par le correcteur : ${error.message}` };
      }
    }
  }
  if (!isSubmissionDir(dir, names)) {
    const found = notebookFolders(dir, names);
    if (found.length) {
      const chosen = found[0];
      // "« analyse_image/ » de analyse_image.zip" rather than the folder the grader unpacked it into.
      const describe = (folder: string) => {
        const [first, ...rest] = relative(dir, folder).split(sep);
        const zip = unpacked.get(first);
        return zip ? (rest.length ? `« ${rest.join('/')}/ » de ${zip}` : zip) : `« ${[first, ...rest].join('/')}/ »`;
      };
      const others = found.slice(1).map(describe);
      notes.push(`Notebooks trouvés dans ${describe(chosen)} : c’est ce dossier qui est corrigé${others.length ? ` (ignorés : ${frenchList(others, LISTED)})` : ''}.`);
      const keep = join(dir, '..', `.garde-${basename(dir).slice(0, 40)}-${process.pid}`);
      renameSync(chosen, keep);
      rmSync(dir, { recursive: true, force: true });
      renameSync(keep, dir);
    }
  }
  if (!isSubmissionDir(dir, names)) {
    const what = received.length ? `reçu : ${frenchList(received.map((r) => `« ${r} »`), LISTED)}` : 'aucun fichier reçu';
    return { notes, ungradable: `Aucun notebook (${names.join(', ')}) dans ce que vous avez déposé${fromMoodle ? ' sur Moodle' : ''} (${what}) : rien à corriger, note 0.` };
  }
  return { notes };
}

/** Goes down through wrapper folders (`classe/`): a single folder holding only folders, none of them a submission or Moodle's. */
function classRoot(dir: string, names: string[]): string {
  let root = dir;
  for (;;) {
    const entries = visible(root);
    if (entries.length !== 1 || isSubmissionDir(root, names)) return root;
    const only = join(root, entries[0]);
    if (!isDir(only) || parseMoodleFolder(entries[0]) || isSubmissionDir(only, names)) return root;
    const inside = visible(only);
    if (inside.length === 0 || inside.some((e) => !isDir(join(only, e)))) return root;
    root = only;
  }
}

/**
 * Unpacks a class zip (Moodle's or a plain one) into a temporary folder and lays it out as a class
 * folder; throws ZipRefusedError (French, naming the zip and the entry) when the zip itself is refused.
 */
export async function openClassZip(zipPath: string, spec: GradingSpec, options: ClassZipOptions = {}): Promise<ClassZip> {
  const limits = options.limits ?? DEFAULT_ZIP_LIMITS;
  const tmp = mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'analyse-image-zip-'));
  chmodSync(tmp, 0o700);
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  try {
    return await layOut(zipPath, tmp, spec, limits, cleanup);
  } catch (error) {
    cleanup();
    throw error;
  }
}

async function layOut(zipPath: string, tmp: string, spec: GradingSpec, limits: ZipLimits, cleanup: () => void): Promise<ClassZip> {
  const names = [spec.notebooks.classification, spec.notebooks.testModel];
  const shownZip = basename(zipPath);
  const raw = join(tmp, 'zip');
  const classDir = join(tmp, 'classe');
  mkdirSync(classDir);
  const budget = zipBudget(limits);
  await extractZip(zipPath, raw, { shownName: shownZip, limits, budget });
  const root = classRoot(raw, names);
  const messages: string[] = [];
  const students = new Map<string, Gathered>();
  const gather = (key: string, init: () => Gathered) => students.get(key) ?? students.set(key, init()).get(key)!;
  if (isSubmissionDir(root, names)) {
    gather('seule', () => ({ folder: shownZip.replace(/\.zip$/i, '') || 'soumission', fileDirs: [root], flatFiles: [], onlineText: [], otherPlugins: [], moodle: false }));
  } else {
    const loose: string[] = [];
    for (const entry of visible(root)) {
      const path = join(root, entry);
      const directory = isDir(path);
      const moodle = directory ? parseMoodleFolder(entry) : parseMoodleFlatFile(entry);
      if (moodle) {
        const student = gather(`m:${moodle.participant}`, () => ({ folder: submissionFolderName(moodle.name, moodle.participant), fileDirs: [], flatFiles: [], onlineText: [], otherPlugins: [], moodle: true }));
        if (moodle.plugin === 'file') {
          if (directory) student.fileDirs.push(path);
          else student.flatFiles.push({ path, file: moodle.file! });
        } else if (moodle.plugin === 'onlinetext') student.onlineText.push(path);
        else student.otherPlugins.push(moodle.plugin);
      } else if (directory) {
        gather(`p:${entry}`, () => ({ folder: entry, fileDirs: [path], flatFiles: [], onlineText: [], otherPlugins: [], moodle: false }));
      } else {
        loose.push(entry);
      }
    }
    if (loose.length) messages.push(`${shownZip} : fichiers hors de tout dossier d’étudiant, ignorés : ${frenchList(loose.map((l) => `« ${l} »`), LISTED)}.`);
  }
  if (students.size === 0) throw new ZipRefusedError(`${shownZip} ne contient ni ${names.join(' ni ')} (une soumission), ni dossiers d’étudiants (une classe, ou le zip « Télécharger tous les travaux remis » de Moodle).`, shownZip);

  const prepared: { folder: string; notes: string[]; ungradable?: string }[] = [];
  const folders = new Set<string>();
  for (const student of students.values()) {
    let folder = student.folder;
    for (let n = 2; folders.has(folder); n++) folder = `${student.folder} (${n})`;
    folders.add(folder);
    const dir = join(classDir, folder);
    mkdirSync(dir);
    const notes: string[] = [];
    const clashes: string[] = [];
    for (const from of student.fileDirs) clashes.push(...moveChildren(from, dir));
    for (const { path, file } of student.flatFiles) {
      try {
        lstatSync(join(dir, file));
        clashes.push(file);
      } catch {
        renameSync(path, join(dir, file));
      }
    }
    if (student.flatFiles.length) notes.push('Zip Moodle téléchargé sans l’option « Télécharger les travaux remis dans des dossiers » : les sous-dossiers (modele/) y sont perdus.');
    if (clashes.length) notes.push(`Fichiers en double dans le zip, un seul gardé : ${frenchList(clashes.map((c) => `« ${c} »`), LISTED)}.`);
    if (student.otherPlugins.length) notes.push(`Remises Moodle non corrigées (${frenchList([...new Set(student.otherPlugins)], LISTED)}).`);
    const shown = student.moodle ? folder.replace(/_\d+_assignsubmission_file_$/, '') : folder;
    if (student.fileDirs.length === 0 && student.flatFiles.length === 0 && student.onlineText.length) {
      prepared.push({ folder, notes, ungradable: `Seul un texte en ligne a été remis sur Moodle, aucun fichier : déposez ${names.join(', ')} et ${spec.modelDir}/ comme fichiers (ou un zip de votre dossier). Note 0.` });
      continue;
    }
    if (student.onlineText.length) notes.push('Un texte en ligne a aussi été remis sur Moodle : il n’est pas corrigé (seuls les fichiers le sont).');
    const result = await makeGradable(dir, spec, shown, limits, budget, student.moodle);
    prepared.push({ folder, notes: [...notes, ...result.notes], ungradable: result.ungradable });
  }
  prepared.sort((a, b) => compareFolderNames(a.folder, b.folder));
  const identities = identifySubmissions(prepared.map((p) => p.folder));
  const submissions: ZipSubmission[] = identities.map((identity, i) => ({ ...identity, dir: join(classDir, identity.folder), notes: prepared[i].notes, ...(prepared[i].ungradable ? { ungradable: prepared[i].ungradable } : {}) }));
  const moodle = [...students.values()].some((s) => s.moodle);
  const ungradable = submissions.filter((s) => s.ungradable).length;
  messages.unshift(`${shownZip} : ${moodle ? 'zip Moodle « Télécharger tous les travaux remis »' : 'zip d’une classe'}, ${submissions.length} étudiant${submissions.length > 1 ? 's' : ''}${ungradable ? ` dont ${ungradable} sans rien à corriger (note 0)` : ''} ; décompressé dans un dossier temporaire supprimé à la fin, le zip n’est pas modifié.`);
  return { classDir, submissions, moodle, messages, cleanup };
}

/**
 * The students' repository: what an instructor hands out (a GitHub Classroom template, a zip on
 * Moodle). It is the project as committed, with the lab's notebooks replaced by their student
 * versions and without what holds or checks the solutions (notebooks/src/, tests/) or serves only
 * the instructor (CI, benchmarks, CI templates). Every line of a solution region is then looked
 * for in every file written: a leak stops the hand-out before anyone sees it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { LAB_NOTEBOOKS } from '../../scripts/notebook-list';
import { readNotebook } from '../runner/nbformat';
import { ASSIGNMENT_EXTRAS } from './extras';
import { makeAssignment, stripSolutions, STUB_BEGIN, type AssignmentResult } from './student-version';

/** Tracked paths left out of the students' repository: solutions, their tests, the instructor's tools. */
export const NOT_HANDED_OUT = ['notebooks/src/', 'tests/', 'jest.config.js', '.ci/', 'bench/', 'templates/'];

/** Scripts that need the solutions: rebuilding notebooks from notebooks/src, making the student version. */
const SOLUTION_SCRIPTS = ['notebooks', 'assignment'];

/**
 * The notebooks handed out: the lab's and the course's theory. The complementary notebooks are
 * left out: they do the lab's steps (the split, the training, the save) in full, so they would
 * hand out the answers.
 */
export const HANDED_OUT_NOTEBOOKS = [...LAB_NOTEBOOKS, 'theorie'].map((name) => `${name}.ipynb`);

/** Solution lines shorter than this are too common to be a leak (`});`, `const x = 1;`). */
const LEAK_MIN_LENGTH = 24;

/** What makeStudentRepository wrote. */
export interface StudentRepository {
  dir: string;
  /** Files copied from the project, notebooks and extras included. */
  files: number;
  /** The student notebooks written over the project's. */
  assignment: AssignmentResult;
  /** The commit made with `git: true`. */
  commit?: string;
}

/** The project's tracked files (git ls-files): the hand-out is what is committed, never local files. */
function trackedFiles(root: string): string[] {
  const run = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${root} n’est pas un dépôt git lisible (git ls-files : ${(run.stderr || run.error?.message || '').trim()}) : la version étudiante se fait depuis le dépôt du cours.`);
  return run.stdout.split('\0').filter(Boolean);
}

/** The code lines inside a source's solution regions (the regions' own stubs left out). */
export function solutionCode(source: string): string[] {
  const code: string[] = [];
  let inRegion = false;
  let inStub = false;
  for (const line of source.split('\n')) {
    if (line.includes('BEGIN SOLUTION')) inRegion = true;
    else if (line.includes('END SOLUTION')) inRegion = false;
    else if (inRegion && line.trim().startsWith(STUB_BEGIN)) inStub = true;
    else if (inStub) inStub = !line.trim().startsWith('*/');
    else if (inRegion) code.push(line);
  }
  return code;
}

/**
 * The lines only a solution holds: its regions' code lines, long enough to be telling, that the
 * notebooks do not also give elsewhere (the optional 4-conv part hands out the same fit options).
 */
function secretLines(notebooks: readonly string[]): Set<string> {
  const inRegions = new Set<string>();
  const given = new Set<string>();
  for (const file of notebooks) {
    for (const cell of readNotebook(file).cells) {
      const code = solutionCode(cell.source).map((l) => l.trim());
      for (const line of code) if (line.length >= LEAK_MIN_LENGTH && !line.startsWith('//')) inRegions.add(line);
      const outside = stripSolutions(cell.source).source;
      for (const line of outside.split('\n')) given.add(line.trim());
    }
  }
  return new Set([...inRegions].filter((line) => !given.has(line)));
}

/** The files under `dir` that hold one of `lines` (as text), with the first line found. */
export function findLeaks(dir: string, lines: ReadonlySet<string>): { file: string; line: string }[] {
  const leaks: { file: string; line: string }[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      const stat = lstatSync(path);
      if (stat.isDirectory()) {
        if (entry !== '.git') walk(path);
        continue;
      }
      if (!stat.isFile()) continue;
      const text = readFileSync(path, 'utf8');
      // Notebooks store sources as JSON strings: compare with the JSON-escaped form too.
      const found = [...lines].find((line) => text.includes(line) || text.includes(JSON.stringify(line).slice(1, -1)));
      if (found) leaks.push({ file: relative(dir, path), line: found });
    }
  };
  walk(dir);
  return leaks;
}

/** package.json for students: no script pointing at what was left out; `npm test` is the students' check. */
function studentPackageJson(text: string, outDir: string): string {
  const manifest = JSON.parse(text) as { scripts?: Record<string, string> };
  const scripts: Record<string, string> = {};
  for (const [name, command] of Object.entries(manifest.scripts ?? {})) {
    const files = [...command.matchAll(/(?:^|\s)((?:[\w.-]+\/)+[\w.-]+\.(?:ts|cjs|js))\b/g)].map((m) => m[1]);
    if (files.every((file) => existsSync(join(outDir, file))) && !/\bjest\b/.test(command) && !SOLUTION_SCRIPTS.includes(name)) scripts[name] = command;
  }
  if (scripts.verifier) scripts.test = 'npm run verifier';
  return `${JSON.stringify({ ...manifest, scripts }, null, 2)}\n`;
}

/**
 * Writes the students' repository into `outDir` (which must not exist or be empty): the committed
 * project minus NOT_HANDED_OUT, the lab's notebooks as student versions, the extras; refuses to
 * finish when a solution line is found in any file. With `git`, makes it a repository of one commit.
 */
export function makeStudentRepository(outDir: string, options: { git?: boolean; root?: string } = {}): StudentRepository {
  const root = options.root ?? PROJECT_ROOT;
  if (existsSync(outDir) && readdirSync(outDir).length) throw new Error(`${outDir} existe et n’est pas vide : choisissez un dossier neuf pour le dépôt des étudiants.`);
  const notebooks = HANDED_OUT_NOTEBOOKS.filter((name) => existsSync(join(root, 'notebooks', name)));
  const files = trackedFiles(root).filter(
    (file) => !NOT_HANDED_OUT.some((prefix) => file.startsWith(prefix)) && (!/^notebooks\/[^/]+\.ipynb$/.test(file) || notebooks.includes(file.slice('notebooks/'.length))),
  );
  const staging = mkdtempSync(join(tmpdir(), 'analyse-image-etudiants-'));
  try {
    // The student notebooks first, in a folder of their own: the copy below must not meet a solution.
    const assignment = makeAssignment(join(root, 'notebooks'), join(staging, 'notebooks'), { files: notebooks, extras: ASSIGNMENT_EXTRAS });
    mkdirSync(outDir, { recursive: true });
    let copied = 0;
    for (const file of files) {
      const from = join(root, file);
      if (!existsSync(from) || !lstatSync(from).isFile()) continue;
      const to = join(outDir, file);
      mkdirSync(dirname(to), { recursive: true });
      const student = join(staging, file);
      copyFileSync(existsSync(student) ? student : from, to);
      copied++;
    }
    for (const extra of assignment.extras) copyFileSync(extra, join(outDir, relative(join(staging, 'notebooks'), extra)));
    writeFileSync(join(outDir, 'package.json'), studentPackageJson(readFileSync(join(root, 'package.json'), 'utf8'), outDir));
    const leaks = findLeaks(outDir, secretLines(notebooks.map((name) => join(root, 'notebooks', name))));
    if (leaks.length) {
      rmSync(outDir, { recursive: true, force: true });
      throw new Error(`solution retrouvée dans la version étudiante, rien n’a été gardé : ${leaks.slice(0, 5).map((l) => `${l.file} (« ${l.line} »)`).join(', ')}.`);
    }
    const repository: StudentRepository = { dir: outDir, files: copied + assignment.extras.length, assignment };
    if (options.git) repository.commit = commitAll(outDir);
    return repository;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** `git init` and one commit of everything, authored as the course; returns the commit's hash. */
function commitAll(dir: string): string {
  const git = (...args: string[]) => {
    const run = spawnSync('git', ['-c', 'user.name=Analyse d’image', '-c', 'user.email=cours@analyse-image.invalid', ...args], { cwd: dir, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`git ${args[0]} dans ${dir} : ${(run.stderr || run.error?.message || '').trim()}`);
    return run.stdout.trim();
  };
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'Laboratoire « Analyse d’image » : version étudiante');
  return git('rev-parse', 'HEAD');
}

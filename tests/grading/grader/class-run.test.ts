/**
 * A whole class of submissions graded with execution, in one run with 3 jobs: a good submission
 * and one per fault. Each faulty one fails the right check with a clear message, and none harms
 * the others or the instructor's files.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoverSubmissions, gradeClass } from '../../../grading/grader/class-run';
import type { SubmissionGrade } from '../../../grading/grader/pipeline';
import { chooseSandbox } from '../../../grading/grader/sandbox';
import { writeReports } from '../../../grading/grader/reports';
import { makeScratchRoot } from '../../../grading/grader/scratch';
import { CHECK_IDS } from '../../../grading/grader/spec';
import { PROJECT_ROOT } from '../../../lib/paths';
import { chromium } from 'playwright-core';
import { temporaryFolder } from '../../helpers/fixtures';
import { CHROMIUM, CHROMIUM_ARGS, needsChromium, needsTool } from '../../helpers/tools';
import { CLASSIFICATION_CELLS, fixtureSpec, vandalCells, writeSubmission } from './submissions';

const sandbox = chooseSandbox();
const isolated = sandbox.mode !== 'none';
const folder = temporaryFolder('grading-class-');
// Like an instructor's course folder: readable by everyone, writable by its owner only.
chmodSync(folder.dir, 0o755);
const classDir = join(folder.dir, 'classe');
const instructor = join(folder.dir, 'enseignant');
const reportDir = join(folder.dir, 'rapports');
const grades = new Map<string, SubmissionGrade>();
let snapshot: Map<string, string>;

function check(id: string, checkId: string) {
  const found = grades.get(id)?.checks.find((c) => c.id === checkId);
  if (!found) throw new Error(`no check ${checkId} for ${id}`);
  return found;
}

function failedChecks(id: string): string[] {
  return grades.get(id)!.checks.filter((c) => !c.passed).map((c) => c.id);
}

beforeAll(async () => {
  mkdirSync(classDir, { recursive: true, mode: 0o755 });
  mkdirSync(instructor, { mode: 0o755 });
  writeFileSync(join(instructor, 'bareme.json'), '{"secret": true}', { mode: 0o644 });
  writeFileSync(join(instructor, 'notes.csv'), 'id,note\n', { mode: 0o644 });
  for (const [id, cells] of Object.entries(CLASSIFICATION_CELLS)) writeSubmission(join(classDir, id), cells);
  writeSubmission(join(classDir, 'invalid-json'), { raw: '{ "cells": [ {"cell_type": "code", "sour' });
  if (isolated) {
    writeSubmission(join(classDir, 'vandal'), vandalCells({ deleteFile: join(instructor, 'bareme.json'), overwriteFile: join(instructor, 'notes.csv'), deleteFolder: join(classDir, 'good') }));
  }
  snapshot = new Map(discoverSubmissions(classDir, fixtureSpec()).map((s) => [s.id, readFileSync(join(s.dir, 'classification.ipynb'), 'utf8')]));
  const scratchRoot = makeScratchRoot();
  const results = await gradeClass(discoverSubmissions(classDir, fixtureSpec()), { spec: fixtureSpec(), execute: true, sandbox, jobs: 3, scratchRoot });
  for (const grade of results) grades.set(grade.id, grade);
  writeReports(reportDir, { title: fixtureSpec().title, gradedAt: new Date().toISOString(), executed: true, sandbox: sandbox.mode, submissions: results });
}, 900_000);

afterAll(() => folder.cleanup());

test('the good submission gets full marks, its model measured by the grader', () => {
  const good = grades.get('good')!;
  expect(good.checks.filter((c) => !c.passed)).toEqual([]);
  expect(good.score).toBe(good.maxScore);
  expect(good.accuracy).toBeGreaterThan(0.6);
  expect(good.confusion?.flat().reduce((a, b) => a + b, 0)).toBe(10_000);
});

test('no modele/: only the model checks fail, saying the folder is missing', () => {
  expect(check('no-model', 'classification-runs').passed).toBe(true);
  expect(check('no-model', 'model-files').message).toMatch(/modele\/ absent/);
  expect(failedChecks('no-model')).toEqual(['test-model-runs', 'model-files', 'model-architecture', 'test-accuracy', 'reported-accuracy', 'test-model-predictions']);
});

test('truncated weights: model-files says the weights file is truncated', () => {
  expect(check('truncated-weights', 'model-files').passed).toBe(false);
  expect(check('truncated-weights', 'model-files').message).toMatch(/modele\.weights\.bin : 1000 octets .* tronqué/);
});

test('random weights with a printed "Précision: 0.95": the grader measures ~0.1 and says the printed figure is not the model\'s', () => {
  expect(check('random-weights', 'model-files').passed).toBe(true);
  expect(check('random-weights', 'model-architecture').passed).toBe(true);
  expect(grades.get('random-weights')!.accuracy).toBeLessThan(0.3);
  expect(check('random-weights', 'test-accuracy').points).toBe(0);
  expect(check('random-weights', 'reported-accuracy').message).toMatch(/affiche Précision 0\.9500 mais le modèle sauvegardé n’obtient que 0\.[0-2]/);
});

test('a syntax error fails classification-runs at that cell', () => {
  expect(check('syntax-error', 'classification-runs').passed).toBe(false);
  expect(check('syntax-error', 'classification-runs').message).toMatch(/classification\.ipynb, cellule 2 : .+/);
});

test('an infinite loop is stopped at the cell time limit', () => {
  expect(check('infinite-loop', 'classification-runs').message).toMatch(/cellule 2 : plus de 40 s sans finir/);
  expect(grades.get('infinite-loop')!.durationMs).toBeLessThan(200_000);
});

test('process.exit in a cell: the kernel death is reported with its exit code', () => {
  expect(check('kills-kernel', 'classification-runs').message).toMatch(/cellule 2 : le noyau s’est arrêté .*code de sortie 3/);
});

test('a model with the wrong input shape fails model-architecture', () => {
  expect(check('wrong-input-shape', 'model-files').passed).toBe(true);
  expect(check('wrong-input-shape', 'model-architecture').message).toMatch(/entrée \[null, 32, 32, 1\] au lieu de \[null, 28, 28, 1\]/);
});

test('a notebook that is not valid JSON fails notebooks-valid, naming the file', () => {
  expect(check('invalid-json', 'notebooks-valid').message).toMatch(/classification\.ipynb.*JSON/);
  expect(check('invalid-json', 'classification-runs').passed).toBe(false);
});

test('a submission that fills memory is killed at the limit and told so', () => {
  expect(check('fills-memory', 'classification-runs').message).toMatch(/mémoire dépassée : \d+ Mo utilisés pour une limite de 3000 Mo/);
});

needsTool(isolated, `an isolating sandbox (${sandbox.reason})`, 'apt-get install bubblewrap (npm install does it as root on Debian)').test('a submission that deletes or overwrites files outside its scratch folder harms nothing', () => {
  expect(readFileSync(join(instructor, 'bareme.json'), 'utf8')).toBe('{"secret": true}');
  expect(readFileSync(join(instructor, 'notes.csv'), 'utf8')).toBe('id,note\n');
  expect(existsSync(join(classDir, 'good', 'classification.ipynb'))).toBe(true);
  // bubblewrap: the targets do not exist in the sandbox (rmSync with force ignores a missing folder); setpriv: no permission.
  expect(check('vandal', 'classification-runs').message).toMatch(sandbox.mode === 'bubblewrap' ? /refusé : ENOENT ENOENT ok/ : /refusé : EACCES EACCES EACCES/);
});

test('no submission was modified by grading', () => {
  for (const [id, text] of snapshot) expect(readFileSync(join(classDir, id, 'classification.ipynb'), 'utf8')).toBe(text);
  expect(existsSync(join(classDir, 'good', 'modele'))).toBe(false);
});

test('grades.json, grades.csv and junit.xml describe the class run', () => {
  const json = JSON.parse(readFileSync(join(reportDir, 'grades.json'), 'utf8'));
  expect(json.submissions.map((s: { id: string }) => s.id)).toEqual([...grades.keys()]);
  for (const submission of json.submissions) {
    expect(Object.keys(submission)).toEqual(expect.arrayContaining(['id', 'score', 'maxScore', 'passed', 'checks']));
    expect(submission.checks.map((c: { id: string }) => c.id)).toEqual([...CHECK_IDS]);
    for (const c of submission.checks) expect(Object.keys(c).sort()).toEqual(['id', 'maxPoints', 'message', 'passed', 'points']);
    expect(submission.score).toBeCloseTo(submission.checks.reduce((sum: number, c: { points: number }) => sum + c.points, 0), 5);
  }
  const csv = readFileSync(join(reportDir, 'grades.csv'), 'utf8').replace(/^\ufeff/, '').trim().split('\r\n');
  expect(csv[0]).toBe(['id', 'name', 'participant', 'score', 'maxScore', 'passed', 'accuracy', ...CHECK_IDS].join(','));
  expect(csv).toHaveLength(grades.size + 1);
  expect(csv.find((row) => row.startsWith('good,'))).toMatch(/^good,good,,20,20,true,0\.\d{4},/);
  const junit = readFileSync(join(reportDir, 'junit.xml'), 'utf8');
  const failures = [...grades.values()].reduce((n, g) => n + g.checks.filter((c) => !c.passed).length, 0);
  expect(junit).toContain(`failures="${failures}"`);
  expect((junit.match(/<testsuite /g) ?? []).length).toBe(grades.size);
  expect((junit.match(/<failure /g) ?? []).length).toBe(failures);
});


needsChromium().test('a feedback page opens in Chromium: checks, points and the confusion matrix (screenshot in reports/grading/)', async () => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`file://${join(reportDir, 'feedback', 'random-weights.html')}`);
    expect(await page.locator('h1').textContent()).toBe('random-weights');
    expect(await page.locator('.sub').first().textContent()).toContain('Fashion-MNIST');
    expect(await page.locator('.score').textContent()).toMatch(/\/ 20 points/);
    expect(await page.locator('table').first().locator('tr').count()).toBe(CHECK_IDS.length + 1);
    expect(await page.locator('table.cm td').count()).toBe(10 * 11);
    expect(await page.textContent('body')).toContain('la précision affichée n’est pas celle du modèle rendu');
    const shots = join(PROJECT_ROOT, 'reports', 'grading');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'feedback-random-weights.png'), fullPage: true });
    await page.goto(`file://${join(reportDir, 'index.html')}`);
    expect(await page.locator('table tr').count()).toBe(grades.size + 1);
    await page.screenshot({ path: join(shots, 'class-index.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

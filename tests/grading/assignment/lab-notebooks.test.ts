/**
 * The student version of the lab's two notebooks (`npm run assignment`): a blank with its own
 * French stub around each step the course makes the student write; every cell type-checks as
 * tslab checks it; on the project's kernel in quick mode each notebook runs up to its first blank
 * and stops there with that step's French message (and, with the earlier steps written, at the
 * next one); the grader's run check on the untouched version names that step and the steps left.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pendingSteps } from '../../../grading/assignment/steps';
import { makeAssignment, stripSolutions, studentNotebook } from '../../../grading/assignment/student-version';
import type { GradingContext } from '../../../grading/grader/steps/context';
import { judgeRun } from '../../../grading/grader/steps/execute-notebooks';
import { DEFAULT_SPEC } from '../../../grading/grader/spec';
import { executeNotebook, type ExecutionResult, type Notebook } from '../../../grading/runner';
import { readNotebook, validateNotebookJson } from '../../../grading/runner/nbformat';
import { stepOfMessage } from '../../../lib/exercise';
import { PROJECT_ROOT } from '../../../lib/paths';
import { projectKernelSpec } from '../../../scripts/setup/kernel';
import { runTsCli } from '../../helpers/cli';
import { temporaryFolder } from '../../helpers/fixtures';

const NOTEBOOKS = join(PROJECT_ROOT, 'notebooks');
const folder = temporaryFolder('assignment-lab-');
const out = join(folder.dir, 'assignment');
const modelFolder = join(folder.dir, 'modele');
afterAll(() => folder.cleanup());

/** The steps of each notebook, in order: the region's step must match (one blank may hold two calls of the same step). */
const STEPS: Record<string, { cell: number; step: RegExp }[]> = {
  'classification.ipynb': [
    { cell: 4, step: /^répartir en apprentissage et validation \(trainValidationSplit, subset\)$/ },
    { cell: 6, step: /one-hot \(labelsToOneHot\)$/ },
    { cell: 6, step: /28 x 28 x 1 divisés par 255 \(imagesToTensor\)$/ },
    { cell: 8, step: /^préparer les données de test/ },
    { cell: 10, step: /^les couches du réseau à une convolution/ },
    { cell: 12, step: /^compiler le modèle \(model\.compile\)$/ },
    { cell: 12, step: /^entraîner le modèle \(model\.fit\)$/ },
    { cell: 13, step: /^évaluer le modèle sur le test et afficher Erreur et Précision/ },
    { cell: 17, step: /^les réglages de l’augmentation \(AugmentationOptions\)$/ },
    { cell: 19, step: /^entraîner sur les données augmentées \(fitDataset, augmentedDataset\)$/ },
    { cell: 20, step: /^évaluer le modèle après l’augmentation/ },
    { cell: 22, step: /^sauvegarder le modèle dans modele\/ \(saveModel\)$/ },
    { cell: 26, step: /^les couches du réseau à quatre convolutions \(optionnel/ },
  ],
  'test_model.ipynb': [
    { cell: 4, step: /^charger le modèle sauvegardé \(loadModel\)$/ },
    { cell: 9, step: /^préparer la photo pour le modèle \(preprocessPhoto, photosToTensor\)$/ },
    { cell: 9, step: /^prédire la catégorie de la photo \(modele\.predict\)$/ },
    { cell: 9, step: /^afficher le verdict et le pourcentage de chaque catégorie/ },
  ],
};

const solution = (name: string): Notebook => readNotebook(join(NOTEBOOKS, name));
const student = (name: string): Notebook => readNotebook(join(out, name));
const text = (value: string | string[]): string => (Array.isArray(value) ? value.join('') : value);

/** Everything a cell printed (streams and text/plain), for messages. */
function printed(notebook: Notebook, index: number): string {
  const cell = notebook.cells[index];
  if (cell.cell_type !== 'code') return '';
  return cell.outputs.map((o) => (o.output_type === 'stream' ? text(o.text) : o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : '')).join('');
}

/** Runs a notebook (a file, or the version `solved` leaves) in quick mode on the project's kernel, as scripts/lab.ts does. */
function runQuick(input: string | Notebook): Promise<ExecutionResult> {
  const kernel = projectKernelSpec();
  return executeNotebook(input, {
    argv: kernel.argv,
    cwd: PROJECT_ROOT,
    // Quick mode, and a model folder of the test's own: modele/ and .cache/modele-quick/ are not touched.
    env: { ...process.env, ...kernel.env, ANALYSE_IMAGE_QUICK: '1', ANALYSE_IMAGE_MODELE: modelFolder },
    cellTimeoutMs: 300_000,
  });
}

/** Asserts the run stopped at cell `cell` (1-based) on the French message of a step matching `step`, everything before it fine. */
function expectStoppedAt(run: ExecutionResult, cell: number, step: RegExp): void {
  const failed = run.cells.filter((c) => c.failed);
  expect(failed.map((c) => c.index + 1)).toEqual([cell]);
  for (const c of run.cells) {
    if (c.index + 1 < cell) expect([c.index + 1, c.status]).toEqual([c.index + 1, 'ok']);
    if (c.index + 1 > cell) expect([c.index + 1, c.status, c.skipReason]).toEqual([c.index + 1, 'skipped', 'after-error']);
  }
  const output = printed(run.notebook, cell - 1);
  // The student sees the step's French message alone: no TypeScript error, no stack trace.
  expect(output).toMatch(/^Étape à compléter « .+ » : remplacez l’appel aCompleter\(…\) par votre code/m);
  expect(stepOfMessage(output)).toMatch(step);
  expect(output).not.toMatch(/\d+:\d+ - |\n\s+at /);
  expect(stepOfMessage(failed[0].error?.evalue ?? '')).toMatch(step);
}

beforeAll(() => {
  makeAssignment(NOTEBOOKS, out, { files: Object.keys(STEPS) });
});

describe('the lab’s student version', () => {
  it('has a solution region with its own French stub around each step: 13 in classification, 4 in test_model', () => {
    for (const [name, steps] of Object.entries(STEPS)) {
      const regions = solution(name).cells.flatMap((cell) => (cell.cell_type === 'code' ? stripSolutions(cell.source).found : []));
      expect([name, regions.length]).toEqual([name, steps.length]);
      expect(studentNotebook(solution(name), name).regions).toBe(steps.length);
      for (const region of regions) {
        // Each stub says what to write in French, then stands for the step with aCompleter.
        expect(region.stub).toMatch(/^\s*\/\/ À COMPLÉTER( \(partie optionnelle\))? : \S/);
        expect(region.stub).toMatch(/aCompleter(<[^>]+>)?\('[^']+'\)/);
      }
      // The solution runs no blank (its stubs are comments); the student version has one per step, in order.
      expect(pendingSteps(solution(name))).toEqual([]);
      const pending = pendingSteps(student(name));
      expect(pending.map((p) => p.cell + 1)).toEqual(steps.map((s) => s.cell));
      pending.forEach((p, i) => expect(p.step).toMatch(steps[i].step));
    }
  });

  it('is valid nbformat with no solution, stub marker or output left, and keeps the prose, the imports and the plots', () => {
    for (const name of Object.keys(STEPS)) {
      const json = JSON.parse(readFileSync(join(out, name), 'utf8'));
      expect(validateNotebookJson(json)).toEqual([]);
      const raw = JSON.stringify(json);
      for (const leak of ['BEGIN SOLUTION', 'END SOLUTION', '/* STUB', 'trainValidationSplit(observations', 'const modele = await loadModel();', 'modele.predict(entree) as']) expect(raw).not.toContain(leak);
      const ours = student(name);
      const theirs = solution(name);
      expect(ours.cells.map((c) => c.id)).toEqual(theirs.cells.map((c) => c.id));
      ours.cells.forEach((cell, i) => {
        if (cell.cell_type === 'code') expect([i, cell.outputs, cell.execution_count]).toEqual([i, [], null]);
        // Cells without a blank (prose, imports, plots) are the solution's, word for word.
        if (!theirs.cells[i].source.includes('BEGIN SOLUTION')) expect(cell.source).toBe(theirs.cells[i].source);
      });
      expect(ours.metadata.kernelspec).toEqual(theirs.metadata.kernelspec);
    }
  });

  it('type-checks cell by cell as tslab does, every cell and not only up to the first blank', async () => {
    // A stub that forgot to declare what a later cell uses is caught the same way.
    const broken = join(folder.dir, 'broken.ipynb');
    const cells = ["import { aCompleter } from './lib/exercise';\nimport type { Tensor2D } from '@tensorflow/tfjs-node';", "const y_test: Tensor2D = aCompleter('préparer y_test');\naCompleter('compiler');", "for (const n of [1]) console.log(y_test.shape, n);", "aCompleter('oubli');", 'console.log(x_test.shape);'];
    writeFileSync(broken, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: cells.map((source, i) => ({ id: `c${i}`, cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null })) }));
    const run = await runTsCli(join(PROJECT_ROOT, 'grading', 'assignment', 'typecheck.ts'), [join(out, 'classification.ipynb'), join(out, 'test_model.ipynb'), broken]);
    expect(run.stdout).toContain(`${join(out, 'classification.ipynb')}: every code cell type-checks`);
    expect(run.stdout).toContain(`${join(out, 'test_model.ipynb')}: every code cell type-checks`);
    expect(run.stdout.split('\n').filter((line) => line.startsWith(broken))).toEqual([expect.stringMatching(`^${broken}: cell 5, line 1: Cannot find name 'x_test'.`)]);
    expect(run.code).toBe(1);
  }, 120_000);

  it('runs in quick mode up to its first blank, which stops each notebook with its French message; the grader names that step and lists those left', async () => {
    const runs = { classification: await runQuick(join(out, 'classification.ipynb')), testModel: await runQuick(join(out, 'test_model.ipynb')) };
    expectStoppedAt(runs.classification, 4, STEPS['classification.ipynb'][0].step);
    expectStoppedAt(runs.testModel, 4, STEPS['test_model.ipynb'][0].step);

    // The grader's run check on these very runs (its sandboxed runs are the same kernel; npm run grade was checked by hand).
    const ctx = { spec: DEFAULT_SPEC, execute: true, checks: [], notebooks: {
      classification: { file: 'classification.ipynb', submitted: student('classification.ipynb'), run: runs.classification },
      testModel: { file: 'test_model.ipynb', submitted: student('test_model.ipynb'), run: runs.testModel },
    } } as unknown as GradingContext;
    judgeRun(ctx, 'classification');
    judgeRun(ctx, 'testModel');
    const [classification, testModel] = ctx.checks;
    expect(classification.passed).toBe(false);
    expect(classification.message).toMatch(/^classification\.ipynb, cellule 4 : étape à compléter « répartir en apprentissage et validation \(trainValidationSplit, subset\) » \(l’appel aCompleter\(…\) n’a pas encore été remplacé par votre code\) \(14 cellules suivantes non exécutées\)\. 13 étapes restent à compléter : « répartir/);
    expect(classification.message).toContain('« sauvegarder le modèle dans modele/ (saveModel) » (cellule 22)');
    expect(testModel.message).toMatch(/^test_model\.ipynb, cellule 4 : étape à compléter « charger le modèle sauvegardé \(loadModel\) » .*4 étapes restent à compléter : .*« afficher le verdict et le pourcentage de chaque catégorie \(console\.log\) » \(cellule 9\)\.$/);
  }, 300_000);

  it('with the required steps written, trains and saves the model, then stops at the optional part; test_model then stops at the verdict', async () => {
    // As a student who wrote every step but the optional four-conv network (the last region).
    const classification = studentNotebook(solution('classification.ipynb'), 'classification.ipynb', { solved: (n) => n < 12 }).notebook;
    const run = await runQuick(classification);
    expectStoppedAt(run, 26, /quatre convolutions/);
    for (const cell of [13, 20]) expect(printed(run.notebook, cell - 1)).toMatch(/^Précision: 0\.\d+$/m);
    expect(printed(run.notebook, 21)).toContain('Modèle sauvegardé !');
    expect(existsSync(join(modelFolder, 'modele.json'))).toBe(true);
    // The course marks that part optional: the grader's run check passes, saying it was not done.
    const ctx = { spec: DEFAULT_SPEC, execute: true, checks: [], notebooks: { classification: { file: 'classification.ipynb', submitted: classification, run } } } as unknown as GradingContext;
    judgeRun(ctx, 'classification');
    expect(ctx.checks[0]).toMatchObject({ id: 'classification-runs', passed: true, message: expect.stringMatching(/Partie optionnelle non faite \(sans effet sur la note\) : cellule 26 : étape à compléter « les couches du réseau à quatre convolutions/) });

    // test_model with the model loaded, the photo prepared and the prediction made, the verdict not written.
    const testModel = studentNotebook(solution('test_model.ipynb'), 'test_model.ipynb', { solved: (n) => n < 3 }).notebook;
    const verdict = await runQuick(testModel);
    expectStoppedAt(verdict, 9, /^afficher le verdict/);
    const loop = verdict.notebook.cells[8];
    // The first photo was prepared and shown, its name printed, and the blank stopped the loop there.
    expect(loop.cell_type === 'code' && loop.outputs.some((o) => o.output_type === 'display_data' && 'image/png' in o.data)).toBe(true);
    expect(printed(verdict.notebook, 8)).toMatch(/^baskets\.webp\nÉtape à compléter/);
  }, 600_000);
});

/**
 * `npm run verifier`, real runs: the reference solution (the solution notebooks executed in quick
 * mode with the model they saved, and a bareme.json with a bar a quick model reaches) passes
 * everything with exit 0; the untouched student version, typed as a student would in the folder
 * `npm run assignment` wrote, and a copy whose notebook no longer runs from the top fail with the
 * grader's French messages and exit 1; the folders checked are never modified.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { executeNotebook } from '../../../grading/runner';
import { readNotebook, writeNotebook } from '../../../grading/runner/nbformat';
import { PROJECT_ROOT } from '../../../lib/paths';
import { projectKernelSpec } from '../../../scripts/setup/kernel';
import { temporaryFolder } from '../../helpers/fixtures';

const folder = temporaryFolder('verifier-cli-');
const reference = join(folder.dir, 'solution');
const CLI = join(PROJECT_ROOT, 'grading', 'cli', 'verifier.ts');
const TSX = join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
// The student version must sit in the project (its notebooks import ./lib from the root): a folder of our own under the ignored .cache/.
mkdirSync(join(PROJECT_ROOT, '.cache'), { recursive: true });
const inProject = mkdtempSync(join(PROJECT_ROOT, '.cache', 'verifier-test-'));
afterAll(() => {
  folder.cleanup();
  rmSync(inProject, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (async: the test's own event loop keeps turning). */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const verifier = (args: string[], cwd = folder.dir, env: NodeJS.ProcessEnv = {}) => run(process.execPath, [TSX, CLI, ...args], cwd, env);

/** Every file under `dir` with a hash of its bytes: equal before and after means nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub)).sort()) {
      const rel = sub ? `${sub}/${entry}` : entry;
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else files[rel] = createHash('sha256').update(readFileSync(join(dir, rel))).digest('hex');
    }
  };
  walk('');
  return files;
}

beforeAll(async () => {
  // The reference solution as a student who ran it would hand it in: executed notebooks and the model they saved.
  const kernel = projectKernelSpec();
  for (const name of ['classification.ipynb', 'test_model.ipynb']) {
    const result = await executeNotebook(join(PROJECT_ROOT, 'notebooks', name), {
      argv: kernel.argv,
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...kernel.env, ANALYSE_IMAGE_QUICK: '1', ANALYSE_IMAGE_MODELE: join(reference, 'modele') },
      cellTimeoutMs: 300_000,
    });
    if (result.cells.some((c) => c.failed)) throw new Error(`${name} failed in quick mode: ${JSON.stringify(result.cells.find((c) => c.failed))}`);
    writeNotebook(join(reference, name), result.notebook);
  }
  // A quick model reaches about 0.73, and prints its accuracy on 1 000 test images only: the class's spec for this check.
  writeFileSync(join(reference, 'bareme.json'), JSON.stringify({ accuracy: { pass: 0.5, bands: [], reportedTolerance: 0.05 } }));
}, 240_000);

test('--help in French; exit 2 with a French message for a missing folder, a folder without notebooks, a bad spec', async () => {
  const help = await verifier(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Vérification avant de rendre le TP « Analyse d'image »/);
  expect(help.stdout).toContain('Usage : npm run verifier -- [DOSSIER] [options]');
  expect(help.stdout).toMatch(/--no-execute +sans l'exécution rapide/);
  const missing = await verifier(['absent']);
  expect([missing.code, missing.stderr]).toEqual([2, 'Vérification : absent n’existe pas.\nVoir npm run verifier -- --help.\n']);
  const empty = await verifier([], mkdtempSync(join(folder.dir, 'vide-')));
  expect(empty.code).toBe(2);
  expect(empty.stderr).toMatch(/ne contient ni classification\.ipynb ni test_model\.ipynb/);
  writeFileSync(join(folder.dir, 'mauvais.json'), '{"accuracy": {"pass": 2}}');
  const badSpec = await verifier([reference, '--spec', 'mauvais.json']);
  expect(badSpec.code).toBe(2);
  expect(badSpec.stderr).toMatch(/mauvais\.json: "accuracy\.pass" doit être entre 0 et 1/);
}, 60_000);

test('npm run verifier on the reference solution: every check passes in both runs, 20 / 20, exit 0, the folder untouched', async () => {
  const before = snapshot(reference);
  const result = await run('npm', ['run', 'verifier', '--', reference], PROJECT_ROOT);
  expect(result.stderr).not.toMatch(/Erreur interne/);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`Barème : ${join(reference, 'bareme.json')} (le barème joint au dossier) (20 points ; tous les points de précision à partir de 0,5)`);
  expect(result.stdout).toContain(`Modèle : ${join(reference, 'modele')}/ (le dossier modele/ à côté des notebooks)`);
  expect(result.stdout.match(/^✔ /gm)).toHaveLength(9);
  expect(result.stdout).not.toMatch(/^✘/m);
  expect(result.stdout).toMatch(/^ {4}rapide : classification\.ipynb : \d+ cellules exécutées sans erreur en [\d.]+ s\.$/m);
  expect(result.stdout).toMatch(/^ {4}rapide : test_model\.ipynb : 5 cellules exécutées sans erreur/m);
  expect(result.stdout).toMatch(/^ {4}enregistré : Précision mesurée par le correcteur sur les 10\s000 images de test : 0\.\d{4} .* ≥ 0\.5 : tous les points\.$/m);
  expect(result.stdout).toMatch(/^ {4}enregistré : Les 6 verdicts de test_model\.ipynb sont ceux que le correcteur obtient/m);
  expect(result.stdout).toContain('Points attendus : 20 / 20');
  expect(result.stdout).toMatch(/✔ Les 8 vérifications réussissent, et vos notebooks s’exécutent de bout en bout : vous pouvez rendre .*classification\.ipynb, .*test_model\.ipynb et .*modele\/\.\n$/);
  // Progress lines during the quick run, cell by cell.
  expect(result.stderr).toContain('2/2 Exécution rapide des deux notebooks (ANALYSE_IMAGE_QUICK=1)');
  expect(result.stderr).toMatch(/^ {2}\[\d+ s\] classification\.ipynb : cellule 1\/\d+$/m);
  expect(result.stderr).toMatch(/^ {2}\[\d+ s\] test_model\.ipynb : cellule 5\/5$/m);
  expect(snapshot(reference)).toEqual(before);

  // --no-execute: the stored outputs and the model alone, in seconds, and it says what was not checked.
  const stored = await verifier([reference, '--no-execute']);
  expect(stored.code).toBe(0);
  expect(stored.stdout).toContain('Points attendus : 20 / 20.');
  expect(stored.stdout).toContain('Attention : l’exécution rapide n’a pas été faite (--no-execute)');
  expect(stored.stderr).not.toContain('2/2');
}, 300_000);

test('npm run verifier typed in the untouched student version: each blank named, the steps left listed, exit 1', async () => {
  const made = await run('npm', ['run', 'assignment', '--', '--out', join(inProject, 'assignment')], PROJECT_ROOT);
  expect(made.code).toBe(0);
  const assignment = join(inProject, 'assignment');
  expect(existsSync(join(assignment, 'AVANT-DE-RENDRE.md'))).toBe(true);
  const before = snapshot(assignment);
  // The notebooks save the model where ANALYSE_IMAGE_MODELE says: a folder of the test's, still empty, rather than the project's modele/.
  const result = await run('npm', ['run', 'verifier'], assignment, { ANALYSE_IMAGE_MODELE: join(inProject, 'modele') });
  expect(result.stderr).not.toMatch(/Erreur interne/);
  expect(result.code).toBe(1);
  expect(result.stdout).toContain('Notebooks : classification.ipynb, test_model.ipynb');
  expect(result.stdout).toContain('(celui de ANALYSE_IMAGE_MODELE, où vos notebooks le sauvegardent ; ce dossier n’existe pas)');
  expect(result.stdout).toContain('✘ classification.ipynb s’exécute sans erreur : 0 / 3');
  expect(result.stdout).toMatch(/^ {4}rapide : classification\.ipynb, cellule 4 : étape à compléter « répartir en apprentissage et validation \(trainValidationSplit, subset\) » \(l’appel aCompleter\(…\) n’a pas encore été remplacé par votre code\)/m);
  expect(result.stdout).toMatch(/^ {4}rapide : test_model\.ipynb, cellule 4 : étape à compléter « charger le modèle sauvegardé \(loadModel\) »/m);
  expect(result.stdout).toMatch(/^ {4}13 étapes restent à compléter : « répartir en apprentissage et validation .*« sauvegarder le modèle dans modele\/ \(saveModel\) » \(cellule 22\)/m);
  expect(result.stdout).toMatch(/^ {4}4 étapes restent à compléter : « charger le modèle sauvegardé \(loadModel\) » \(cellule 4\)/m);
  expect(result.stdout).toMatch(/^ {4}enregistré : classification\.ipynb, cellule \d+ : jamais exécutée/m);
  expect(result.stdout).toContain('Points attendus : 1 / 20');
  expect(result.stdout).toContain('✘ 7 vérifications sur 8 échouent : corrigez ce qui est marqué ✘ avant de rendre votre travail.');
  expect(snapshot(assignment)).toEqual(before);
}, 180_000);

test('a copy whose stored outputs are fine but whose notebook no longer runs from the top: the quick run says where, exit 1', async () => {
  const broken = join(folder.dir, 'casse');
  cpSync(reference, broken, { recursive: true });
  // Renamed in one cell and never run again: the stored outputs still show the old run.
  const notebook = readNotebook(join(broken, 'classification.ipynb'));
  const cell = notebook.cells.find((c) => c.cell_type === 'code' && c.source.includes('const observations_entrainement'))!;
  cell.source = cell.source.replace('const observations_entrainement', 'const observations_apprentissage');
  writeNotebook(join(broken, 'classification.ipynb'), notebook);
  const result = await verifier([broken]);
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/^✘ classification\.ipynb s’exécute sans erreur : 0 \/ 3\n {4}rapide : classification\.ipynb, cellule \d+ : TypeScriptError: .*Cannot find name 'observations_entrainement'/m);
  // No model from that run: what the grader would then give (it starts from an empty modele/).
  expect(result.stdout).toMatch(/^✘ Les fichiers du modèle \(modele\/\) sont complets : 0 \/ 2\n {4}rapide : dossier modele\/ absent/m);
  expect(result.stdout).toContain('(le correcteur exécute classification.ipynb sur un dossier modele/ vide et note le modèle qu’il sauvegarde');
  expect(result.stdout).toMatch(/^✔ Précision du modèle sur les 10\s000 images de test : 8 \/ 8$/m);
  expect(result.stdout).toContain('Points attendus : 10 / 20');
}, 180_000);

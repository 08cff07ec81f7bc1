/** `npm run grade`: exit codes, reports, and errors that name what is wrong. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/paths';
import { temporaryFolder } from '../../helpers/fixtures';

const folder = temporaryFolder('grading-cli-');
const classDir = join(folder.dir, 'classe');
const specFile = join(folder.dir, 'bareme.json');
let accuracy = 0;

function grade(...args: string[]) {
  return spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(PROJECT_ROOT, 'grading', 'cli', 'grade.ts'), ...args], { encoding: 'utf8', cwd: folder.dir, timeout: 170_000 });
}

beforeAll(async () => {
  const build = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(__dirname, 'stored-submission.ts'), classDir, 'alice=true', 'bob=0.97'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`building the fixtures failed: ${build.stderr}`);
  accuracy = JSON.parse(build.stdout.trim().split('\n').pop()!).accuracy;
  writeFileSync(specFile, JSON.stringify({ accuracy: { pass: 0.6, bands: [] } }));
}, 120_000);

afterAll(() => folder.cleanup());

test('--help explains usage and exits 0', () => {
  const run = grade('--help');
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/Usage : npm run grade -- <chemin>/);
  expect(run.stdout).toMatch(/--no-execute/);
});

test('exit 2 with a clear message: no path, a missing path, a bad spec, a report inside the graded folder', () => {
  expect(grade().stderr).toMatch(/indiquez le dossier à corriger/);
  const missing = grade(join(folder.dir, 'absent'));
  expect(missing.status).toBe(2);
  expect(missing.stderr).toMatch(/absent n’existe pas/);
  writeFileSync(join(folder.dir, 'mauvais.json'), '{"accuracy": {"pass": 2}}');
  const badSpec = grade(classDir, '--spec', join(folder.dir, 'mauvais.json'));
  expect(badSpec.status).toBe(2);
  expect(badSpec.stderr).toMatch(/mauvais\.json: "accuracy\.pass" doit être entre 0 et 1/);
  const inside = grade(classDir, '--report', join(classDir, 'notes'));
  expect(inside.status).toBe(2);
  expect(inside.stderr).toMatch(/est dans le dossier corrigé/);
  expect(grade(classDir, '--jobs', 'zero').stderr).toMatch(/--jobs attend un nombre positif/);
});

test('one submission with stored outputs: full marks, exit 0, reports written', () => {
  const report = join(folder.dir, 'rapport-alice');
  const run = grade(join(classDir, 'alice'), '--no-execute', '--spec', specFile, '--report', report);
  expect(run.stderr).not.toMatch(/Erreur interne/);
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/alice\s+20 \/ 20\s+0\.\d{4}\s+réussi/);
  for (const file of ['grades.json', 'grades.csv', 'junit.xml', 'index.html', 'feedback/alice.html']) expect(existsSync(join(report, file))).toBe(true);
  const grades = JSON.parse(readFileSync(join(report, 'grades.json'), 'utf8'));
  expect(grades.submissions[0].accuracy).toBeCloseTo(accuracy, 4);
});

test('a class where one submission prints an accuracy its model does not have: exit 1, only that one fails', () => {
  const report = join(folder.dir, 'rapport-classe');
  const before = readFileSync(join(classDir, 'bob', 'classification.ipynb'), 'utf8');
  const run = grade(classDir, '--no-execute', '--spec', specFile, '--report', report, '--jobs', '2');
  expect(run.status).toBe(1);
  const grades = JSON.parse(readFileSync(join(report, 'grades.json'), 'utf8'));
  expect(grades.submissions.map((s: { id: string; passed: boolean }) => [s.id, s.passed])).toEqual([['alice', true], ['bob', false]]);
  const bob = grades.submissions[1].checks.filter((c: { passed: boolean }) => !c.passed);
  expect(bob.map((c: { id: string }) => c.id)).toEqual(['reported-accuracy']);
  expect(bob[0].message).toMatch(/affiche Précision 0\.9700 mais le modèle sauvegardé n’obtient que/);
  expect(readFileSync(join(classDir, 'bob', 'classification.ipynb'), 'utf8')).toBe(before);
});

test('reports are replaced atomically: no temporary file is left behind', () => {
  const report = join(folder.dir, 'rapport-alice');
  mkdirSync(report, { recursive: true });
  grade(join(classDir, 'alice'), '--no-execute', '--spec', specFile, '--report', report);
  expect(spawnSync('sh', ['-c', `ls -A ${report} ${report}/feedback | grep -c '\\.tmp$' || true`], { encoding: 'utf8' }).stdout.trim()).toBe('0');
  rmSync(report, { recursive: true, force: true });
});

test('npm run grade typed in a subfolder: relative paths are read from there, not from the project root', () => {
  const typedIn = join(PROJECT_ROOT, 'reports', `test-dossier-tape-${process.pid}`);
  mkdirSync(typedIn, { recursive: true });
  try {
    writeFileSync(join(typedIn, 'bareme-local.json'), JSON.stringify({ accuracy: { pass: 0.42, bands: [] } }));
    const run = spawnSync('npm', ['run', '--silent', 'grade', '--', '--print-spec', '--spec', 'bareme-local.json'], { cwd: typedIn, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).accuracy.pass).toBe(0.42);
  } finally {
    rmSync(typedIn, { recursive: true, force: true });
  }
});

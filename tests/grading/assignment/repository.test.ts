/** The students' repository (`npm run assignment -- --repo DIR --git`): the project minus the solutions, checked for leaks. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findLeaks, HANDED_OUT_NOTEBOOKS, makeStudentRepository, solutionCode } from '../../../grading/assignment/repository';
import { PROJECT_ROOT } from '../../../lib/paths';
import { temporaryFolder } from '../../helpers/fixtures';

const folder = temporaryFolder('student-repository-');
const repo = join(folder.dir, 'depot-etudiants');
let made: ReturnType<typeof makeStudentRepository>;

beforeAll(() => {
  made = makeStudentRepository(repo, { git: true });
});
afterAll(() => folder.cleanup());

test('holds the project as committed, the lab as student versions, and nothing that holds or checks a solution', () => {
  expect(readdirSync(join(repo, 'notebooks')).sort()).toEqual([...HANDED_OUT_NOTEBOOKS].sort());
  for (const left of ['notebooks/src', 'tests', '.ci', 'bench', 'templates', 'jest.config.js']) expect(existsSync(join(repo, left))).toBe(false);
  for (const kept of ['lib/exercise.ts', 'grading/cli/verifier.ts', 'scripts/setup.ts', 'images', 'AVANT-DE-RENDRE.md']) expect(existsSync(join(repo, kept))).toBe(true);
  const classification = readFileSync(join(repo, 'notebooks', 'classification.ipynb'), 'utf8');
  expect(classification.match(/aCompleter\(/g)?.length).toBeGreaterThanOrEqual(13);
  expect(classification).not.toContain('BEGIN SOLUTION');
  expect(made.assignment.regions).toBe(17);
});

test('no line of a solution region is anywhere in it', () => {
  const source = readFileSync(join(PROJECT_ROOT, 'notebooks', 'src', 'classification.nb'), 'utf8');
  // Two steps' answers (the save, the compile call), as the solution writes them.
  const answers = ['const fichiers = await saveModel(reseauNeurone1Convolution);', "reseauNeurone1Convolution.compile({ loss: 'categoricalCrossentropy', optimizer: tf.train.adam(0.001), metrics: ['accuracy'] });"];
  for (const answer of answers) expect(solutionCode(source)).toContain(answer);
  expect(findLeaks(repo, new Set(answers))).toEqual([]);
});

test('the leak check finds a solution line in any file, notebooks (JSON-escaped) included', () => {
  const probe = join(folder.dir, 'fuite');
  mkdirSync(join(probe, 'lib'), { recursive: true });
  writeFileSync(join(probe, 'lib', 'aide.ts'), '// exemple : const x = modele.predict(photo, { "batchSize": 1 });\n');
  writeFileSync(join(probe, 'n.ipynb'), JSON.stringify({ cells: [{ source: 'console.log("Selon moi l\'image est :", classe);' }] }));
  const leaks = findLeaks(probe, new Set(['const x = modele.predict(photo, { "batchSize": 1 });', 'console.log("Selon moi l\'image est :", classe);']));
  expect(leaks.map((l) => l.file).sort()).toEqual(['lib/aide.ts', 'n.ipynb']);
});

test('its package.json runs what it holds: npm test is the students\' check, no script needs the solutions', () => {
  const scripts = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).scripts as Record<string, string>;
  expect(scripts.test).toBe('npm run verifier');
  expect(scripts.notebooks).toBeUndefined();
  expect(scripts.assignment).toBeUndefined();
  for (const command of Object.values(scripts)) for (const [, file] of command.matchAll(/tsx ((?:[\w.-]+\/)+[\w.-]+\.ts)/g)) expect(existsSync(join(repo, file))).toBe(true);
});

test('is a git repository of one clean commit, and refuses a folder that is not empty', () => {
  const log = spawnSync('git', ['log', '--format=%H %s'], { cwd: repo, encoding: 'utf8' });
  expect(log.stdout.trim().split('\n')).toEqual([`${made.commit} Laboratoire « Analyse d’image » : version étudiante`]);
  expect(spawnSync('git', ['status', '--porcelain'], { cwd: repo, encoding: 'utf8' }).stdout).toBe('');
  expect(() => makeStudentRepository(repo)).toThrow(/n’est pas vide/);
});

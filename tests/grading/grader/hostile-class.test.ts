/**
 * A class with cheating and careless students, graded with execution by `npm run grade` as an
 * instructor would run it: once as root, once as an ordinary user. Each attack fails the right
 * check with a French message or is flagged, the honest students get their normal grades, the
 * exit code is 1, the grader's own memory stays under 1 GB whatever the students print, and
 * nothing outside the report folder changes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/paths';
import { temporaryFolder } from '../../helpers/fixtures';
import { needsTool } from '../../helpers/tools';
import { honestCells, hostileCells } from './hostile-submissions';
import { fixtureSpec, writeSubmission } from './submissions';

const root = process.getuid?.() === 0;
const NOBODY = 65534;
const folder = temporaryFolder('grading-hostile-');
const classDir = join(folder.dir, 'classe');
const solutionFile = join(folder.dir, 'solution-classification.ipynb');
const specFile = join(folder.dir, 'bareme.json');
const SECRET = 'SOLUTION-DE-L-ENSEIGNANT';
// The disk limit is lowered for the test (the default, 2 GB, works the same, only slower to reach).
const DISK_MB = 300;

interface GradedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The grader process's peak resident memory (VmHWM), MB. */
  peakMb: number;
  grades: { submissions: Array<Record<string, any>>; sandbox: string; sandboxReason: string };
}

let listener: Server;
const received: string[] = [];

/** Every file and folder under `dir` but `skip`, with what it holds: a change anywhere shows. */
function snapshot(dir: string, skip: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (skip.includes(full)) continue;
      const stat = lstatSync(full);
      const content = stat.isFile() ? createHash('sha256').update(readFileSync(full)).digest('hex') : stat.isSymbolicLink() ? 'link' : 'dir';
      out.set(relative(dir, full), `${stat.mode}:${stat.size}:${stat.mtimeMs}:${content}`);
      if (stat.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

/** Runs `npm run grade` on the class (as `uid` when given), polling its peak memory until it exits. */
function grade(reportDir: string, tmpDir: string, uid?: number): Promise<GradedRun> {
  const command = [process.execPath, '--require', require.resolve('tsx/cjs'), join(PROJECT_ROOT, 'grading', 'cli', 'grade.ts'), classDir, '--report', reportDir, '--spec', specFile, '--jobs', '2'];
  const argv = uid === undefined ? command : ['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', ...command];
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, HOME: tmpDir, TMPDIR: tmpDir, LANG: 'C.UTF-8' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      try {
        peakKb = Math.max(peakKb, Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0));
      } catch {
        // exited between two polls
      }
    }, 100);
    child.once('close', (code) => {
      clearInterval(poll);
      let grades: GradedRun['grades'] = { submissions: [], sandbox: '', sandboxReason: '' };
      try {
        grades = JSON.parse(readFileSync(join(reportDir, 'grades.json'), 'utf8'));
      } catch {
        // no report: the assertions below say so
      }
      resolve({ code, stdout, stderr, peakMb: peakKb / 1024, grades });
    });
  });
}

/** Builds the class: three honest students (two with the same folder name once sanitised naively), the attacks, identical submitted weights. */
function buildClass(port: number): void {
  mkdirSync(classDir, { recursive: true, mode: 0o755 });
  writeFileSync(solutionFile, JSON.stringify({ cells: [SECRET] }), { mode: 0o644 });
  writeFileSync(specFile, JSON.stringify({ ...fixtureSpecOverrides(), limits: { memoryMb: 3000, diskMb: DISK_MB } }), { mode: 0o644 });
  for (const name of ['bob smith', 'bob_smith', 'Élodie Durand']) writeSubmission(join(classDir, name), honestCells(name));
  // Bob and Bob submit the same saved model: graded on what their notebooks make, but flagged.
  const model = join(folder.dir, 'modele-partage');
  mkdirSync(model);
  writeFileSync(join(model, 'modele.json'), '{"modelTopology": {}, "weightsManifest": []}');
  writeFileSync(join(model, 'modele.weights.bin'), createHash('sha512').update('poids').digest());
  for (const name of ['bob smith', 'bob_smith']) cpSync(model, join(classDir, name, 'modele'), { recursive: true });
  for (const [name, cells] of Object.entries(hostileCells({ solutionFile, classmate: 'bob smith', port }))) writeSubmission(join(classDir, name), cells);
  // Readable by everyone, writable by the instructor only, as a course folder usually is.
  const open = (path: string) => {
    chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
    if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) open(join(path, entry));
  };
  open(folder.dir);
}

function fixtureSpecOverrides(): Record<string, unknown> {
  const spec = fixtureSpec();
  return { accuracy: spec.accuracy, timeouts: spec.timeouts };
}

function submission(run: GradedRun, name: string): Record<string, any> {
  const found = run.grades.submissions.find((s) => s.name === name);
  if (!found) throw new Error(`no grade for ${name}: ${run.grades.submissions.map((s) => s.name).join(', ')}\n${run.stderr.slice(-3000)}`);
  return found;
}

function check(run: GradedRun, name: string, id: string): { passed: boolean; points: number; message: string } {
  return submission(run, name).checks.find((c: { id: string }) => c.id === id);
}

/** What every run of this class must show, whoever runs the grader. */
function expectTheClassGradedRight(run: GradedRun): void {
  expect(run.code).toBe(1);
  // Honest students: full marks, one page each, accents kept in the name.
  for (const name of ['bob smith', 'bob_smith', 'Élodie Durand']) expect(submission(run, name).passed).toBe(true);
  const ids = run.grades.submissions.map((s) => s.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toEqual(expect.arrayContaining(['bob-smith', 'bob_smith', 'elodie-durand']));
  // The thief found no class folder, so the model graded is its own: none.
  expect(check(run, 'vole-un-camarade', 'classification-runs').passed).toBe(true);
  expect(check(run, 'vole-un-camarade', 'model-files').message).toMatch(/dossier modele\/ absent/);
  expect(check(run, 'vole-un-camarade', 'test-accuracy').points).toBe(0);
  // The file beside the class folder does not exist in the sandbox.
  expect(check(run, 'lit-la-solution', 'classification-runs').message).toMatch(/cellule 2 : .*ENOENT.*solution-classification\.ipynb/);
  // A manifest path out of modele/ is refused by name.
  expect(check(run, 'poids-hors-du-dossier', 'classification-runs').passed).toBe(true);
  expect(check(run, 'poids-hors-du-dossier', 'model-files').message).toMatch(/« \.\.\/\.\.\/bob smith\/modele\/modele\.weights\.bin » sort du dossier du modèle/);
  // No network but the sandbox's own loopback.
  expect(check(run, 'reseau', 'classification-runs').message).toMatch(/cellule 2 : .*ECONNREFUSED/);
  expect(received).toEqual([]);
  // Limits end the submission with a French message naming the limit.
  expect(check(run, 'mille-processus', 'classification-runs').message).toMatch(/limite de processus atteinte : 256 processus/);
  expect(check(run, 'disque-plein', 'classification-runs').message).toMatch(new RegExp(`limite d’espace disque atteinte : .*${DISK_MB} Mo permis`));
  // 1.5 GB printed: the notebook is graded, its output cut with a French note, the cut flagged.
  const flood = submission(run, 'inonde-la-sortie');
  expect(flood.checks.filter((c: { passed: boolean }) => !c.passed).map((c: { id: string }) => c.id)).toEqual([]);
  expect(flood.flags.map((f: { kind: string }) => f.kind)).toContain('output-truncated');
  // Identical submitted weights flagged both ways, not penalised.
  const bobs = [submission(run, 'bob smith'), submission(run, 'bob_smith')];
  expect(bobs[0].flags).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'identical-weights', with: [bobs[1].id] })]));
  expect(bobs[1].flags).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'identical-weights', with: [bobs[0].id] })]));
  expect(run.peakMb).toBeLessThan(1024);
  expect(run.grades.sandbox).toBe('bubblewrap');
}

beforeAll(async () => {
  listener = createServer((socket) => socket.on('data', (d) => received.push(String(d))));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  buildClass((listener.address() as import('node:net').AddressInfo).port);
});

afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
  folder.cleanup();
});

/** The class graded by the CLI running as `uid` (undefined: as this process, root). */
function gradedBy(who: string, uid: number | undefined): void {
  const reportDir = join(folder.dir, `rapport-${who}`);
  const tmpDir = join(folder.dir, `tmp-${who}`);
  let before: Map<string, string>;
  let run: GradedRun;

  beforeAll(async () => {
    for (const dir of [reportDir, tmpDir]) {
      mkdirSync(dir, { mode: 0o755 });
      if (uid !== undefined && root) chownSync(dir, uid, uid);
    }
    before = snapshot(folder.dir, [reportDir, tmpDir]);
    const started = Date.now();
    run = await grade(reportDir, tmpDir, uid);
    console.log(`hostile class graded by ${who}: ${run.grades.submissions.length} submissions in ${((Date.now() - started) / 1000).toFixed(0)} s, grader peak resident memory ${run.peakMb.toFixed(0)} MB, exit code ${run.code}`);
  }, 1_200_000);

  test('each attack fails the right check or is flagged, the honest students pass, exit code 1, grader under 1 GB', () => {
    expectTheClassGradedRight(run);
    expect(run.grades.sandboxReason).toMatch(uid === undefined && root ? /bubblewrap.*utilisateur système à part/ : /^(?!.*utilisateur système).*bubblewrap/);
  });

  test('nothing outside the report folder changed; the scratch folders are gone', () => {
    expect(snapshot(folder.dir, [reportDir, tmpDir])).toEqual(before);
    expect(readdirSync(tmpDir).filter((entry) => entry.startsWith('analyse-image-grading-'))).toEqual([]);
    const feedback = readdirSync(join(reportDir, 'feedback'));
    expect(feedback).toHaveLength(run.grades.submissions.length);
    expect(readFileSync(join(reportDir, 'feedback', 'elodie-durand.html'), 'utf8')).toContain('Élodie Durand');
  });

  test('what the students printed stays bounded in the executed notebooks; the secret never appears', () => {
    const flooded = statSync(join(reportDir, 'executed', submission(run, 'inonde-la-sortie').id, 'classification.executed.ipynb'));
    expect(flooded.size).toBeLessThan(3 * 1024 * 1024);
    expect(readFileSync(join(reportDir, 'executed', submission(run, 'inonde-la-sortie').id, 'classification.executed.ipynb'), 'utf8')).toMatch(/sortie tronquée/);
    const thief = readFileSync(join(reportDir, 'executed', submission(run, 'vole-un-camarade').id, 'classification.executed.ipynb'), 'utf8');
    expect(thief).toContain('dossiers de classe trouvés : 0');
    for (const name of readdirSync(join(reportDir, 'executed'))) {
      for (const file of readdirSync(join(reportDir, 'executed', name))) expect(readFileSync(join(reportDir, 'executed', name, file), 'utf8')).not.toContain(SECRET);
    }
  });
}

needsTool(root, 'root (the grader as root, then dropped to an ordinary user)', 'run the tests as root, as .ci/run does').describe('graded by root', () => gradedBy('root', undefined));
// An instructor need not be root: the same class, the grader running as an ordinary user.
describe('graded by an ordinary user', () => gradedBy('ordinaire', root ? NOBODY : undefined));

test('--no-execute: a modele.json whose weights path climbs to a classmate\'s weights is refused, even without a sandbox', async () => {
  const graded = temporaryFolder('grading-manifest-');
  try {
    const small = join(graded.dir, 'classe');
    const build = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(__dirname, 'stored-submission.ts'), small, 'camarade=true', 'tricheur=true'], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`building the fixtures failed: ${build.stderr}`);
    const jsonPath = join(small, 'tricheur', 'modele', 'modele.json');
    const description = JSON.parse(readFileSync(jsonPath, 'utf8'));
    const climb = `${'../'.repeat(12)}${join(small, 'camarade', 'modele', 'modele.weights.bin').slice(1)}`;
    description.weightsManifest[0].paths = [climb];
    writeFileSync(jsonPath, JSON.stringify(description));
    readdirSync(join(small, 'tricheur', 'modele')).filter((f) => f.endsWith('.bin')).forEach((f) => require('node:fs').rmSync(join(small, 'tricheur', 'modele', f)));
    for (const sandbox of ['auto', 'none']) {
      const report = join(graded.dir, `rapport-${sandbox}`);
      const run = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(PROJECT_ROOT, 'grading', 'cli', 'grade.ts'), small, '--no-execute', '--sandbox', sandbox, '--report', report, '--spec', specFile], { encoding: 'utf8', timeout: 170_000 });
      expect(run.status).toBe(1);
      const grades = JSON.parse(readFileSync(join(report, 'grades.json'), 'utf8'));
      const tricheur = grades.submissions.find((s: { id: string }) => s.id === 'tricheur');
      const files = tricheur.checks.find((c: { id: string }) => c.id === 'model-files');
      expect(files.passed).toBe(false);
      expect(files.message).toContain(`« ${climb} » sort du dossier du modèle`);
      expect(tricheur.checks.find((c: { id: string }) => c.id === 'test-accuracy').points).toBe(0);
      expect(grades.submissions.find((s: { id: string }) => s.id === 'camarade').passed).toBe(true);
    }
  } finally {
    graded.cleanup();
  }
}, 300_000);

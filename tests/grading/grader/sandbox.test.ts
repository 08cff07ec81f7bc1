/**
 * The sandbox on its own: what code inside a bubblewrap sandbox can see, reach and use, as root
 * and as an ordinary user, and the limits that end it. Commands are real processes; the listener
 * and the files outside are made by the test.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { bubblewrapProblem, chooseSandbox, SANDBOX_HOME, SubmissionSandbox, type LimitBreach, type SandboxChoice, type SubmissionLimits } from '../../../grading/grader/sandbox';
import { DEFAULT_SPEC } from '../../../grading/grader/spec';
import { ensureLibTypes } from '../../../grading/runner/lib-types';
import { PROJECT_ROOT } from '../../../lib/paths';
import { temporaryFolder } from '../../helpers/fixtures';
import { needsTool } from '../../helpers/tools';

const root = process.getuid?.() === 0;
const LIMITS: SubmissionLimits = { memoryMb: 2000, processes: 64, diskMb: 50, openFiles: 256 };
const NOBODY = 65534;

/** A scratch folder as prepareScratch leaves it (its own /tmp inside), owned by `uid` when given. */
function scratchFolder(parent: string, name: string, uid?: number): string {
  const dir = join(parent, name);
  mkdirSync(join(dir, '.tmp'), { recursive: true });
  mkdirSync(join(dir, 'lib'));
  mkdirSync(join(dir, 'node_modules'));
  if (uid !== undefined) for (const path of [dir, join(dir, '.tmp'), join(dir, 'lib'), join(dir, 'node_modules')]) chownSync(path, uid, uid);
  chmodSync(dir, 0o700);
  return dir;
}

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  breach?: LimitBreach;
}

/** Runs `script` (sh) in the sandbox under its limits, as the grader runs a kernel. */
async function runIn(box: SubmissionSandbox, script: string, timeoutMs = 30_000): Promise<Run> {
  box.own(box.scratchDir);
  const argv = box.wrap(['/bin/sh', '-c', script], { cwd: box.scratchDir });
  const limited = await box.withLimits(
    () =>
      new Promise<Omit<Run, 'breach'>>((resolve) => {
        const child = spawn(argv[0], argv.slice(1), { cwd: box.scratchDir, env: { PATH: '/usr/bin:/bin', HOME: `${SANDBOX_HOME}/.home` }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        box.track(child.pid);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        const timer = setTimeout(() => void box.killAll(), timeoutMs);
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stdout, stderr });
        });
      }),
  );
  await box.killAll();
  return { ...limited.value, breach: limited.breach };
}

test('the choice: bubblewrap when it works here (root or not), none on request; the reason says how to get it otherwise', () => {
  expect(chooseSandbox('none')).toEqual({ mode: 'none', reason: expect.stringContaining('--sandbox none') });
  // CI installs bubblewrap (npm install does, as root on Debian): it must be chosen, not skipped.
  expect(bubblewrapProblem()).toBeUndefined();
  const auto = chooseSandbox();
  expect(auto.mode).toBe('bubblewrap');
  expect(auto.reason).toMatch(/bubblewrap.*sans réseau/);
  if (root) expect(chooseSandbox('user').mode).toBe('user');
});

describe('bubblewrap', () => {
  const folder = temporaryFolder('sandbox-');
  const choice: SandboxChoice = chooseSandbox('bubblewrap');
  let listener: Server;
  let port = 0;
  const received: string[] = [];

  beforeAll(async () => {
    chmodSync(folder.dir, 0o755);
    // What a hostile submission would look for: a classmate's folder and the instructor's files beside the class.
    mkdirSync(join(folder.dir, 'classe', 'camarade', 'modele'), { recursive: true, mode: 0o755 });
    writeFileSync(join(folder.dir, 'classe', 'camarade', 'modele', 'modele.weights.bin'), 'poids', { mode: 0o644 });
    writeFileSync(join(folder.dir, 'solution.ipynb'), '{"secret": true}', { mode: 0o644 });
    listener = createServer((socket) => socket.on('data', (d) => received.push(String(d))));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as import('node:net').AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => listener.close(resolve));
    folder.cleanup();
  });

  test('inside: only its folder (at /soumission), the system, Node, the course and the data; no host file beside them', async () => {
    const box = SubmissionSandbox.forSubmission(choice, 0, scratchFolder(folder.dir, 'a'), LIMITS);
    const libTypes = ensureLibTypes().dir;
    const probe = [
      `pwd`,
      `echo ok > ${SANDBOX_HOME}/ecrit && cat ${SANDBOX_HOME}/ecrit`,
      `echo tmp > /tmp/t && cat /tmp/t`,
      `ls ${join(folder.dir, 'classe')} 2>&1 | head -1`,
      `cat ${join(folder.dir, 'solution.ipynb')} 2>&1 | head -1`,
      `ls /root /home /work 2>&1 | head -3`,
      `test -r ${join(PROJECT_ROOT, 'lib', 'paths.ts')} && echo lib-lisible`,
      `test -r ${join(SANDBOX_HOME, 'lib', 'paths.ts')} && echo lib-dans-le-dossier`,
      `test -x ${process.execPath} && echo node`,
      `test -r ${join(libTypes, 'lib', 'paths.d.ts')} && echo declarations-de-lib`,
      `test -r ${join(PROJECT_ROOT, 'grading', 'runner', 'tslab-lib-types.cjs')} && echo preload-des-declarations`,
      `echo x > ${join(PROJECT_ROOT, 'lib', 'pirate.ts')} 2>&1 || echo lib-en-lecture-seule`,
      `echo x > /usr/pirate 2>&1 || echo systeme-en-lecture-seule`,
      `echo x > /pirate 2>&1 || echo racine-en-lecture-seule`,
      `ls /proc | grep -c '^[0-9]'`,
    ].join('; ');
    const run = await runIn(box, probe);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(SANDBOX_HOME);
    expect(lines).toEqual(expect.arrayContaining(['ok', 'tmp', 'lib-lisible', 'lib-dans-le-dossier', 'node', 'declarations-de-lib', 'preload-des-declarations', 'lib-en-lecture-seule', 'systeme-en-lecture-seule', 'racine-en-lecture-seule']));
    expect(run.stdout).not.toContain('camarade');
    expect(run.stdout).not.toContain('secret');
    expect(run.stdout).toMatch(/No such file or directory/);
    // Only the sandbox's own processes: bubblewrap's init, sh, ls and grep at most.
    expect(Number(lines[lines.length - 1])).toBeLessThanOrEqual(5);
    expect(readFileSync(join(box.scratchDir, '.tmp', 't'), 'utf8')).toBe('tmp\n');
    expect(existsSync(join(PROJECT_ROOT, 'lib', 'pirate.ts'))).toBe(false);
  });

  test('no network: a TCP connection to a listener on the host loopback is refused, nothing arrives', async () => {
    const box = SubmissionSandbox.forSubmission(choice, 1, scratchFolder(folder.dir, 'b'), LIMITS);
    const js = `require('net').connect(${port}, '127.0.0.1', function () { this.write('volé'); console.log('connecté'); }).on('error', (e) => console.log(e.code))`;
    const run = await runIn(box, `${process.execPath} -e "${js}"`);
    expect(run.stdout.trim()).toBe('ECONNREFUSED');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toEqual([]);
  });

  test('the process limit: spawning 1000 processes ends the submission with a French message naming the limit', async () => {
    const box = SubmissionSandbox.forSubmission(choice, 2, scratchFolder(folder.dir, 'c'), LIMITS);
    const js = `const { spawn } = require('child_process'); let refused = 0; for (let i = 0; i < 1000; i++) spawn('/usr/bin/sleep', ['60']).on('error', () => refused++); setTimeout(() => console.log('refusés', refused), 5000);`;
    const run = await runIn(box, `${process.execPath} -e "${js}"`, 60_000);
    expect(run.breach?.limit).toBe('processes');
    expect(run.breach?.message).toMatch(/limite de processus atteinte : 64 processus/);
  });

  test('the disk limit: writing past it in many files ends the submission; one huge file is stopped by the kernel', async () => {
    const box = SubmissionSandbox.forSubmission(choice, 3, scratchFolder(folder.dir, 'd'), LIMITS);
    const run = await runIn(box, `for i in $(seq 100); do head -c 5000000 /dev/urandom > /tmp/f$i || exit 1; sleep 0.05; done`, 60_000);
    expect(run.breach?.limit).toBe('disk');
    expect(run.breach?.message).toMatch(/limite d’espace disque atteinte : \d+ Mo écrits pour 50 Mo/);
    const big = await runIn(SubmissionSandbox.forSubmission(choice, 4, scratchFolder(folder.dir, 'e'), LIMITS), `head -c 60000000 /dev/zero > ${SANDBOX_HOME}/gros; echo fin $?`);
    // The kernel sends SIGXFSZ to the writer at RLIMIT_FSIZE (shells report it as below).
    expect(big.stderr).toMatch(/File size limit exceeded/);
    expect(readFileSync(join(folder.dir, 'e', 'gros')).length).toBeLessThanOrEqual(LIMITS.diskMb * 1024 * 1024);
  });

  test('open files are limited per process', async () => {
    const box = SubmissionSandbox.forSubmission(choice, 5, scratchFolder(folder.dir, 'f'), LIMITS);
    const js = `const fs = require('fs'); let n = 0; try { for (;;) { fs.openSync('/dev/null', 'r'); n++; } } catch (e) { console.log(e.code, n < 256); }`;
    const run = await runIn(box, `${process.execPath} -e "${js}"`);
    expect(run.stdout.trim()).toBe('EMFILE true');
  });

  test('killAll ends everything, processes that left their session included; memory is measured meanwhile', async () => {
    const box = SubmissionSandbox.forSubmission(choice, 6, scratchFolder(folder.dir, 'g'), LIMITS);
    const argv = box.wrap(['/bin/sh', '-c', 'setsid sleep 300 & sleep 300'], { cwd: box.scratchDir });
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore' });
    box.track(child.pid);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(box.memoryMb()).toBeGreaterThan(0);
    expect(await box.killAll()).toBeGreaterThanOrEqual(1);
    await exited;
    expect(box.memoryMb()).toBe(0);
  });

  needsTool(root, 'root (a user id per submission needs it)', 'run the tests as root, as .ci/run does').test('as root each submission also runs under a user id of its own', async () => {
    const a = SubmissionSandbox.forSubmission(choice, 7, scratchFolder(folder.dir, 'h'), LIMITS);
    const b = SubmissionSandbox.forSubmission(choice, 8, scratchFolder(folder.dir, 'i'), LIMITS);
    expect(a.uid).toBeDefined();
    expect(a.uid).not.toBe(b.uid);
    expect((await runIn(a, 'id -u')).stdout.trim()).toBe(String(a.uid));
  });

  needsTool(root, 'root (to drop to an ordinary user)', 'run the tests as root, as .ci/run does').test('an ordinary user gets the same isolation (unprivileged user namespaces)', () => {
    const scratch = scratchFolder(folder.dir, 'j', NOBODY);
    const script = `
      const { SubmissionSandbox, chooseSandbox } = require(${JSON.stringify(join(PROJECT_ROOT, 'grading', 'grader', 'sandbox'))});
      const choice = chooseSandbox();
      const box = SubmissionSandbox.forSubmission(choice, 0, ${JSON.stringify(scratch)}, ${JSON.stringify(LIMITS)});
      const argv = box.wrap(['/bin/sh', '-c', 'id -u; ls ${join(folder.dir, 'classe')} 2>&1; echo x > ${SANDBOX_HOME}/w && echo ecrit'], { cwd: box.scratchDir });
      const run = require('child_process').spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
      console.log(JSON.stringify({ mode: choice.mode, uid: box.uid ?? null, stdout: run.stdout, stderr: run.stderr }));`;
    const run = spawnSync('/usr/bin/setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, '--require', require.resolve('tsx/cjs'), '-e', script], {
      encoding: 'utf8',
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, HOME: scratch },
    });
    const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}');
    expect(result.mode).toBe('bubblewrap');
    expect(result.uid).toBeNull();
    expect(result.stdout).toMatch(new RegExp(`^${NOBODY}\\n.*No such file or directory\\necrit\\n$`));
  });
});

test('the spec declares every limit with its default', () => {
  expect(DEFAULT_SPEC.limits).toEqual({ memoryMb: 6144, modelMb: 200, processes: 256, diskMb: 2048, openFiles: 1024 });
});

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseSandbox, SubmissionSandbox } from '../../../grading/grader/sandbox';
import { temporaryFolder } from '../../helpers/fixtures';

const choice = chooseSandbox();
if (choice.mode !== 'user') console.warn(`tests/grading/grader/sandbox.test.ts: user-mode tests skipped (${choice.reason}).`);

test('without root or on request, no isolation, and the reason says so', () => {
  expect(chooseSandbox('none')).toEqual({ mode: 'none', reason: expect.stringContaining('--sandbox none') });
  if (process.getuid?.() !== 0) expect(() => chooseSandbox('user')).toThrow(/Lancez le correcteur en root/);
});

(choice.mode === 'user' ? describe : describe.skip)('user mode (root)', () => {
  test('each submission gets its own user id; its code can write its folder and nothing of others', () => {
    const { dir, cleanup } = temporaryFolder();
    try {
      chmodSync(dir, 0o755);
      const a = SubmissionSandbox.forSubmission(choice, 0);
      const b = SubmissionSandbox.forSubmission(choice, 1);
      expect(a.uid).not.toBe(b.uid);
      const mine = join(dir, 'a');
      const theirs = join(dir, 'b');
      mkdirSync(mine, { mode: 0o700 });
      mkdirSync(theirs, { mode: 0o700 });
      writeFileSync(join(dir, 'instructor.txt'), 'keep');
      a.own(mine);
      b.own(theirs);
      const run = (script: string) => spawnSync(a.wrap(['/bin/sh', '-c', script])[0], a.wrap(['/bin/sh', '-c', script]).slice(1), { encoding: 'utf8' });
      expect(run(`echo ok > ${mine}/out && cat ${mine}/out`).stdout.trim()).toBe('ok');
      expect(run(`echo x > ${dir}/instructor.txt`).status).not.toBe(0);
      expect(run(`rm -f ${dir}/instructor.txt`).status).not.toBe(0);
      expect(run(`ls ${theirs}`).status).not.toBe(0);
      expect(readFileSync(join(dir, 'instructor.txt'), 'utf8')).toBe('keep');
    } finally {
      cleanup();
    }
  });

  test('killAll ends processes that left their process group; memory is measured', async () => {
    const box = SubmissionSandbox.forSubmission(choice, 2);
    const argv = box.wrap(['/bin/sh', '-c', 'setsid sleep 300 & sleep 300']);
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(box.memoryMb()).toBeGreaterThan(0);
    expect(await box.killAll()).toBeGreaterThanOrEqual(2);
    await exited;
    expect(box.memoryMb()).toBe(0);
  });
});

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/paths';
import { defaultKernelArgv, executeNotebook, KernelClient, tslabPreload, validateNotebookJson, type CodeCell, type Notebook } from '../../../grading/runner';
import { fixtureNotebook, sharedKernel, stdout, writeNotebookFile } from './helpers';

const nb = fixtureNotebook;
const code = (notebook: Notebook, i: number) => notebook.cells.filter((c) => c.cell_type === 'code')[i] as CodeCell;

describe('executing notebooks on the tslab kernel', () => {
  const shared = sharedKernel('nbval-ts-exec-');
  const dir = shared.dir;

  it('runs a 3-cell notebook file: stdout, last expression, tslab display; counts; valid 4.5 output; input untouched', async () => {
    const input = writeNotebookFile(dir, 'three.ipynb', [
      { source: '# Title', markdown: true },
      "console.log('bonjour');",
      '1 + 2',
      "import * as tslab from 'tslab';\ntslab.display.html('<b>gras</b>');",
    ]);
    const before = readFileSync(input, 'utf8');
    const output = join(dir, 'three.out.ipynb');
    const result = await executeNotebook(input, { outputPath: output });
    expect(result.ok).toBe(true);
    expect(result.cells.map((c) => [c.index, c.status, c.executionCount])).toEqual([[1, 'ok', 1], [2, 'ok', 2], [3, 'ok', 3]]);
    expect(readFileSync(input, 'utf8')).toBe(before);

    const written = JSON.parse(readFileSync(output, 'utf8'));
    expect(validateNotebookJson(written)).toEqual([]);
    expect(written.nbformat_minor).toBe(5);
    expect(written.metadata.kernelspec).toEqual({ name: 'tslab', display_name: 'TypeScript', language: 'typescript' });
    expect(written.metadata.language_info.name).toBe('typescript');
    const [log, sum, html] = written.cells.slice(1);
    expect(log.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: ['bonjour\n'] }]);
    expect(sum.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: ['3\n'] }]);
    expect(html.outputs).toEqual([{ output_type: 'display_data', data: { 'text/html': ['<b>gras</b>'] }, metadata: {} }]);
    expect(Object.keys(log.metadata.execution).sort()).toEqual(['iopub.status.busy', 'iopub.status.idle', 'shell.execute_reply']);
  });

  it('stops at the first error by default: later cells are not run and keep what they had', async () => {
    const notebook = nb(['const a = 1;', 'throw new RangeError("trop grand")', { source: 'console.log("after")', outputs: [stdout('stale\n')] }]);
    const result = await executeNotebook(notebook, { kernel: shared.kernel() });
    expect(result.ok).toBe(false);
    expect(result.cells.map((c) => c.status)).toEqual(['ok', 'error', 'skipped']);
    expect(result.cells[1]).toMatchObject({ failed: true, error: { ename: 'RangeError', evalue: 'trop grand' } });
    expect(result.cells[2].skipReason).toBe('after-error');
    expect(result.stopped).toEqual({ reason: 'error', cellIndex: 1 });
    expect(code(result.notebook, 2).outputs).toEqual([stdout('stale\n')]);
    expect(code(result.notebook, 1).outputs[0]).toMatchObject({ output_type: 'stream', name: 'stderr' });
    expect(code(notebook, 1).outputs).toEqual([]);
  });

  it('with allowErrors, runs every cell and does not count errors as failures (tslab aborts right after an error: retried)', async () => {
    const result = await executeNotebook(nb(['throw new Error("x")', 'console.log("still here")']), { kernel: shared.kernel(), allowErrors: true });
    expect(result.ok).toBe(true);
    expect(result.cells.map((c) => [c.status, c.failed])).toEqual([['error', false], ['ok', false]]);
    expect(code(result.notebook, 1).outputs).toEqual([stdout('still here\n')]);
  });

  it('raises-exception: the expected error is not a failure; a missing one fails only when required', async () => {
    const cells = [{ source: 'throw new Error("prévu")', tags: ['raises-exception'] }, { source: '1', tags: ['raises-exception'] }, 'console.log("end")'];
    const lenient = await executeNotebook(nb(cells), { kernel: shared.kernel() });
    expect(lenient.cells.map((c) => [c.status, c.failed])).toEqual([['error', false], ['ok', false], ['ok', false]]);
    const strict = await executeNotebook(nb(cells), { kernel: shared.kernel(), requireExpectedErrors: true, stopOnError: false });
    expect(strict.cells[1]).toMatchObject({ status: 'ok', failed: true, message: expect.stringMatching(/raised no error/) });
  });

  it('skips skip-execution, nbval-skip and empty cells', async () => {
    const result = await executeNotebook(nb([{ source: 'throw 1', tags: ['skip-execution'] }, { source: 'throw 2', tags: ['nbval-skip'] }, '  \n', '7']), { kernel: shared.kernel() });
    expect(result.cells.map((c) => c.skipReason ?? c.status)).toEqual(['tag', 'tag', 'empty', 'ok']);
    expect(code(result.notebook, 0).execution_count).toBeNull();
  });

  it('updates a display shown in an earlier cell, through its display_id', async () => {
    const result = await executeNotebook(nb(["const d = require('tslab').newDisplay(); d.text('v1');", "d.text('v2');"]), { kernel: shared.kernel() });
    expect(code(result.notebook, 0).outputs).toEqual([{ output_type: 'display_data', data: { 'text/plain': 'v2' }, metadata: {} }]);
    expect(code(result.notebook, 1).outputs).toEqual([]);
  });

  it('interrupts a cell past its timeout (while(true){}) within seconds; the kernel stays usable', async () => {
    const started = Date.now();
    const result = await executeNotebook(nb(['while (true) {}', '1']), { kernel: shared.kernel(), cellTimeoutMs: 800 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.cells.map((c) => c.status)).toEqual(['timeout', 'skipped']);
    expect(result.cells[0].message).toMatch(/longer than 0\.8 s; it was interrupted/);
    expect(result.stopped?.reason).toBe('timeout');
    expect(code(result.notebook, 0).outputs.at(-1)).toMatchObject({ output_type: 'error', ename: 'CellTimeoutError' });
    expect(shared.kernel().isAlive()).toBe(true);
    expect((await shared.kernel().execute('40 + 2')).outputs).toEqual([stdout('42\n')]);
  });

  it('applies the notebook time limit and skips the rest', async () => {
    const result = await executeNotebook(nb(['await new Promise((r) => setTimeout(r, 20000));', '2']), { kernel: shared.kernel(), notebookTimeoutMs: 1000 });
    expect(result.cells.map((c) => c.skipReason ?? c.status)).toEqual(['timeout', 'notebook-timeout']);
    expect(result.stopped?.reason).toBe('notebook-timeout');
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('kills a kernel whose event loop is stuck (the interrupt cannot work) and reports the timeout', async () => {
    const started = Date.now();
    const result = await executeNotebook(nb(['setTimeout(() => { while (true) {} }, 0); await new Promise((r) => setTimeout(r, 60000));', '1']), { cwd: dir, cellTimeoutMs: 700, interruptGraceMs: 700 });
    expect(Date.now() - started).toBeLessThan(10000);
    expect(result.cells.map((c) => c.skipReason ?? c.status)).toEqual(['timeout', 'kernel-dead']);
    expect(result.cells[0].message).toMatch(/killed/);
    expect(result.cells[0].exit).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('detects a kernel that dies in a cell (process.exit(3)) and reports it in the cell', async () => {
    const result = await executeNotebook(nb(['console.log("before")', 'process.exit(3)', 'console.log("never")']), { cwd: dir });
    expect(result.ok).toBe(false);
    expect(result.cells.map((c) => c.skipReason ?? c.status)).toEqual(['ok', 'kernel-died', 'kernel-dead']);
    expect(result.cells[1].exit).toEqual({ code: 3, signal: null });
    expect(result.cells[1].message).toBe('the kernel died while running this cell (exit code 3)');
    expect(code(result.notebook, 1).outputs).toEqual([{ output_type: 'error', ename: 'DeadKernelError', evalue: result.cells[1].message, traceback: [`DeadKernelError: ${result.cells[1].message}`] }]);
    expect(result.stopped).toEqual({ reason: 'kernel-died', cellIndex: 1 });
  });

  it('runs the kernel through an injected wrapper command, over ipc', async () => {
    const seen: string[][] = [];
    const result = await executeNotebook(nb(['console.log(process.env.NBVAL_WRAPPED)']), {
      cwd: dir,
      transport: 'ipc',
      wrapCommand: (argv, context) => {
        seen.push(argv);
        expect(argv).toContain(context.connectionFile);
        return ['/usr/bin/env', 'NBVAL_WRAPPED=yes', ...argv];
      },
    });
    expect(seen).toHaveLength(1);
    expect(code(result.notebook, 0).outputs).toEqual([stdout('yes\n')]);
  });

  it('declares the kernel dead when heartbeats stop, if asked (a busy tslab cell also stops them)', async () => {
    const own = await KernelClient.start({ cwd: dir });
    try {
      expect(await own.ping()).toBe(true);
      const outcome = await own.execute('const t = Date.now(); while (Date.now() - t < 5000) {}', { heartbeatTimeoutMs: 1200 });
      expect(outcome).toMatchObject({ status: 'kernel-died', deathCause: 'heartbeat' });
      expect(own.isAlive()).toBe(false);
    } finally {
      await own.kill();
    }
  });

  it('a loop printing 5 000 lines as fast as it can loses none, over tcp and ipc; stdout and stderr keep their order', async () => {
    // One IOPub message per console.log used to overflow the kernel's PUB queue (lines lost by the hundred).
    for (const transport of ['tcp', 'ipc'] as const) {
      const result = await executeNotebook(nb(["for (let i = 0; i < 5000; i++) console.log('ligne ' + i);\nconsole.error('erreur');\nconsole.log('fin');"]), { cwd: dir, transport });
      const outputs = code(result.notebook, 0).outputs as { name: string; text: string }[];
      expect(outputs.map((o) => o.name)).toEqual(['stdout', 'stderr', 'stdout']);
      const lines = outputs[0].text.split('\n').filter(Boolean);
      expect(lines).toEqual(Array.from({ length: 5000 }, (_, i) => `ligne ${i}`));
      expect([outputs[1].text, outputs[2].text]).toEqual(['erreur\n', 'fin\n']);
    }
  });

  it('preloads the fix that serializes tslab socket sends (lost IOPub messages otherwise)', () => {
    const argv = defaultKernelArgv();
    expect(argv.slice(1, 3)).toEqual(['--require', tslabPreload()]);
    const probe = spawnSync(process.execPath, ['--require', tslabPreload(), '-e', 'process.stdout.write(String(require("zeromq").Socket.prototype.send.__nbvalSerialized))'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(probe.stdout).toBe('true');
  });

  it('refuses an invalid notebook with an error naming the file, before starting any kernel', async () => {
    const bad = join(dir, 'broken.ipynb');
    require('node:fs').writeFileSync(bad, '{ not json');
    await expect(executeNotebook(bad)).rejects.toThrow(/broken\.ipynb: not valid JSON/);
    await expect(executeNotebook(join(dir, 'absent.ipynb'))).rejects.toThrow(/absent\.ipynb: file not found/);
  });

  it('explains a kernel command that exits instead of starting, with its stderr', async () => {
    const argv = [process.execPath, '-e', 'console.error("no kernel here"); process.exit(4)'];
    await expect(KernelClient.start({ argv, startupTimeoutMs: 10000 })).rejects.toThrow(/stopped before it was ready \(exit code 4\)[\s\S]*no kernel here/);
    await expect(KernelClient.start({ argv: ['/nonexistent/kernel'], startupTimeoutMs: 10000 })).rejects.toThrow(/failed to start: .*ENOENT/);
  });
});

/**
 * Output caps on real tslab kernels: floods of lines, of 1 MB chunks and one string over the socket
 * cap; the executed notebook stays small, later cells run, the runner's own memory stays bounded.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/paths';
import { executeNotebook, KernelClient, type CodeCell, type Notebook, type Output } from '../../../grading/runner';
import { temporaryFolder } from '../../helpers/fixtures';
import { fixtureNotebook, sharedKernel, stdout, writeNotebookFile } from './helpers';

const CLI = join(PROJECT_ROOT, 'grading', 'cli', 'nbval-ts-runner.ts');
const TSX_CJS = join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cjs', 'index.cjs');

const codeOutputs = (notebook: Notebook) => notebook.cells.filter((c): c is CodeCell => c.cell_type === 'code').map((c) => c.outputs);
const textOf = (output: Output) => (output.output_type === 'stream' ? (Array.isArray(output.text) ? output.text.join('') : output.text) : '');

/** Runs the runner CLI in one Node process (tsx as a require hook, no wrapper process) and samples its peak RSS (VmHWM). */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; peakMb: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', TSX_CJS, CLI, ...args], { cwd: PROJECT_ROOT });
    let out = '';
    let err = '';
    let peakKb = 0;
    const sample = () => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
      } catch {
        // the process has just exited
      }
    };
    const timer = setInterval(sample, 100);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', () => clearInterval(timer));
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err, peakMb: peakKb / 1024 }));
  });
}

describe('output caps on a real kernel', () => {
  const { dir, cleanup } = temporaryFolder('nbval-ts-limits-');
  afterAll(cleanup);

  it('200 000 lines, 300 MB in 1 MB chunks, one 400 MB string: small notebook with French notes, later cells run, runner peak memory bounded', async () => {
    const input = writeNotebookFile(dir, 'flood.ipynb', [
      'for (let i = 0; i < 200000; i++) console.log("ligne " + i);',
      'console.log("après les lignes")',
      'const morceau = "x".repeat(1_000_000);\nfor (let i = 0; i < 300; i++) console.log(morceau);',
      'console.log("après les morceaux")',
      'console.log("y".repeat(400_000_000));',
      'console.log("après la grande chaîne")',
    ]);
    const output = join(dir, 'flood.out.ipynb');
    const reportPath = join(dir, 'flood.json');
    const run = await runCli(['execute', input, '--output', output, '--report', reportPath, '--max-cell-lines', '5000', '--max-cell-output-mb', '1', '--max-notebook-output-mb', '20', '--timeout', '120']);
    expect(run.stderr).not.toMatch(/RangeError|Invalid string length/);
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(report.cells.map((c: { status: string }) => c.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(report.cells[0].truncated).toMatchObject({ reason: 'cell-lines', lines: 5000 });
    expect(report.cells[2].truncated).toMatchObject({ reason: 'cell-bytes', bytes: 1_000_000 });
    expect(report.cells[2].truncated.droppedBytes).toBeGreaterThan(100e6);
    expect(report.cells[4].truncated).toMatchObject({ reason: 'cell-bytes', refusedMessages: 1, lowerBound: true, bytes: 0 });
    expect(report.truncated).toMatchObject({ cells: 3, notebookCapReached: false });
    expect(run.stdout).toMatch(/output truncated at the cell's line cap: kept 5000 lines/);
    expect(run.stdout).toMatch(/Output truncated in 3 cells/);

    expect(statSync(output).size).toBeLessThan(2e6);
    const outputs = codeOutputs(JSON.parse(readFileSync(output, 'utf8')) as Notebook);
    const lines = textOf(outputs[0][0]).split('\n');
    expect(lines.slice(0, 3)).toEqual(['ligne 0', 'ligne 1', 'ligne 2']);
    expect(lines).toHaveLength(5001);
    expect(textOf(outputs[0][1])).toMatch(/^\[sortie tronquée par le correcteur : plus de 5 000 lignes dans cette cellule ; la suite \((au moins )?[\d, ]+(octets|ko|Mo) en [\d ]+ messages\) n’est pas conservée\]\n$/);
    expect(textOf(outputs[2][1])).toMatch(/plus de 1 Mo de sortie dans cette cellule/);
    expect(outputs[4]).toHaveLength(1);
    expect(textOf(outputs[4][0])).toMatch(/dont un message refusé car plus gros que 16 Mo/);
    expect([outputs[1], outputs[3], outputs[5]].map((o) => o.map(textOf).join(''))).toEqual(['après les lignes\n', 'après les morceaux\n', 'après la grande chaîne\n']);
    expect(run.peakMb).toBeGreaterThan(0);
    expect(run.peakMb).toBeLessThan(1024);
  }, 180_000);

  it('over ipc too, a message over the socket cap is refused, noted in its cell, and the socket keeps working', async () => {
    const kernel = await KernelClient.start({ cwd: dir, transport: 'ipc' });
    try {
      const result = await executeNotebook(fixtureNotebook(['console.log("avant");\nconsole.log("z".repeat(20_000_000));', 'console.log("après")']), { kernel });
      expect(result.cells.map((c) => c.status)).toEqual(['ok', 'ok']);
      expect(result.cells[0].truncated).toMatchObject({ refusedMessages: 1, bytes: 6 });
      expect(result.cells[0].warning).toBeUndefined();
      const [first, second] = codeOutputs(result.notebook);
      expect(first[0]).toEqual(stdout('avant\n'));
      expect(textOf(first[1])).toMatch(/^\[sortie tronquée par le correcteur : plus de 1 Mo de sortie dans cette cellule ; la suite \(au moins 16 Mo en 1 message, dont un message refusé car plus gros que 16 Mo\) n’est pas conservée\]/);
      expect(second).toEqual([stdout('après\n')]);
      expect(kernel.isAlive()).toBe(true);
    } finally {
      await kernel.shutdown();
    }
  }, 60_000);
});

describe('the notebook cap on a shared kernel', () => {
  const shared = sharedKernel('nbval-ts-limits-nb-');

  it('cuts the cell that crosses it; later cells still run, keeping only the note; summary on the result', async () => {
    const notebook = fixtureNotebook(['console.log("a".repeat(2999))', 'console.log("b".repeat(2999))', 'console.log("c")', '1 + 1']);
    const result = await executeNotebook(notebook, { kernel: shared.kernel(), outputLimits: { notebookBytes: 5000 } });
    expect(result.cells.map((c) => c.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(result.cells.map((c) => c.truncated?.reason)).toEqual([undefined, 'notebook-bytes', 'notebook-bytes', 'notebook-bytes']);
    expect(result.cells[1].truncated).toMatchObject({ bytes: 2000, droppedBytes: 1000 });
    expect(result.truncated).toMatchObject({ cells: 3, notebookCapReached: true });
    expect(result.outputBytes).toBe(5000);
    const outputs = codeOutputs(result.notebook);
    expect(outputs[1].map(textOf)).toEqual(['b'.repeat(2000), expect.stringMatching(/plus de 5 ko de sortie dans ce notebook ; la suite \(1 ko en 1 message\)/)]);
    expect(outputs[3]).toHaveLength(1);
    expect(textOf(outputs[3][0])).toMatch(/^\[sortie tronquée par le correcteur : plus de 5 ko/);
  });
});

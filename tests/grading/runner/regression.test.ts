import { checkNotebook } from '../../../grading/runner';
import { fixtureNotebook, sharedKernel, stdout, writeNotebookFile } from './helpers';

const nb = fixtureNotebook;

describe('regression checks against stored outputs', () => {
  const shared = sharedKernel('nbval-ts-check-');
  const dir = shared.dir;

  it('passes an identical run, numbers within tolerance, changed timing lines and nbval-ignore-output cells', async () => {
    const path = writeNotebookFile(dir, 'same.ipynb', [
      { source: 'console.log("sum", 0.1 + 0.2)', outputs: [stdout('sum 0.30000000000000004\n')] },
      { source: 'console.log("ratio", 1 / 3)', outputs: [stdout('ratio 0.333334\n')] },
      { source: 'const t0 = Date.now(); console.log(`step took ${Date.now() - t0 + 123} ms`); console.log("done")', outputs: [stdout('step took 9999 ms\ndone\n')] },
      { source: 'console.log(Math.random())', tags: ['nbval-ignore-output'], outputs: [stdout('0.5\n')] },
      { source: 'throw new Error("attendu")', tags: ['raises-exception'] },
      { source: 'throw new Error("not run")', tags: ['nbval-skip'] },
      { source: '# notes', markdown: true },
    ]);
    const result = await checkNotebook(path, { kernel: shared.kernel(), rtol: 1e-5 });
    expect(result.cells.map((c) => [c.index, c.status])).toEqual([[0, 'pass'], [1, 'pass'], [2, 'pass'], [3, 'ignored'], [4, 'pass'], [5, 'skipped']]);
    expect(result.ok).toBe(true);
  });

  it('fails a number beyond tolerance, a changed text, a missing expected error, and says where', async () => {
    const result = await checkNotebook(
      nb([
        { source: 'console.log("acc", 0.91)', outputs: [stdout('acc 0.90\n')] },
        { source: 'console.log("hello")', outputs: [stdout('bonjour\n')] },
        { source: '1', tags: ['raises-exception'], outputs: [stdout('1\n')] },
        { source: 'console.log("a"); console.log("b")', outputs: [stdout('a\n')] },
      ]),
      { kernel: shared.kernel(), rtol: 1e-3, atol: 0 },
    );
    expect(result.ok).toBe(false);
    expect(result.cells.map((c) => c.status)).toEqual(['fail', 'fail', 'fail', 'fail']);
    expect(result.cells[0].diffs).toEqual(['stdout line 1: 0.90 became 0.91 (beyond rtol=0.001, atol=0) in "acc 0.91"']);
    expect(result.cells[1].diffs[0]).toMatch(/expected "bonjour", got "hello"/);
    expect(result.cells[2].diffs[0]).toMatch(/raised no error/);
    expect(result.cells[3].diffs[0]).toMatch(/expected 1 line\(s\), got 2 \(first extra "b"\)/);
  });

  it('applies sanitize rules to both sides and keeps checking after a failing cell', async () => {
    const rules = [{ regex: /id=[0-9a-f]+/g, replace: 'id=X' }];
    const result = await checkNotebook(
      nb([
        { source: 'throw new Error("boom")', outputs: [] },
        { source: 'console.log(`id=${Date.now().toString(16)}`)', outputs: [stdout('id=abc\n')] },
      ]),
      { kernel: shared.kernel(), rules },
    );
    expect(result.cells.map((c) => c.status)).toEqual(['fail', 'pass']);
    expect(result.cells[0].diffs[0]).toMatch(/^execution: error \(Error: boom\)/);
  });
});

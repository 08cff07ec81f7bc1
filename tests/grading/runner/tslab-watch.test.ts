/** tslab breaks every later cell ("Unexpected pending rebuildTimer") when a watched folder changes during a cell; the preload prevents it. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultKernelArgv, executeNotebook, type Notebook } from '../../../grading/runner';
import { temporaryFolder } from '../../helpers/fixtures';

const code = (id: string, source: string) => ({ cell_type: 'code' as const, id, metadata: {}, source, outputs: [], execution_count: null });

describe('tslab with files changing during a cell', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  it('keeps running later cells after a folder it watches changed', async () => {
    writeFileSync(join(dir, 'helper.ts'), 'export const answer = 42;\n');
    mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
    const notebook = {
      cells: [
        code('a', `import { answer } from './helper';\nimport { mkdirSync, writeFileSync } from 'fs';\nmkdirSync('node_modules/@types/late', { recursive: true });\nwriteFileSync('node_modules/@types/late/index.d.ts', 'export {};');\nwriteFileSync('other.ts', 'export {};');\nawait new Promise((r) => setTimeout(r, 1500));\nanswer`),
        code('b', 'answer + 1'),
      ],
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    } as unknown as Notebook;
    const result = await executeNotebook(notebook, { argv: defaultKernelArgv(), cwd: dir });
    expect(result.cells.map((c) => c.status)).toEqual(['ok', 'ok']);
  }, 60_000);
});

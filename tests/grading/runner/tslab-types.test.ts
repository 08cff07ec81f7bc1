/**
 * The project's kernel type-checks cells against Node's globals only: a package in node_modules/@types
 * that declares globals (jest's describe, here a fixture's) is not loaded into every kernel, while
 * Node's globals and the types of what a cell imports still are.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultKernelArgv, executeNotebook } from '../../../grading/runner';
import { temporaryFolder } from '../../helpers/fixtures';
import { fixtureNotebook } from './helpers';

describe('the types a tslab kernel loads', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  it("checks cells against Node's globals and imported packages, not against every @types package's globals", async () => {
    const types = join(dir, 'node_modules', '@types');
    mkdirSync(join(types, 'globales-de-test'), { recursive: true });
    writeFileSync(join(types, 'globales-de-test', 'index.d.ts'), 'declare const globaleDeTest: number;\n');
    symlinkSync(dirname(require.resolve('@types/node/package.json')), join(types, 'node'));
    const notebook = fixtureNotebook(["import { basename } from 'node:path';\nconst length: number = Buffer.from(basename(process.cwd())).length;\nlength > 0", 'globaleDeTest + 1']);
    const result = await executeNotebook(notebook, { argv: defaultKernelArgv(), cwd: dir, stopOnError: false });
    expect(result.cells.map((c) => c.status)).toEqual(['ok', 'error']);
    // A compile error from the type checker, not a ReferenceError at run time.
    expect(JSON.stringify(result.cells[1])).toMatch(/Cannot find name 'globaleDeTest'/);
  }, 60_000);
});

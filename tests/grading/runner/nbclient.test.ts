import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/paths';
import { executeNotebook, tslabBin } from '../../../grading/runner';
import { temporaryFolder } from '../../helpers/fixtures';
import { pythonWithNbclient, writeNotebookFile } from './helpers';

const python = pythonWithNbclient(PROJECT_ROOT);
const maybe = python ? it : it.skip;
const why = python ? '' : ' (SKIPPED: no Python with nbclient; set NBVAL_TS_PYTHON or create .venv with nbclient)';
if (!python) process.stderr.write(`nbclient.test.ts: comparison with jupyter execute${why}\n`);

function streams(cell: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of cell.outputs) if (o.output_type === 'stream') out[o.name] = (out[o.name] ?? '') + [o.text].flat().join('');
  return out;
}

function rich(cell: any): unknown[] {
  return cell.outputs.filter((o: any) => o.output_type !== 'stream').map((o: any) => ({ type: o.output_type, data: o.data }));
}

describe('agreement with Python nbclient (jupyter execute)', () => {
  const { dir, cleanup } = temporaryFolder('nbval-ts-nbclient-');
  afterAll(cleanup);

  maybe(`produces the same outputs and execution counts as jupyter execute, and a file nbformat validates${why}`, async () => {
    // A private kernelspec pointing at this project's tslab, so the comparison never depends on what is installed globally.
    const jupyterPath = join(dir, 'jupyter');
    mkdirSync(join(jupyterPath, 'kernels', 'tslab'), { recursive: true });
    writeFileSync(join(jupyterPath, 'kernels', 'tslab', 'kernel.json'), JSON.stringify({ argv: [process.execPath, tslabBin(), 'kernel', '--config-path', '{connection_file}'], display_name: 'TypeScript', language: 'typescript' }));
    const cells = [
      'console.log("ligne 1");\nconsole.log("ligne 2");',
      '1 + 2',
      "import * as tslab from 'tslab';\ntslab.display.html('<i>x</i>');",
      "const d = tslab.newDisplay(); d.text('avant');",
      "d.text('après'); console.error('sur stderr');",
      'const xs: number[] = [1, 2, 3];\nxs.map((x) => x * 2)',
    ];
    const input = writeNotebookFile(dir, 'same.ipynb', cells);
    const ours = join(dir, 'ours.ipynb');
    const theirs = join(dir, 'theirs.ipynb');
    await executeNotebook(input, { outputPath: ours });
    const env = { ...process.env, JUPYTER_PATH: jupyterPath, JUPYTER_RUNTIME_DIR: join(dir, 'runtime'), JUPYTER_DATA_DIR: join(dir, 'data'), JUPYTER_PLATFORM_DIRS: '1' };
    const run = spawnSync(python!, ['-c', 'import sys; from nbclient.cli import main; sys.argv[0] = "jupyter-execute"; sys.exit(main())', '--kernel_name=tslab', `--output=${theirs}`, input], { env, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toMatch(/Save executed results/);
    expect(run.status).toBe(0);

    const a = JSON.parse(readFileSync(ours, 'utf8'));
    const b = JSON.parse(readFileSync(theirs, 'utf8'));
    expect(a.cells.map((c: any) => c.execution_count)).toEqual(b.cells.map((c: any) => c.execution_count));
    expect(a.cells.map(streams)).toEqual(b.cells.map(streams));
    expect(a.cells.map(rich)).toEqual(b.cells.map(rich));
    expect(a.metadata.language_info).toEqual(b.metadata.language_info);

    const validate = spawnSync(python!, ['-c', 'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print(nbformat.writes(nbformat.read(sys.argv[1], as_version=4)) + "\\n" == open(sys.argv[1]).read())', ours], { encoding: 'utf8' });
    expect(validate.stderr).toBe('');
    expect(validate.stdout.trim()).toBe('True');
  });
});

/** Fixture notebooks for the runner tests, built in memory or written to a temporary folder. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { KernelClient, parseNotebook, type Notebook, type Output } from '../../../grading/runner';
import { temporaryFolder } from '../../helpers/fixtures';

/** A code cell description: its source, optional tags and stored outputs. */
export interface CellSpec {
  source: string;
  tags?: string[];
  outputs?: Output[];
  markdown?: boolean;
}

/** The raw JSON of a notebook with these cells (nbformat 4.4, no ids, as older tools write). */
export function notebookJson(cells: Array<string | CellSpec>): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: 4,
    metadata: {},
    cells: cells.map((c) => {
      const spec = typeof c === 'string' ? { source: c } : c;
      if (spec.markdown) return { cell_type: 'markdown', metadata: {}, source: spec.source };
      return { cell_type: 'code', metadata: spec.tags ? { tags: spec.tags } : {}, source: spec.source, outputs: spec.outputs ?? [], execution_count: null };
    }),
  };
}

/** Writes a notebook with these cells to `dir/name` and returns its path. */
export function writeNotebookFile(dir: string, name: string, cells: Array<string | CellSpec>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(notebookJson(cells), null, 1));
  return path;
}

/** A stdout stream output. */
export function stdout(text: string): Output {
  return { output_type: 'stream', name: 'stdout', text };
}

/**
 * A Python that has nbclient and nbformat: $NBVAL_TS_PYTHON, the project's .venv, or python3;
 * undefined when none does.
 */
export function pythonWithNbclient(projectRoot: string): string | undefined {
  const candidates = [process.env.NBVAL_TS_PYTHON, join(projectRoot, '.venv', 'bin', 'python'), 'python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    if (python.includes('/') && !existsSync(python)) continue;
    if (spawnSync(python, ['-c', 'import nbclient, nbformat'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

/** A notebook object built from cell specs. */
export function fixtureNotebook(cells: Array<string | CellSpec>): Notebook {
  return parseNotebook(JSON.stringify(notebookJson(cells)), 'fixture');
}

/** One tslab kernel for a whole describe block, started in a fresh temporary folder and shut down after it. */
export function sharedKernel(prefix: string): { dir: string; kernel: () => KernelClient } {
  const { dir, cleanup } = temporaryFolder(prefix);
  let kernel: KernelClient | undefined;
  beforeAll(async () => {
    kernel = await KernelClient.start({ cwd: dir });
  });
  afterAll(async () => {
    await kernel?.shutdown();
    cleanup();
  });
  return { dir, kernel: () => kernel! };
}

/** `npm run lab` writes its executed copies into reports/lab/, and notebooks/ holds the lab and nothing else. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { executedCopyPath, labReportsDir, legacyCopies } from '../../scripts/notebook-list';
import { temporaryFolder } from '../helpers/fixtures';

const NOTEBOOKS = join(PROJECT_ROOT, 'notebooks');

describe('npm run lab: where the executed copies go', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  it('names reports/lab/<name>.ipynb and reports/lab/quick/<name>.ipynb', () => {
    expect(labReportsDir(false)).toBe(join(PROJECT_ROOT, 'reports', 'lab'));
    expect(executedCopyPath('classification', false)).toBe(join(PROJECT_ROOT, 'reports', 'lab', 'classification.ipynb'));
    expect(executedCopyPath('classification', true)).toBe(join(PROJECT_ROOT, 'reports', 'lab', 'quick', 'classification.ipynb'));
  });

  it('recognises the copies earlier versions left beside the sources, and only those', () => {
    for (const file of ['a.ipynb', 'a.quick.ipynb', 'b.executed.ipynb', 'c.quick.ipynb.bak', 'notes.txt']) writeFileSync(join(dir, file), '{}');
    expect(legacyCopies(dir).sort()).toEqual([join(dir, 'a.quick.ipynb'), join(dir, 'b.executed.ipynb')]);
  });

  it('runs a notebook into reports/lab/quick/, moves an old copy out of notebooks/ and leaves the sources as they were', () => {
    const source = readFileSync(join(NOTEBOOKS, 'exploration.ipynb'), 'utf8');
    const before = readdirSync(NOTEBOOKS).sort();
    // What an earlier `npm run lab -- --quick` left in notebooks/.
    const legacy = join(NOTEBOOKS, 'exploration.quick.ipynb');
    writeFileSync(legacy, source);
    const started = Date.now();
    const run = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/lab.ts', '--quick', '--only', 'exploration'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('✓ exploration');
    expect(run.stdout).toContain('-> reports/lab/quick/exploration.ipynb');
    expect(run.stdout).toMatch(/Anciennes copies exécutées déplacées de notebooks\/ vers reports\/lab\/ : exploration\.quick\.ipynb/);
    expect(existsSync(legacy)).toBe(false);
    expect(readdirSync(NOTEBOOKS).sort()).toEqual(before);
    expect(readFileSync(join(NOTEBOOKS, 'exploration.ipynb'), 'utf8')).toBe(source);
    const copy = executedCopyPath('exploration', true);
    expect(statSync(copy).mtimeMs).toBeGreaterThanOrEqual(started - 1000);
    const executed = JSON.parse(readFileSync(copy, 'utf8'));
    expect(executed.cells.some((cell: { outputs?: unknown[] }) => (cell.outputs ?? []).length > 0)).toBe(true);
    // The old copy went to reports/lab/ (set aside when a newer one was already there).
    rmSync(join(labReportsDir(false), 'anciennes', 'exploration.quick.ipynb'), { force: true });
  }, 250_000);
});

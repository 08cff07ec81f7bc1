/** `npm run lab` writes its executed copies into reports/lab/, and notebooks/ holds the lab and nothing else. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { executedCopyPath, labReportsDir, legacyCopies, moveLegacyCopies } from '../../scripts/notebook-list';
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
    const folder = join(dir, 'reconnues');
    mkdirSync(folder);
    for (const file of ['a.ipynb', 'a.quick.ipynb', 'b.executed.ipynb', 'c.quick.ipynb.bak', 'notes.txt']) writeFileSync(join(folder, file), '{}');
    expect(legacyCopies(folder).sort()).toEqual([join(folder, 'a.quick.ipynb'), join(folder, 'b.executed.ipynb')]);
  });

  it('moves them to their place in reports/lab/, setting aside one whose place a newer copy holds', () => {
    const folder = join(dir, 'notebooks');
    const reports = join(dir, 'reports', 'lab');
    mkdirSync(folder);
    for (const file of ['a.ipynb', 'a.quick.ipynb', 'a.executed.ipynb', 'b.quick.ipynb']) writeFileSync(join(folder, file), file);
    mkdirSync(join(reports, 'quick'), { recursive: true });
    writeFileSync(join(reports, 'quick', 'b.ipynb'), 'newer');
    expect(moveLegacyCopies(folder, reports).sort()).toEqual(['a.executed.ipynb', 'a.quick.ipynb', 'b.quick.ipynb']);
    expect(readdirSync(folder)).toEqual(['a.ipynb']);
    expect(readFileSync(executedCopyPath('a', true, reports), 'utf8')).toBe('a.quick.ipynb');
    expect(readFileSync(executedCopyPath('a', false, reports), 'utf8')).toBe('a.executed.ipynb');
    expect(readFileSync(join(reports, 'quick', 'b.ipynb'), 'utf8')).toBe('newer');
    expect(readFileSync(join(reports, 'anciennes', 'b.quick.ipynb'), 'utf8')).toBe('b.quick.ipynb');
    expect(moveLegacyCopies(folder, reports)).toEqual([]);
  });

  it('runs a notebook into reports/lab/quick/ and leaves notebooks/ as it was', () => {
    const source = readFileSync(join(NOTEBOOKS, 'exploration.ipynb'), 'utf8');
    const before = readdirSync(NOTEBOOKS).sort();
    const started = Date.now();
    const run = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/lab.ts', '--quick', '--only', 'exploration'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('✓ exploration');
    expect(run.stdout).toContain('-> reports/lab/quick/exploration.ipynb');
    expect(readdirSync(NOTEBOOKS).sort()).toEqual(before);
    expect(readFileSync(join(NOTEBOOKS, 'exploration.ipynb'), 'utf8')).toBe(source);
    const copy = executedCopyPath('exploration', true);
    expect(statSync(copy).mtimeMs).toBeGreaterThanOrEqual(started - 1000);
    const executed = JSON.parse(readFileSync(copy, 'utf8'));
    expect(executed.cells.some((cell: { outputs?: unknown[] }) => (cell.outputs ?? []).length > 0)).toBe(true);
  }, 250_000);
});

/** `npm run lab -- --quick`: the three notebooks run on the tslab kernel with the project's runner, without error. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';

import { executedCopyPath, extraNotebooks } from '../../scripts/notebook-list';

describe('the lab in quick mode', () => {
  it('executes the lab (exploration, classification, test_model) and every extra notebook, and reports the accuracies', () => {
    const started = Date.now();
    const run = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/lab.ts', '--quick'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 900_000 });
    expect(run.stderr).not.toMatch(/ error \(|kernel-died|timeout \(/);
    expect(run.status).toBe(0);
    for (const name of ['exploration', 'classification', 'test_model', ...extraNotebooks()]) expect(run.stdout).toContain(`✓ ${name}`);
    expect(run.stdout).toMatch(/1 convolution, 10 époques\s+0\.9082\s+0\.\d{4}/);
    // The quick model goes to .cache/, never over the student's modele/.
    expect(existsSync(join(PROJECT_ROOT, '.cache', 'modele-quick', 'modele.json'))).toBe(true);
    // Executed copies go to reports/lab/quick/; notebooks/ keeps only the sources.
    for (const name of ['exploration', 'classification', 'test_model', ...extraNotebooks()]) {
      expect(run.stdout).toContain(`-> reports/lab/quick/${name}.ipynb`);
      expect(statSync(executedCopyPath(name, true)).mtimeMs).toBeGreaterThanOrEqual(started - 1000);
    }
    expect(readdirSync(join(PROJECT_ROOT, 'notebooks')).filter((f) => /\.(quick|executed)\.ipynb$/.test(f))).toEqual([]);
    const executed = JSON.parse(readFileSync(executedCopyPath('test_model', true), 'utf8'));
    const text = JSON.stringify(executed.cells.map((c: { outputs?: unknown[] }) => c.outputs ?? []));
    expect(text).toContain("Selon moi l'image est : ");
    expect(text).toContain('image/png');
  }, 920_000);
});

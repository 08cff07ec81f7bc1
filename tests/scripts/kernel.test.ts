import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectKernelSpec, writeKernelSpec } from '../../scripts/setup/kernel';
import { PROJECT_ROOT } from '../../lib/paths';
import { temporaryFolder } from '../helpers/fixtures';

describe('tslab kernelspec', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  it("runs this project's tslab with node and the oneDNN setting", () => {
    const spec = projectKernelSpec();
    expect(spec.argv[0]).toBe(process.execPath);
    expect(spec.argv.slice(1, 5)).toEqual(['--require', join(PROJECT_ROOT, 'scripts', 'kernel-root.cjs'), '--require', join(PROJECT_ROOT, 'grading', 'runner', 'tslab-preload.cjs')]);
    expect(spec.argv[5]).toBe(join(PROJECT_ROOT, 'node_modules', 'tslab', 'bin', 'tslab'));
    expect(spec.argv.slice(6)).toEqual(['kernel', '--config-path', '{connection_file}']);
    expect(spec.language).toBe('typescript');
    expect(spec.env.TF_ENABLE_ONEDNN_OPTS).toBe('1');
  });

  it('writes kernels/tslab/kernel.json once, then changes nothing', () => {
    expect(writeKernelSpec(dir)).toBe(true);
    const written = JSON.parse(readFileSync(join(dir, 'tslab', 'kernel.json'), 'utf8'));
    expect(written.argv[5]).toMatch(/node_modules\/tslab\/bin\/tslab$/);
    expect(writeKernelSpec(dir)).toBe(false);
  });
});

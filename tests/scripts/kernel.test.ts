import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureKernel, jupyterDataDir, projectKernelSpec, writeKernelSpec } from '../../scripts/setup/kernel';
import { PROJECT_ROOT } from '../../lib/paths';
import { temporaryFolder } from '../helpers/fixtures';

describe('tslab kernelspec', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  it("runs this project's tslab with node, as `tslab install` would, plus the oneDNN setting", () => {
    const spec = projectKernelSpec();
    expect(spec.argv[0]).toBe(process.execPath);
    expect(spec.argv.slice(1, 5)).toEqual(['--require', join(PROJECT_ROOT, 'scripts', 'kernel-root.cjs'), '--require', join(PROJECT_ROOT, 'grading', 'runner', 'tslab-preload.cjs')]);
    expect(spec.argv[5]).toBe(join(PROJECT_ROOT, 'node_modules', 'tslab', 'bin', 'tslab'));
    expect(spec.argv.slice(6)).toEqual(['kernel', '--config-path', '{connection_file}']);
    for (const file of spec.argv.slice(0, 6).filter((a) => a !== '--require')) expect(existsSync(file)).toBe(true);
    expect(spec.language).toBe('typescript');
    expect(spec.env.TF_ENABLE_ONEDNN_OPTS).toBe('1');
  });

  it('writes <dir>/tslab/kernel.json once, then changes nothing', () => {
    const kernels = join(dir, 'venv-kernels');
    expect(writeKernelSpec(kernels)).toBe(true);
    const written = JSON.parse(readFileSync(join(kernels, 'tslab', 'kernel.json'), 'utf8'));
    expect(written.argv[5]).toBe(join(PROJECT_ROOT, 'node_modules', 'tslab', 'bin', 'tslab'));
    expect(written.env.TF_ENABLE_ONEDNN_OPTS).toBe('1');
    expect(writeKernelSpec(kernels)).toBe(false);
  });

  it('registers into JUPYTER_DATA_DIR when set, and repairs a stale kernel.json', async () => {
    const saved = process.env.JUPYTER_DATA_DIR;
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      process.env.JUPYTER_DATA_DIR = join(dir, 'data');
      expect(jupyterDataDir()).toEqual({ dir: join(dir, 'data'), source: 'JUPYTER_DATA_DIR' });
      const file = join(dir, 'data', 'kernels', 'tslab', 'kernel.json');
      await ensureKernel();
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(projectKernelSpec());
      writeFileSync(file, '{"argv": ["tslab"]}');
      await ensureKernel();
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(projectKernelSpec());
      await ensureKernel();
      expect(log.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('Déjà enregistré'))).toHaveLength(1);
    } finally {
      log.mockRestore();
      if (saved === undefined) delete process.env.JUPYTER_DATA_DIR;
      else process.env.JUPYTER_DATA_DIR = saved;
    }
  });
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkoutKernelName, checkoutKernelSpec, ensureKernel, isKernelOfCheckout, jupyterDataDir, projectKernelSpec, readKernelSpec, writeKernelSpec } from '../../scripts/setup/kernel';
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
    // The name and display name the lab's notebooks carry (registered as `tslab` inside .venv/ only).
    expect(spec.display_name).toBe('TypeScript (analyse-image)');
  });

  it('writes <dir>/tslab/kernel.json once, then changes nothing', () => {
    const kernels = join(dir, 'venv-kernels');
    expect(writeKernelSpec(kernels)).toBe(true);
    const written = JSON.parse(readFileSync(join(kernels, 'tslab', 'kernel.json'), 'utf8'));
    expect(written.argv[5]).toBe(join(PROJECT_ROOT, 'node_modules', 'tslab', 'bin', 'tslab'));
    expect(written.env.TF_ENABLE_ONEDNN_OPTS).toBe('1');
    expect(writeKernelSpec(kernels)).toBe(false);
  });

  it('gives each checkout a kernel name of its own, derived from its path', () => {
    expect(checkoutKernelName()).toMatch(/^tslab-analyse-image-[0-9a-f]{8}$/);
    expect(checkoutKernelName('/home/a/analyse-image')).not.toBe(checkoutKernelName('/home/b/analyse-image'));
    expect(checkoutKernelName('/home/a/analyse-image')).toBe(checkoutKernelName('/home/a/analyse-image'));
    const spec = checkoutKernelSpec();
    expect(spec.display_name).toBe(`TypeScript (analyse-image · ${basename(PROJECT_ROOT)})`);
    expect(spec.argv).toEqual(projectKernelSpec().argv);
    expect(spec.metadata).toEqual({ project: 'analyse-image', root: PROJECT_ROOT });
  });

  it("registers this checkout's own name into JUPYTER_DATA_DIR, repairs a stale kernel.json, and leaves another checkout's kernels alone", async () => {
    const saved = process.env.JUPYTER_DATA_DIR;
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      process.env.JUPYTER_DATA_DIR = join(dir, 'data');
      expect(jupyterDataDir()).toEqual({ dir: join(dir, 'data'), source: 'JUPYTER_DATA_DIR' });
      const kernels = join(dir, 'data', 'kernels');
      // Another checkout of the project, registered under its own name and (by an earlier version) as `tslab`.
      const other = { ...projectKernelSpec(), metadata: { project: 'analyse-image', root: '/elsewhere/analyse-image' } };
      writeKernelSpec(kernels, other, checkoutKernelName('/elsewhere/analyse-image'));
      writeKernelSpec(kernels, other, 'tslab');
      const otherFiles = [checkoutKernelName('/elsewhere/analyse-image'), 'tslab'].map((name) => readFileSync(join(kernels, name, 'kernel.json'), 'utf8'));

      const file = join(kernels, checkoutKernelName(), 'kernel.json');
      await ensureKernel();
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(checkoutKernelSpec());
      writeFileSync(file, '{"argv": ["tslab"]}');
      await ensureKernel();
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(checkoutKernelSpec());
      await ensureKernel();
      expect(log.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('Déjà enregistré'))).toHaveLength(1);
      expect([checkoutKernelName('/elsewhere/analyse-image'), 'tslab'].map((name) => readFileSync(join(kernels, name, 'kernel.json'), 'utf8'))).toEqual(otherFiles);
    } finally {
      log.mockRestore();
      if (saved === undefined) delete process.env.JUPYTER_DATA_DIR;
      else process.env.JUPYTER_DATA_DIR = saved;
    }
  });

  it('removes the user-wide `tslab` that an earlier version registered for this very checkout', async () => {
    const saved = process.env.JUPYTER_DATA_DIR;
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      process.env.JUPYTER_DATA_DIR = join(dir, 'legacy');
      const kernels = join(dir, 'legacy', 'kernels');
      writeKernelSpec(kernels);
      expect(isKernelOfCheckout(readKernelSpec(kernels, 'tslab'))).toBe(true);
      await ensureKernel();
      expect(existsSync(join(kernels, 'tslab'))).toBe(false);
      expect(isKernelOfCheckout(readKernelSpec(kernels, checkoutKernelName()))).toBe(true);
      expect(log.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/Ancien noyau « tslab » de ce dossier retiré/);
    } finally {
      log.mockRestore();
      if (saved === undefined) delete process.env.JUPYTER_DATA_DIR;
      else process.env.JUPYTER_DATA_DIR = saved;
    }
  });
});

/** JupyterLab as `npm start` sets it up inside .venv/: the kernel, the settings overrides and the server configuration. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configureJupyterLab, labSettingsOverrides, overridesPath, serverConfigPath } from '../../scripts/setup/jupyterlab';
import { projectKernelSpec } from '../../scripts/setup/kernel';
import { temporaryFolder } from '../helpers/fixtures';

// The schemas of JupyterLab 4.6 name these plugins and keys (share/jupyter/lab/schemas/@jupyterlab/...).
const NEWS = '@jupyterlab/apputils-extension:notification';
const TRACKER = '@jupyterlab/notebook-extension:tracker';
const LANGUAGE = '@jupyterlab/translation-extension:plugin';

describe("npm start's JupyterLab set-up", () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  it('writes the tslab kernel, no news prompt, the kernel started for new notebooks, and changes nothing the second time', () => {
    const venv = join(dir, 'venv');
    const first = configureJupyterLab(venv, false);
    expect(first.kernelChanged).toBe(true);
    expect(JSON.parse(readFileSync(join(venv, 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json'), 'utf8'))).toEqual(projectKernelSpec());
    expect(first.overrides).toBe(join(venv, 'share', 'jupyter', 'lab', 'settings', 'overrides.json'));
    const overrides = JSON.parse(readFileSync(overridesPath(venv), 'utf8'));
    expect(overrides[NEWS]).toEqual({ fetchNews: 'false', checkForUpdates: false });
    expect(overrides[TRACKER]).toEqual({ autoStartDefaultKernel: true });
    // Without the language pack, no locale (JupyterLab would look for one that is not there).
    expect(overrides[LANGUAGE]).toBeUndefined();
    // jupyter_server reads class settings from jupyter_server_config.json, not from jupyter_server_config.d/ (extensions only).
    expect(serverConfigPath(venv)).toBe(join(venv, 'etc', 'jupyter', 'jupyter_server_config.json'));
    const server = JSON.parse(readFileSync(serverConfigPath(venv), 'utf8'));
    expect(server).toEqual({ MultiKernelManager: { default_kernel_name: 'tslab' }, KernelSpecManager: { allowed_kernelspecs: ['tslab'] } });
    expect(configureJupyterLab(venv, false).kernelChanged).toBe(false);
  });

  it("keeps the environment's other server settings", () => {
    const venv = join(dir, 'venv-config');
    mkdirSync(join(venv, 'etc', 'jupyter'), { recursive: true });
    writeFileSync(serverConfigPath(venv), JSON.stringify({ ServerApp: { port: 9999 }, KernelSpecManager: { ensure_native_kernel: false } }));
    configureJupyterLab(venv, false);
    expect(JSON.parse(readFileSync(serverConfigPath(venv), 'utf8'))).toEqual({
      ServerApp: { port: 9999 },
      KernelSpecManager: { ensure_native_kernel: false, allowed_kernelspecs: ['tslab'] },
      MultiKernelManager: { default_kernel_name: 'tslab' },
    });
  });

  it('asks for the French interface when the French language pack is installed', () => {
    expect(labSettingsOverrides(true)[LANGUAGE]).toEqual({ locale: 'fr_FR' });
    const venv = join(dir, 'venv-fr');
    configureJupyterLab(venv, true);
    expect(JSON.parse(readFileSync(overridesPath(venv), 'utf8'))[LANGUAGE]).toEqual({ locale: 'fr_FR' });
  });
});

/** nbval-ts-runner picks the project's kernel for the project's notebooks, the named kernelspec or a plain tslab for others. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/paths';
import { chooseKernel, findKernelSpec, insideProject, kernelSearchPath } from '../../../grading/cli/kernel-choice';
import { defaultKernelArgv, type Notebook } from '../../../grading/runner';
import { projectKernelSpec } from '../../../scripts/setup/kernel';
import { runTsCli } from '../../helpers/cli';
import { temporaryFolder } from '../../helpers/fixtures';

const CLI = join(PROJECT_ROOT, 'grading', 'cli', 'nbval-ts-runner.ts');

function notebook(kernelName: string | undefined, cells: string[] = []): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: kernelName ? { kernelspec: { name: kernelName, display_name: kernelName, language: 'typescript' } } : {},
    cells: cells.map((source, i) => ({ id: `c${i}`, cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null })),
  } as Notebook;
}

function writeNotebook(path: string, nb: Notebook): string {
  writeFileSync(path, JSON.stringify(nb));
  return path;
}

describe('nbval-ts-runner: which kernel', () => {
  const { dir, cleanup } = temporaryFolder('nbval-ts-kernel-');
  // A notebook inside the project, in an ignored folder.
  const inProject = join(PROJECT_ROOT, '.cache', `kernel-choice-test-${process.pid}`);
  const savedPath = process.env.JUPYTER_PATH;
  beforeAll(() => {
    mkdirSync(inProject, { recursive: true });
    // A private Jupyter folder with a kernelspec named in a foreign notebook's metadata.
    mkdirSync(join(dir, 'jupyter', 'kernels', 'autre-noyau'), { recursive: true });
    writeFileSync(join(dir, 'jupyter', 'kernels', 'autre-noyau', 'kernel.json'), JSON.stringify({ argv: ['/bin/autre', '{connection_file}'], display_name: 'Autre', language: 'x', interrupt_mode: 'message', env: { AUTRE: '1' } }));
    process.env.JUPYTER_PATH = join(dir, 'jupyter');
  });
  afterAll(() => {
    if (savedPath === undefined) delete process.env.JUPYTER_PATH;
    else process.env.JUPYTER_PATH = savedPath;
    rmSync(inProject, { recursive: true, force: true });
    cleanup();
  });

  it("uses the project's kernel, from the project root, for the project's notebooks", () => {
    const path = join(PROJECT_ROOT, 'notebooks', 'classification.ipynb');
    expect(insideProject(path)).toBe(true);
    const choice = chooseKernel(path, JSON.parse(readFileSync(path, 'utf8')));
    expect(choice.argv).toEqual(projectKernelSpec().argv);
    expect(choice.cwd).toBe(PROJECT_ROOT);
    expect(choice.env.TF_ENABLE_ONEDNN_OPTS).toBe('1');
    expect(choice.description).toMatch(/the project's tslab/);
  });

  it('uses a plain tslab in the notebook\'s folder for a notebook from elsewhere, even one naming "tslab"', () => {
    expect(insideProject(join(dir, 'x.ipynb'))).toBe(false);
    expect(insideProject(`${PROJECT_ROOT}-autre/x.ipynb`)).toBe(false);
    for (const name of ['tslab', undefined, 'pas-installe']) {
      const choice = chooseKernel(join(dir, 'x.ipynb'), notebook(name));
      expect(choice.argv).toEqual(defaultKernelArgv());
      expect(choice.cwd).toBe(dir);
    }
    expect(chooseKernel(join(dir, 'x.ipynb'), notebook('tslab'), { cwd: '/tmp' }).cwd).toBe('/tmp');
  });

  it("uses the kernelspec a foreign notebook's metadata names when it is installed, and --kernel forces a choice", () => {
    expect(kernelSearchPath()[0]).toBe(join(dir, 'jupyter', 'kernels'));
    expect(findKernelSpec('autre-noyau')?.file).toBe(join(dir, 'jupyter', 'kernels', 'autre-noyau', 'kernel.json'));
    const named = chooseKernel(join(dir, 'x.ipynb'), notebook('autre-noyau'));
    expect(named).toMatchObject({ argv: ['/bin/autre', '{connection_file}'], interruptMode: 'message', cwd: dir });
    expect(named.env.AUTRE).toBe('1');
    expect(chooseKernel(join(dir, 'x.ipynb'), notebook('tslab'), { kernel: 'project' }).argv).toEqual(projectKernelSpec().argv);
    expect(chooseKernel(join(PROJECT_ROOT, 'notebooks', 'classification.ipynb'), notebook('tslab'), { kernel: 'plain' }).argv).toEqual(defaultKernelArgv());
    expect(chooseKernel(join(dir, 'x.ipynb'), notebook('tslab'), { kernel: 'autre-noyau' }).argv[0]).toBe('/bin/autre');
    expect(() => chooseKernel(join(dir, 'x.ipynb'), notebook('tslab'), { kernel: 'introuvable' })).toThrow(/no kernelspec named "introuvable"/);
  });

  it('runs, as typed, a project notebook that imports a folder of lib/, and a foreign one in its own folder', async () => {
    const cells = ["import { fusedKernelsEnabled } from './lib/kernels';\nconsole.log(process.cwd(), typeof fusedKernelsEnabled);"];
    const ours = await runTsCli(CLI, ['execute', writeNotebook(join(inProject, 'sonde.ipynb'), notebook('tslab', cells)), '--output', join(dir, 'ours.ipynb'), '--timeout', '60']);
    expect(ours.stderr).toMatch(/^kernel: the project's tslab \(root /m);
    expect(ours.code).toBe(0);
    expect(readFileSync(join(dir, 'ours.ipynb'), 'utf8')).toContain(`${PROJECT_ROOT} function`);
    const theirs = await runTsCli(CLI, ['execute', writeNotebook(join(dir, 'ailleurs.ipynb'), notebook('tslab', ['console.log(process.cwd())'])), '--output', join(dir, 'theirs.ipynb'), '--timeout', '60']);
    expect(theirs.stderr).toMatch(/^kernel: plain tslab in /m);
    expect(theirs.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'theirs.ipynb'), 'utf8')).cells[0].outputs[0].text).toEqual([`${dir}\n`]);
  }, 120_000);
});

import { explainPipFailure, missingPackages, normalisedName, requirements, TEST_PYTHON_PACKAGES } from '../../scripts/setup-python';

describe('npm run setup:python', () => {
  it('pins every module the reference comparisons import', () => {
    const modules = TEST_PYTHON_PACKAGES.map((p) => p.module);
    // keras-import, augment, pillow, pipeline, and the runner's nbclient comparison.
    for (const needed of ['keras', 'tensorflow', 'numpy', 'scipy.ndimage', 'PIL', 'nbclient', 'nbformat']) expect(modules).toContain(needed);
    for (const pin of requirements()) expect(pin).toMatch(/^[\w.-]+==\d+(\.\d+)+$/);
  });

  it('installs only what is absent or at another version', () => {
    expect(normalisedName('Jupyter_Client')).toBe('jupyter-client');
    expect(normalisedName('tensorflow_cpu')).toBe('tensorflow-cpu');
    const installed = Object.fromEntries(TEST_PYTHON_PACKAGES.map((p) => [normalisedName(p.pip), p.version])) as Record<string, string | null>;
    expect(missingPackages(installed)).toEqual([]);
    installed.keras = '3.0.0';
    installed.pillow = null;
    expect(missingPackages(installed).map((p) => p.pip)).toEqual(['keras', 'pillow']);
  });

  it('says in French what to do when pip cannot reach its index', () => {
    const output = [
      "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<...>: Failed to establish a new connection: [Errno -2] Name or service not known')': /simple/keras/",
      'ERROR: Could not find a version that satisfies the requirement keras==3.15.1 (from versions: none)',
      'ERROR: No matching distribution found for keras==3.15.1',
    ].join('\n');
    const message = explainPipFailure(output, '.venv/bin/python, Python 3.11.7', '.cache/setup-python.log');
    expect(message).toMatch(/^pip ne trouve pas keras==3\.15\.1 : l'index de paquets pip n'est pas joignable \(réseau inaccessible\)/);
    expect(message).toContain('pip config list');
    expect(message).toContain('PIP_INDEX_URL=');
    expect(message).toContain('.cache/setup-python.log');
  });
});

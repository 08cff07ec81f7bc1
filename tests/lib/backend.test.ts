import { describeBackend, loadNativeTf, nativeBackendMissingMessage } from '../../lib/backend';

describe('native backend', () => {
  it('loads @tensorflow/tfjs-node with the tensorflow backend', () => {
    const tf = loadNativeTf();
    expect(tf.getBackend()).toBe('tensorflow');
    expect(loadNativeTf()).toBe(tf);
  });

  it('says which libtensorflow is used and why', () => {
    const report = describeBackend();
    expect(report.backend).toBe('tensorflow');
    expect(report.tfjsNodeVersion).toBe('4.22.0');
    expect(report.oneDnn).toBe(true);
    // Set-up records its route; an npm-10 install by tfjs-node's own script leaves none.
    if (report.route !== undefined) expect(['official-download', 'pip-wheel']).toContain(report.route);
  });

  it('explains a missing backend and what to do, in French', () => {
    const message = nativeBackendMissingMessage('tfjs_binding.node can not be found');
    expect(message).toMatch(/moteur TensorFlow natif/);
    expect(message).toMatch(/Cause : tfjs_binding\.node can not be found/);
    expect(message).toMatch(/lancez `npm install`/);
    expect(message).toMatch(/jamais utilisé/);
  });
});

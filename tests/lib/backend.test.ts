import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackend, loadNativeTf, loadNativeTfFrom, nativeBackendMissingMessage } from '../../lib/backend';
import { temporaryFolder } from '../helpers/fixtures';

describe('native backend', () => {
  it('loads @tensorflow/tfjs-node with the tensorflow backend, once', () => {
    const tf = loadNativeTf();
    expect(tf.getBackend()).toBe('tensorflow');
    expect(loadNativeTf()).toBe(tf);
    expect(process.env.TF_ENABLE_ONEDNN_OPTS).toBeDefined();
  });

  it('says which libtensorflow is used and why', () => {
    const report = describeBackend();
    expect(report.backend).toBe('tensorflow');
    expect(report.tfjsNodeVersion).toBe('4.22.0');
    expect(report.tensorflowVersion).toMatch(/^2\.\d+\.\d+/);
    expect(['official-download', 'pip-wheel', 'tfjs-node-install-script']).toContain(report.route);
    expect(report.why.length).toBeGreaterThan(10);
    expect(report.oneDnn).toBe(['1', 'true'].includes((process.env.TF_ENABLE_ONEDNN_OPTS ?? '').toLowerCase()));
    expect(report.threads).toBeGreaterThan(0);
  });
});

describe('missing native backend', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  it('refuses a tfjs-node that cannot load, saying to run npm install', () => {
    expect(() => loadNativeTfFrom(join(dir, 'no-such-tfjs-node'))).toThrow(/Cause : Cannot find module[\s\S]*`npm install`[\s\S]*`npm run backend`/);
  });

  it('refuses a TensorFlow.js running on another backend, never falling back to pure JS', () => {
    const pureJs = join(dir, 'pure-js.js');
    writeFileSync(pureJs, "module.exports = { getBackend: () => 'cpu' };\n");
    expect(() => loadNativeTfFrom(pureJs)).toThrow(/the active backend is "cpu", not "tensorflow"/);
  });

  it('explains what is missing and what to do, in French and English', () => {
    const message = nativeBackendMissingMessage('tfjs_binding.node can not be found');
    expect(message).toMatch(/moteur TensorFlow natif/);
    expect(message).toMatch(/native TensorFlow backend is not available/);
    expect(message).toMatch(/Cause : tfjs_binding\.node can not be found/);
    expect(message).toMatch(/lancez `npm install`/);
    expect(message).toMatch(/`npm run backend`/);
    expect(message).toMatch(/jamais utilisé/);
  });
});

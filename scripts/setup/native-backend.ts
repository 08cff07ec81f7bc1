/**
 * Set-up step: make `@tensorflow/tfjs-node` load with its native backend (libtensorflow).
 * Route 1 is tfjs-node's own installer (downloads libtensorflow from Google: works with internet).
 * Route 2, chosen automatically when route 1 fails, takes libtensorflow from pip's `tensorflow_cpu`
 * wheel and builds the addon with node-gyp. Nothing falls back to the pure-JS backend.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { info, step, warn } from './log';

/** tensorflow_cpu wheel whose libtensorflow_cc exports the C API the addon uses (verified on Linux x86_64). */
export const WHEEL_TENSORFLOW_VERSION = '2.21.0';
/** File, in tfjs-node's deps/, recording which route provisioned libtensorflow. */
export const PROVENANCE_FILE = 'analyse-image-provenance.json';

/** Which route provisioned the native backend, as recorded in the provenance file. */
export interface Provenance {
  route: 'official-download' | 'pip-wheel';
  tensorflowVersion: string;
  builtAt: string;
}

const TFJS_NODE_DIR = join(PROJECT_ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const DEPS_DIR = join(TFJS_NODE_DIR, 'deps');
const WHEEL_CACHE = join(PROJECT_ROOT, '.cache', 'wheels');

interface Probe {
  ok: boolean;
  backend?: string;
  detail: string;
}

/** Loads tfjs-node in a child process (a broken addon must not crash set-up) and runs a tiny convolution. */
export function probeNativeBackend(): Probe {
  const script = `
    const tf = require('@tensorflow/tfjs-node');
    const y = tf.conv2d(tf.ones([1, 4, 4, 1]), tf.ones([2, 2, 1, 1]), 1, 'valid');
    console.log(JSON.stringify({ backend: tf.getBackend(), value: y.dataSync()[0] }));`;
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    timeout: 120000,
  });
  const lastLine = result.stdout?.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(lastLine) as { backend: string; value: number };
    const ok = parsed.backend === 'tensorflow' && parsed.value === 4;
    return { ok, backend: parsed.backend, detail: ok ? 'conv2d ok' : `backend ${parsed.backend}, conv2d gave ${parsed.value}` };
  } catch {
    return { ok: false, detail: result.error?.message ?? (explainStderr(result.stderr ?? '') || 'no output') };
  }
}

/** The provenance record, if set-up wrote one. */
export function readProvenance(): Provenance | undefined {
  try {
    return JSON.parse(readFileSync(join(DEPS_DIR, PROVENANCE_FILE), 'utf8')) as Provenance;
  } catch {
    return undefined;
  }
}

function writeProvenance(route: Provenance['route'], tensorflowVersion: string): void {
  const record: Provenance = { route, tensorflowVersion, builtAt: new Date().toISOString() };
  writeFileSync(join(DEPS_DIR, PROVENANCE_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

function run(command: string, args: string[], options: { cwd?: string; timeoutMs?: number; quiet?: boolean } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd: options.cwd ?? PROJECT_ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs,
    stdio: options.quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PATH: [join(PROJECT_ROOT, 'node_modules', '.bin'), process.env.PATH].join(delimiter) },
  });
}

/** The telling line of a failed command's stderr: a thrown error, a gyp or pip error, else the last line. */
function explainStderr(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return (
    lines.find((l) => /^\w*Error: /.test(l)) ??
    lines.find((l) => /^(gyp: |ERROR: |error: |fatal error)/.test(l) || /: error: /.test(l)) ??
    lines[lines.length - 1] ??
    ''
  );
}

function failure(result: SpawnSyncReturns<string>): string {
  if (result.error) return result.error.message;
  if (result.signal) return `stopped by ${result.signal}`;
  const tail = explainStderr(result.stderr ?? '');
  return `exit code ${result.status}${tail ? `: ${tail}` : ''}`;
}

/** Route 1: tfjs-node's own installer (libtensorflow 2.9.1 from Google's storage, then its addon). */
function officialRoute(): string | undefined {
  info('Voie 1 : téléchargement officiel de libtensorflow (installateur de tfjs-node, environ 100 Mo avec Internet)...');
  const result = run(process.execPath, [join('scripts', 'install.js')], { cwd: TFJS_NODE_DIR, timeoutMs: 15 * 60 * 1000, quiet: true });
  if (result.status !== 0) return `official download failed (${failure(result)})`;
  const probe = probeNativeBackend();
  if (!probe.ok) return `official download installed, but the backend does not load (${probe.detail})`;
  writeProvenance('official-download', '2.9.1');
  return undefined;
}

function findPython(): string | undefined {
  for (const candidate of ['python3', 'python']) {
    if (spawnSync(candidate, ['-m', 'pip', '--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

function findNodeGyp(): string[] | undefined {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath ? join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') : undefined,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return [process.execPath, candidate];
  if (spawnSync('node-gyp', ['--version'], { stdio: 'ignore' }).status === 0) return ['node-gyp'];
  return undefined;
}

/** Headers the addon's sources include from TensorFlow: the seeds of the header closure to extract. */
function addonTensorflowIncludes(): string[] {
  const bindingDir = join(TFJS_NODE_DIR, 'binding');
  const includes = new Set<string>();
  for (const file of readdirSync(bindingDir)) {
    for (const match of readFileSync(join(bindingDir, file), 'utf8').matchAll(/#include\s+"(tensorflow\/[^"]+)"/g)) includes.add(match[1]);
  }
  return [...includes];
}

function linkLibraries(): void {
  const lib = join(DEPS_DIR, 'lib');
  // The addon links -ltensorflow; the wheel's libtensorflow_cc exports the same C API.
  const links: [string, string][] = [
    ['libtensorflow.so.2', 'libtensorflow_cc.so.2'],
    ['libtensorflow.so', 'libtensorflow.so.2'],
    ['libtensorflow_cc.so', 'libtensorflow_cc.so.2'],
    ['libtensorflow_framework.so', 'libtensorflow_framework.so.2'],
  ];
  for (const [name, target] of links) {
    rmSync(join(lib, name), { force: true });
    symlinkSync(target, join(lib, name));
  }
}

/** Route 2: libtensorflow from pip's tensorflow_cpu wheel, addon built with node-gyp. */
function wheelRoute(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `the pip-wheel route is only verified on Linux x86_64 (this is ${process.platform}-${process.arch})`;
  }
  const python = findPython();
  if (!python) return 'no python3 with pip on PATH to fetch the tensorflow_cpu wheel';
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) return 'node-gyp not found (it comes with npm)';

  info(`Voie 2 : libtensorflow tirée de la roue pip tensorflow_cpu==${WHEEL_TENSORFLOW_VERSION}...`);
  mkdirSync(WHEEL_CACHE, { recursive: true });
  const wheelName = () => readdirSync(WHEEL_CACHE).find((f) => f.startsWith(`tensorflow_cpu-${WHEEL_TENSORFLOW_VERSION}-`) && f.endsWith('.whl'));
  if (!wheelName()) {
    info('Téléchargement de la roue (environ 270 Mo) avec pip...');
    const download = run(python, [
      '-m', 'pip', 'download', `tensorflow_cpu==${WHEEL_TENSORFLOW_VERSION}`, '--no-deps', '--only-binary=:all:',
      '--python-version', '3.11', '--platform', 'manylinux_2_27_x86_64', '--progress-bar', 'off', '-d', WHEEL_CACHE,
    ]);
    if (download.status !== 0 || !wheelName()) return `pip download tensorflow_cpu==${WHEEL_TENSORFLOW_VERSION} failed (${failure(download)})`;
  } else {
    info(`Roue déjà en cache : .cache/wheels/${wheelName()}`);
  }

  info('Extraction de libtensorflow et de ses en-têtes C dans tfjs-node/deps/...');
  rmSync(DEPS_DIR, { recursive: true, force: true });
  mkdirSync(DEPS_DIR, { recursive: true });
  const extract = run(python, [join(__dirname, 'extract_libtensorflow.py'), join(WHEEL_CACHE, wheelName()!), DEPS_DIR, ...addonTensorflowIncludes()]);
  if (extract.status !== 0) {
    // A damaged cached wheel must not block the next attempt: download it again then.
    rmSync(join(WHEEL_CACHE, wheelName()!), { force: true });
    return `extracting the wheel failed (${failure(extract)}); the cached wheel was removed, rerun \`npm install\``;
  }
  linkLibraries();

  info('Compilation du module natif de tfjs-node avec node-gyp (environ 20 s)...');
  const nodeDir = join(dirname(process.execPath), '..');
  const target = join(TFJS_NODE_DIR, 'lib', 'napi-v8');
  // The variables node-pre-gyp would pass: binding.gyp copies the addon to module_path itself.
  const gypArgs = ['rebuild', '--directory', TFJS_NODE_DIR, '--napi_build_version=8', '--module_name=tfjs_binding', `--module_path=${target}`];
  if (!process.env.npm_config_nodedir && existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) gypArgs.push(`--nodedir=${nodeDir}`);
  const build = run(nodeGyp[0], [...nodeGyp.slice(1), ...gypArgs], { quiet: true });
  if (build.status !== 0 || !existsSync(join(target, 'tfjs_binding.node'))) return `node-gyp build failed (${failure(build)})`;

  const probe = probeNativeBackend();
  if (!probe.ok) return `addon built, but the backend does not load (${probe.detail})`;
  writeProvenance('pip-wheel', WHEEL_TENSORFLOW_VERSION);
  return undefined;
}

/** Makes `require('@tensorflow/tfjs-node')` load the native backend; idempotent; throws with what to do when impossible. */
export async function ensureNativeBackend(): Promise<void> {
  step('Moteur TensorFlow natif (@tensorflow/tfjs-node)');
  if (!existsSync(TFJS_NODE_DIR)) throw new Error('@tensorflow/tfjs-node is not installed: run `npm install` again.');
  const before = probeNativeBackend();
  if (before.ok) {
    const provenance = readProvenance();
    info(`Déjà en place : backend tensorflow${provenance ? ` (libtensorflow ${provenance.tensorflowVersion}, ${provenance.route})` : ''}.`);
    return;
  }
  info(`Pas encore en place (${before.detail}).`);
  const forced = process.env.ANALYSE_IMAGE_TF_ROUTE; // 'official' or 'wheel', for testing a route alone
  const reasons: string[] = [];
  if (forced !== 'wheel') {
    const problem = officialRoute();
    if (!problem) {
      info('Moteur natif prêt (libtensorflow officielle téléchargée).');
      return;
    }
    reasons.push(`route 1: ${problem}`);
    warn(problem);
  }
  if (forced !== 'official') {
    const problem = wheelRoute();
    if (!problem) {
      info(`Moteur natif prêt (libtensorflow ${WHEEL_TENSORFLOW_VERSION} de la roue tensorflow_cpu).`);
      return;
    }
    reasons.push(`route 2: ${problem}`);
    warn(problem);
  }
  throw new Error(
    [
      'Le moteur TensorFlow natif ne peut pas être installé / the native TensorFlow backend cannot be installed:',
      ...reasons.map((r) => `  - ${r}`),
      'What to do next:',
      '  - with internet access, rerun `npm install` (route 1 downloads libtensorflow from storage.googleapis.com);',
      `  - offline on Linux x86_64, make \`python3 -m pip download tensorflow_cpu==${WHEEL_TENSORFLOW_VERSION}\` work (a pip index or wheel folder), then rerun \`npm install\`;`,
      '  - see https://github.com/tensorflow/tfjs/tree/master/tfjs-node for other platforms.',
      'Training is never run on the pure-JavaScript backend: it is about 100 times slower.',
    ].join('\n'),
  );
}

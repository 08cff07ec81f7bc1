/**
 * Set-up step: make `@tensorflow/tfjs-node` load with its native backend (libtensorflow).
 * Route 1 is tfjs-node's own installer (downloads libtensorflow from Google: works with internet).
 * Route 2, chosen automatically when route 1 fails, takes libtensorflow from pip's `tensorflow_cpu`
 * wheel and builds the addon with node-gyp. Nothing falls back to the pure-JS backend.
 * ANALYSE_IMAGE_TF_ROUTE=official|wheel runs one route alone (to test it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { info, step, warn } from './log';

/** tensorflow_cpu wheel whose libtensorflow_cc exports the C API the addon uses (verified on Linux x86_64). */
export const WHEEL_TENSORFLOW_VERSION = '2.21.0';
/** File, in tfjs-node's deps/, recording which route provisioned libtensorflow. */
export const PROVENANCE_FILE = 'analyse-image-provenance.json';

/** How libtensorflow got into tfjs-node's deps/. */
export type Route = 'official-download' | 'pip-wheel';

/** Which route provisioned the native backend, as recorded in the provenance file. */
export interface Provenance {
  route: Route;
  tensorflowVersion: string;
  builtAt: string;
}

/** What a child process found when it loaded tfjs-node. */
export interface Probe {
  ok: boolean;
  backend?: string;
  /** libtensorflow's own TF_Version(), when the addon loaded. */
  tensorflowVersion?: string;
  detail: string;
}

// The wheel route is pinned to the artefact that was verified: cp311 manylinux_2_27 x86_64. Only its
// shared libraries are used, so the local Python's version does not matter, but glibc does.
const WHEEL_PYTHON_VERSION = '3.11';
const WHEEL_PLATFORM = 'manylinux_2_27_x86_64';
const WHEEL_MIN_GLIBC = [2, 27];
/** libtensorflow version that tfjs-node 4.22's installer downloads (its deps-constants.js). */
const OFFICIAL_TENSORFLOW_VERSION = '2.9.1';

const TFJS_NODE_DIR = join(PROJECT_ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const DEPS_DIR = join(TFJS_NODE_DIR, 'deps');
const WHEEL_CACHE = join(PROJECT_ROOT, '.cache', 'wheels');

const MINUTE = 60_000;

/** Loads tfjs-node in a child process (a broken addon must not crash set-up) and runs a tiny convolution. */
export function probeNativeBackend(): Probe {
  const script = `
    const tf = require('@tensorflow/tfjs-node');
    const y = tf.conv2d(tf.ones([1, 4, 4, 1]), tf.ones([2, 2, 1, 1]), 1, 'valid');
    const binding = tf.backend().binding;
    console.log(JSON.stringify({ backend: tf.getBackend(), value: y.dataSync()[0], tf: binding && binding.TF_Version }));`;
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    timeout: 2 * MINUTE,
  });
  const lastLine = result.stdout?.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(lastLine) as { backend: string; value: number; tf?: string };
    const ok = parsed.backend === 'tensorflow' && parsed.value === 4;
    return {
      ok,
      backend: parsed.backend,
      tensorflowVersion: parsed.tf,
      detail: ok ? 'conv2d ok' : `backend ${parsed.backend}, conv2d gave ${parsed.value} instead of 4`,
    };
  } catch {
    if (result.error) return { ok: false, detail: result.error.message };
    // A CPU without the instructions libtensorflow was compiled for dies on SIGILL, silently.
    if (result.signal === 'SIGILL') return { ok: false, detail: 'killed by SIGILL: this CPU lacks an instruction set libtensorflow needs (AVX?)' };
    if (result.signal) return { ok: false, detail: `loading tfjs-node was killed by ${result.signal}` };
    return { ok: false, detail: explain((result.stderr ?? '').split('\n')) || 'no output' };
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

function writeProvenance(route: Route, tensorflowVersion: string): void {
  const record: Provenance = { route, tensorflowVersion, builtAt: new Date().toISOString() };
  writeFileSync(join(DEPS_DIR, PROVENANCE_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** The telling line of a failed command's output: a thrown error, a gyp or pip error, else the last line. */
function explain(lines: string[]): string {
  const trimmed = lines.map((l) => l.trim()).filter(Boolean);
  return (
    trimmed.find((l) => /^\w*Error: |^Error \[/.test(l)) ??
    trimmed.find((l) => /^(gyp ERR! stack Error|gyp: |ERROR: |error: |fatal error)/.test(l) || /: (fatal )?error: /.test(l)) ??
    trimmed.find((l) => /\b(ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN)\b/.test(l)) ??
    trimmed[trimmed.length - 1] ??
    ''
  );
}

interface RunOptions {
  cwd?: string;
  timeoutMs: number;
  /** Show the command's output, indented, as it comes; otherwise only keep it for the error message. */
  echo?: boolean | ((line: string) => boolean);
  /** Let the command write its stdout to the terminal itself (pip draws its own progress bar). */
  inheritStdout?: boolean;
  /** Printed every 20 s of silence, so a long download or build never looks stuck. */
  heartbeat?: string;
  env?: NodeJS.ProcessEnv;
}

interface RunResult {
  ok: boolean;
  /** Why it failed, in one line. */
  reason: string;
}

/**
 * Runs a command with a time limit. It gets its own process group, so a timeout also stops what it
 * started (make, g++, node-pre-gyp): nothing keeps writing into deps/ while the next route works.
 */
function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const ownGroup = process.platform !== 'win32';
    const child = spawn(command, args, {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', options.inheritStdout ? 'inherit' : 'pipe', 'pipe'],
      detached: ownGroup,
    });
    const kill = (signal: NodeJS.Signals): void => {
      try {
        if (ownGroup && child.pid) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // already gone
      }
    };
    // The child is outside the terminal's process group: pass on Ctrl-C, and never leave it behind.
    const onSignal = (signal: NodeJS.Signals): void => {
      kill('SIGTERM');
      cleanup();
      process.kill(process.pid, signal);
    };
    const onExit = (): void => kill('SIGKILL');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('exit', onExit);

    const tail: string[] = [];
    let lastOutput = Date.now();
    const consume = (stream: NodeJS.ReadableStream | null): void => {
      if (!stream) return;
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        lastOutput = Date.now();
        const lines = (pending + chunk).split(/\r?\n|\r/);
        pending = lines.pop() ?? '';
        for (const line of lines) {
          tail.push(line);
          if (tail.length > 200) tail.shift();
          const show = typeof options.echo === 'function' ? options.echo(line) : options.echo;
          if (show && line.trim()) info(`  ${line}`);
        }
      });
      stream.on('end', () => pending && tail.push(pending));
    };
    consume(child.stdout);
    consume(child.stderr);

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), 5000).unref();
    }, options.timeoutMs);
    const ticker = setInterval(() => {
      if (options.heartbeat && Date.now() - lastOutput >= 20_000) {
        lastOutput = Date.now();
        info(`  … ${options.heartbeat} (${Math.round((Date.now() - started) / 1000)} s)`);
      }
    }, 1000);
    function cleanup(): void {
      clearTimeout(timer);
      clearInterval(ticker);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('exit', onExit);
    }

    let settled = false;
    const finish = (result: RunResult): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(result);
    };
    child.on('error', (error) => finish({ ok: false, reason: error.message }));
    child.on('close', (code, signal) => {
      if (timedOut) return finish({ ok: false, reason: `no result after ${Math.round(options.timeoutMs / 1000)} s, stopped` });
      if (code === 0) return finish({ ok: true, reason: '' });
      const why = explain(tail);
      finish({ ok: false, reason: `${signal ? `killed by ${signal}` : `exit code ${code}`}${why ? `: ${why}` : ''}` });
    });
  });
}

/** An echo filter that shows a script's messages but not the dump of its crash (its reason line is reported anyway). */
function showUntilCrash(): (line: string) => boolean {
  let crashed = false;
  return (line) => {
    // Node starts a crash report with the throwing location ("node:events:502", "/path/file.js:12").
    if (/^(node:[\w/]+:\d+|\/.*\.js:\d+)$/.test(line.trim())) crashed = true;
    return !crashed;
  };
}

/** PATH with the folders npm would give a lifecycle script of tfjs-node (node-pre-gyp lives there). */
function pathWithPackageBins(): string {
  return [join(TFJS_NODE_DIR, 'node_modules', '.bin'), join(PROJECT_ROOT, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter);
}

/** Route 1: tfjs-node's own installer (libtensorflow 2.9.1 from Google's storage, then its prebuilt addon). */
async function officialRoute(): Promise<string | undefined> {
  info(`Voie 1 : téléchargement officiel de libtensorflow ${OFFICIAL_TENSORFLOW_VERSION} (installateur de tfjs-node)...`);
  // install.js rewrites its package.json around node-pre-gyp and only restores it on success.
  const manifest = join(TFJS_NODE_DIR, 'package.json');
  const manifestBefore = readFileSync(manifest, 'utf8');
  const result = await run(process.execPath, [join('scripts', 'install.js')], {
    cwd: TFJS_NODE_DIR,
    timeoutMs: 10 * MINUTE,
    echo: showUntilCrash(),
    heartbeat: 'téléchargement / compilation en cours',
    env: { ...process.env, PATH: pathWithPackageBins() },
  });
  if (readFileSync(manifest, 'utf8') !== manifestBefore) writeFileSync(manifest, manifestBefore);
  if (!result.ok) {
    // A download cut short leaves a truncated libtensorflow that install.js would take as done next time.
    discardAddonAndDeps();
    const offline = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH)\b/.test(result.reason) ? ' (no access to Google\'s download server)' : '';
    return `tfjs-node's installer (scripts/install.js) failed${offline}: ${result.reason}`;
  }
  const probe = probeNativeBackend();
  if (!probe.ok) {
    discardAddonAndDeps();
    return `tfjs-node's installer finished, but the backend does not load: ${probe.detail}`;
  }
  writeProvenance('official-download', probe.tensorflowVersion ?? OFFICIAL_TENSORFLOW_VERSION);
  return undefined;
}

function discardAddonAndDeps(): void {
  rmSync(DEPS_DIR, { recursive: true, force: true });
  rmSync(addonPath(), { force: true });
}

/** Why the pinned wheel cannot serve this machine, or undefined when it can. */
function wheelUnsupportedReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `the pip wheel route only applies to Linux x86_64 (this machine is ${process.platform}-${process.arch})`;
  }
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const glibc = header?.glibcVersionRuntime;
  if (!glibc) return 'the pip wheel route needs glibc (this Linux uses another C library, e.g. musl/Alpine)';
  const [major, minor] = glibc.split('.').map(Number);
  if (major < WHEEL_MIN_GLIBC[0] || (major === WHEEL_MIN_GLIBC[0] && minor < WHEEL_MIN_GLIBC[1])) {
    return `the tensorflow_cpu wheel needs glibc >= ${WHEEL_MIN_GLIBC.join('.')} (this machine has ${glibc})`;
  }
  return undefined;
}

/** A Python 3 (extraction and node-gyp need one), with pip when the wheel still has to be fetched. */
function findPython(needPip: boolean): string | undefined {
  const probe = needPip ? ['-m', 'pip', '--version'] : ['-c', 'import sys, zipfile; sys.exit(sys.version_info[0] != 3)'];
  for (const candidate of ['python3', 'python']) {
    if (spawnSync(candidate, probe, { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

/** The node-gyp that npm bundles (npm passes its path to scripts), else one on PATH. */
function findNodeGyp(): string[] | undefined {
  const nodeBin = dirname(process.execPath);
  const bundled = ['npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'];
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath ? join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') : undefined,
    join(nodeBin, '..', 'lib', 'node_modules', ...bundled), // Unix layouts: /usr, nvm, Homebrew
    join(nodeBin, 'node_modules', ...bundled), // Windows layout
  ];
  for (const candidate of candidates) if (candidate && candidate.endsWith('.js') && existsSync(candidate)) return [process.execPath, candidate];
  if (spawnSync('node-gyp', ['--version'], { stdio: 'ignore' }).status === 0) return ['node-gyp'];
  return undefined;
}

/** Where tfjs-node will look for its addon: asked of the node-pre-gyp it loads it with (dist/index.js). */
function addonPath(): string {
  const nodePreGyp = require(require.resolve('@mapbox/node-pre-gyp', { paths: [TFJS_NODE_DIR] })) as { find: (packageJson: string) => string };
  return nodePreGyp.find(join(TFJS_NODE_DIR, 'package.json'));
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
  // binding.gyp links -ltensorflow -ltensorflow_framework; the wheel's libtensorflow_cc exports the same C API.
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

function cachedWheel(): string | undefined {
  if (!existsSync(WHEEL_CACHE)) return undefined;
  const name = readdirSync(WHEEL_CACHE).find((f) => f.startsWith(`tensorflow_cpu-${WHEEL_TENSORFLOW_VERSION}-`) && f.endsWith('_x86_64.whl'));
  return name && join(WHEEL_CACHE, name);
}

async function downloadWheel(python: string): Promise<string | undefined> {
  mkdirSync(WHEEL_CACHE, { recursive: true });
  info(`Téléchargement de la roue tensorflow_cpu==${WHEEL_TENSORFLOW_VERSION} (environ 270 Mo) avec pip, gardée dans .cache/wheels/...`);
  const result = await run(
    python,
    ['-m', 'pip', 'download', `tensorflow_cpu==${WHEEL_TENSORFLOW_VERSION}`, '--no-deps', '--only-binary=:all:',
      '--python-version', WHEEL_PYTHON_VERSION, '--platform', WHEEL_PLATFORM, '--disable-pip-version-check', '-d', WHEEL_CACHE],
    {
      timeoutMs: 30 * MINUTE,
      inheritStdout: true,
      echo: (line) => /^(ERROR|WARNING)/.test(line),
      heartbeat: process.stdout.isTTY ? undefined : 'téléchargement de la roue en cours',
      // Offline, pip would retry an unreachable index five times: once is enough to move on.
      env: { ...process.env, PIP_RETRIES: process.env.PIP_RETRIES ?? '1' },
    },
  );
  if (!result.ok) return `\`${python} -m pip download tensorflow_cpu==${WHEEL_TENSORFLOW_VERSION}\` failed: ${result.reason}`;
  return cachedWheel() ? undefined : `pip download finished but left no tensorflow_cpu-${WHEEL_TENSORFLOW_VERSION}-*_x86_64.whl in .cache/wheels/`;
}

/** Fresh deps/ holding the wheel's two libraries (under the names binding.gyp links) and the C headers. */
async function extractWheel(python: string, wheel: string): Promise<RunResult> {
  rmSync(DEPS_DIR, { recursive: true, force: true });
  mkdirSync(DEPS_DIR, { recursive: true });
  const result = await run(python, [join(__dirname, 'extract_libtensorflow.py'), wheel, DEPS_DIR, ...addonTensorflowIncludes()], {
    timeoutMs: 10 * MINUTE,
    echo: (line) => /^extracted /.test(line),
  });
  if (result.ok) linkLibraries();
  return result;
}

/** Route 2: libtensorflow from pip's tensorflow_cpu wheel, addon built with node-gyp. */
async function wheelRoute(): Promise<string | undefined> {
  const unsupported = wheelUnsupportedReason();
  if (unsupported) return unsupported;
  let wheel = cachedWheel();
  const python = findPython(!wheel);
  if (!python) return wheel ? 'no python3 on PATH (needed to extract the wheel and by node-gyp)' : 'no python3 with pip on PATH to fetch the tensorflow_cpu wheel';
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) return 'node-gyp not found (npm ships it: reinstall npm, or `npm install -g node-gyp`)';

  info(`Voie 2 : libtensorflow ${WHEEL_TENSORFLOW_VERSION} tirée de la roue pip tensorflow_cpu, module natif compilé ici...`);
  if (wheel) info(`Roue déjà en cache : ${relative(PROJECT_ROOT, wheel)}`);
  else {
    const problem = await downloadWheel(python);
    if (problem) return problem;
    wheel = cachedWheel()!;
  }

  info('Extraction de libtensorflow et de ses en-têtes C dans tfjs-node/deps/...');
  let started = Date.now();
  let extracted = await extractWheel(python, wheel);
  if (!extracted.ok && /BadZipFile|Bad CRC|Error -3 while decompressing|zlib|EOFError/i.test(extracted.reason)) {
    // A download cut short or a disk hiccup: fetch it once more rather than fail.
    warn(`La roue en cache est abîmée (${extracted.reason}) : nouveau téléchargement.`);
    rmSync(wheel, { force: true });
    const problem = await downloadWheel(python);
    if (problem) return problem;
    wheel = cachedWheel()!;
    started = Date.now();
    extracted = await extractWheel(python, wheel);
  }
  if (!extracted.ok) return `extracting libtensorflow from ${relative(PROJECT_ROOT, wheel)} failed: ${extracted.reason}`;
  info(`(extraction : ${((Date.now() - started) / 1000).toFixed(1)} s)`);

  const target = addonPath();
  const napi = /napi-v(\d+)/.exec(target)?.[1];
  if (!napi) return `unexpected addon path from node-pre-gyp: ${target}`;
  info(`Compilation du module natif de tfjs-node avec node-gyp (N-API ${napi}, environ 20 s)...`);
  started = Date.now();
  rmSync(target, { force: true });
  // The variables node-pre-gyp would pass: binding.gyp's action_after_build copies the addon to module_path.
  const gypArgs = ['rebuild', '--jobs=max', `--directory=${TFJS_NODE_DIR}`, `--napi_build_version=${napi}`, '--module_name=tfjs_binding', `--module_path=${dirname(target)}`];
  // Local headers, so node-gyp does not try to download them (npm may pass nodedir itself).
  const nodeDir = join(dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) gypArgs.push(`--nodedir=${nodeDir}`);
  const build = await run(nodeGyp[0], [...nodeGyp.slice(1), ...gypArgs], {
    timeoutMs: 15 * MINUTE,
    // gyp's own "info" chatter hides what matters: the files compiled, warnings, errors.
    echo: (line) => !/^gyp (info|http|verb)\b/.test(line) && !/^make: (Entering|Leaving) directory/.test(line),
    heartbeat: 'compilation en cours',
  });
  if (!build.ok) return `node-gyp could not build the addon: ${build.reason}`;
  if (!existsSync(target)) return `node-gyp finished but ${relative(PROJECT_ROOT, target)} is missing`;
  info(`(compilation : ${((Date.now() - started) / 1000).toFixed(1)} s)`);

  const probe = probeNativeBackend();
  if (!probe.ok) return `the addon was built, but the backend does not load: ${probe.detail}`;
  writeProvenance('pip-wheel', probe.tensorflowVersion ?? WHEEL_TENSORFLOW_VERSION);
  return undefined;
}

/** The error thrown when neither route worked: what failed, route by route, and what to do next. */
export function provisioningFailedMessage(reasons: string[]): string {
  return [
    'Le moteur TensorFlow natif ne peut pas être installé / the native TensorFlow backend could not be installed:',
    ...reasons.map((r) => `  - ${r}`),
    'À faire / what to do next:',
    '  - with internet access (storage.googleapis.com reachable), rerun `npm install`: route 1 downloads libtensorflow;',
    `  - offline on Linux x86_64 (glibc >= ${WHEEL_MIN_GLIBC.join('.')}): install python3 + pip and make`,
    `    \`python3 -m pip download tensorflow_cpu==${WHEEL_TENSORFLOW_VERSION} --no-deps\` work (a pip index or a wheel folder),`,
    `    or put the wheel itself in .cache/wheels/, then rerun \`npm install\` (route 2 also needs g++ and make);`,
    '  - other platforms and troubleshooting: https://github.com/tensorflow/tfjs/tree/master/tfjs-node#readme',
    'Then check with `npm run backend`. Training never runs on the pure-JavaScript backend: it is about 100 times slower.',
  ].join('\n');
}

/** Makes `require('@tensorflow/tfjs-node')` load the native backend; idempotent; throws with what to do when impossible. */
export async function ensureNativeBackend(): Promise<void> {
  step('Moteur TensorFlow natif (@tensorflow/tfjs-node)');
  if (!existsSync(TFJS_NODE_DIR)) throw new Error('@tensorflow/tfjs-node is not installed: run `npm install` again.');
  const before = probeNativeBackend();
  if (before.ok) {
    const provenance = readProvenance();
    const how = provenance ? `, ${provenance.route}` : ", installée par le script de tfjs-node";
    info(`Déjà en place : backend tensorflow (libtensorflow ${before.tensorflowVersion ?? provenance?.tensorflowVersion ?? '?'}${how}).`);
    return;
  }
  info(`Pas encore en place (${before.detail}).`);
  const forced = process.env.ANALYSE_IMAGE_TF_ROUTE;
  const reasons: string[] = [];
  if (forced !== 'wheel') {
    const problem = await officialRoute();
    if (!problem) {
      info(`Moteur natif prêt (libtensorflow ${readProvenance()?.tensorflowVersion} officielle, téléchargée).`);
      return;
    }
    reasons.push(`route 1 (official download): ${problem}`);
    warn(`Voie 1 impossible : ${problem}`);
  }
  if (forced !== 'official') {
    const problem = await wheelRoute();
    if (!problem) {
      info(`Moteur natif prêt (libtensorflow ${readProvenance()?.tensorflowVersion} de la roue tensorflow_cpu).`);
      return;
    }
    reasons.push(`route 2 (pip wheel): ${problem}`);
    warn(`Voie 2 impossible : ${problem}`);
  }
  throw new Error(provisioningFailedMessage(reasons));
}

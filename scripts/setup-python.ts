/**
 * `npm run setup:python`: the project's .venv/ with what the tests' reference comparisons need
 * (Keras on TensorFlow, NumPy, SciPy, Pillow, nbclient, nbformat, ipykernel), pinned to versions that pip's
 * index serves. Idempotent: when every package is there at its pinned version it says so and changes
 * nothing. The lab never needs it; `.ci/run` runs it so that no test skips in CI.
 * `--check` only reports (exit 1 when something is missing); `--help` prints the usage.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';
import { VENV_DIR, VENV_PYTHON } from './python-env';
import { info, step, warn } from './setup/log';

/** One pinned pip requirement: its distribution name, version, and the module a test imports. */
export interface PinnedPackage {
  pip: string;
  version: string;
  module: string;
  /** The tests that need it. */
  neededBy: string;
}

/** tensorflow_cpu only has wheels for Linux x86_64 and Windows; elsewhere the same release is `tensorflow`. */
function tensorflowDistribution(): string {
  return (process.platform === 'linux' && process.arch === 'x64') || process.platform === 'win32' ? 'tensorflow_cpu' : 'tensorflow';
}

/**
 * What the tests import from Python, pinned (checked with `pip index versions` against pip's local
 * index on 2026-12-01). Their own dependencies are left to pip's resolver.
 */
export const TEST_PYTHON_PACKAGES: PinnedPackage[] = [
  { pip: tensorflowDistribution(), version: '2.21.0', module: 'tensorflow', neededBy: 'Keras backend (tests/lib/models/keras-import.test.ts)' },
  { pip: 'keras', version: '3.15.1', module: 'keras', neededBy: 'tests/lib/models/keras-import.test.ts, tests/lib/augment/augment.test.ts' },
  { pip: 'numpy', version: '2.4.6', module: 'numpy', neededBy: 'tests/lib/augment, tests/lib/preprocess, tests/lib/models' },
  { pip: 'scipy', version: '1.17.1', module: 'scipy.ndimage', neededBy: 'tests/lib/augment/augment.test.ts' },
  { pip: 'pillow', version: '12.3.0', module: 'PIL', neededBy: 'tests/lib/preprocess/pillow.test.ts, pipeline.test.ts' },
  { pip: 'nbclient', version: '0.11.0', module: 'nbclient', neededBy: 'tests/grading/runner/nbclient.test.ts' },
  { pip: 'nbformat', version: '5.11.1', module: 'nbformat', neededBy: 'tests/grading/runner/nbclient.test.ts' },
  { pip: 'jupyter_client', version: '8.10.0', module: 'jupyter_client', neededBy: 'nbclient' },
  { pip: 'ipykernel', version: '7.4.0', module: 'ipykernel', neededBy: 'the python3 kernel of Python-edition notebooks (tests/grading/grader/python-edition.test.ts, npm run grade)' },
  // The course's Python notebooks read the CSVs with pandas and plot with matplotlib: graded with execution, they need both.
  { pip: 'pandas', version: '3.0.6', module: 'pandas', neededBy: 'Python-edition notebooks graded with execution (tests/grading/grader/python-edition.test.ts)' },
  { pip: 'matplotlib', version: '3.11.2', module: 'matplotlib', neededBy: 'Python-edition notebooks graded with execution (tests/grading/grader/python-edition.test.ts)' },
];

/** The pip requirement strings, e.g. `keras==3.15.1`. */
export function requirements(packages: PinnedPackage[] = TEST_PYTHON_PACKAGES): string[] {
  return packages.map((p) => `${p.pip}==${p.version}`);
}

/** pip's normalised distribution name (PEP 503): `Jupyter_Client` -> `jupyter-client`. */
export function normalisedName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The packages whose installed version (from `installedVersions`) is absent or not the pinned one. */
export function missingPackages(installed: Record<string, string | null>, packages: PinnedPackage[] = TEST_PYTHON_PACKAGES): PinnedPackage[] {
  return packages.filter((p) => installed[normalisedName(p.pip)] !== p.version);
}

// Prints {normalised distribution name: version or null} for the names given on the command line.
const VERSIONS_SCRIPT = `
import json, re, sys
from importlib import metadata
found = {}
for name in sys.argv[1:]:
    key = re.sub(r"[-_.]+", "-", name).lower()
    try:
        found[key] = metadata.version(name)
    except metadata.PackageNotFoundError:
        found[key] = None
print(json.dumps(found))
`;

/** Installed versions in .venv/ of the packages, or undefined when .venv's interpreter does not run. */
function installedVersions(packages: PinnedPackage[]): Record<string, string | null> | undefined {
  if (!existsSync(VENV_PYTHON)) return undefined;
  const run = spawnSync(VENV_PYTHON, ['-c', VERSIONS_SCRIPT, ...packages.map((p) => p.pip)], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) return undefined;
  try {
    return JSON.parse(run.stdout) as Record<string, string | null>;
  } catch {
    return undefined;
  }
}

/** The modules of `packages` that .venv's interpreter cannot import (a version can be there and broken). */
function unimportable(packages: PinnedPackage[]): string[] {
  const script = `import importlib, json, sys\nbad = []\nfor m in sys.argv[1:]:\n    try:\n        importlib.import_module(m)\n    except Exception as e:\n        bad.append(f"{m} ({type(e).__name__}: {e})")\nprint(json.dumps(bad))`;
  const run = spawnSync(VENV_PYTHON, ['-c', script, ...packages.map((p) => p.module)], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });
  if (run.status !== 0) return [`python (${(run.stderr || run.error?.message || '').trim().split('\n').pop()})`];
  return JSON.parse(run.stdout) as string[];
}

function systemPython(): { command: string; version: string } | undefined {
  for (const command of ['python3', 'python']) {
    const run = spawnSync(command, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3]); sys.exit(sys.version_info[0] != 3)'], { encoding: 'utf8' });
    if (run.status === 0) return { command, version: run.stdout.trim() };
  }
  return undefined;
}

function pythonVersion(python: string): string {
  return spawnSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' }).stdout?.trim() || '?';
}

/** Set-up failure: a French message saying what went wrong and what to do. */
export class SetupPythonError extends Error {}

/** The French explanation of a failed `pip install`, from pip's output. */
export function explainPipFailure(output: string, python: string, logFile: string): string {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const notFound = lines.find((l) => /No matching distribution found for|Could not find a version that satisfies the requirement/.test(l));
  const network = lines.some((l) => /NewConnectionError|Name or service not known|Temporary failure in name resolution|ConnectTimeout|Network is unreachable|Connection refused/.test(l));
  const log = `Journal complet de pip : ${logFile}`;
  if (notFound) {
    const requirement = /(?:found for|requirement) (\S+)/.exec(notFound)?.[1] ?? '?';
    return [
      `pip ne trouve pas ${requirement} : l'index de paquets pip n'est pas joignable${network ? ' (réseau inaccessible)' : ''}, ou il n'a pas cette version pour ce Python (${python}).`,
      'À faire : vérifiez l\'index configuré (`pip config list` : index-url, extra-index-url, find-links) et l\'accès réseau,',
      'ou donnez un index joignable : `PIP_INDEX_URL=<adresse de l\'index> npm run setup:python`.',
      `Vérifiez aussi que l'index a des roues pour ce Python (l'index local des machines du projet sert Python 3.11).`,
      log,
    ].join('\n');
  }
  if (network) {
    return [
      "pip n'a pas pu joindre l'index de paquets (réseau inaccessible).",
      "À faire : vérifiez l'accès réseau et l'index configuré (`pip config list`), ou donnez un index joignable : `PIP_INDEX_URL=<adresse> npm run setup:python`.",
      log,
    ].join('\n');
  }
  const telling = lines.filter((l) => /^ERROR: |Error: /.test(l)).slice(-3);
  return [`pip install a échoué : ${telling.join(' / ') || lines[lines.length - 1] || 'aucun message'}`, log].join('\n');
}

/** Makes .venv/ with the system Python, or remakes it when its interpreter no longer runs. */
function ensureVenv(): void {
  if (existsSync(VENV_PYTHON) && spawnSync(VENV_PYTHON, ['-c', 'import sys'], { stdio: 'ignore' }).status === 0) return;
  const python = systemPython();
  if (!python) {
    throw new SetupPythonError('Aucun python3 sur le PATH : installez Python 3.10 à 3.13 (Debian : `apt-get install python3 python3-venv`), puis relancez `npm run setup:python`.');
  }
  if (existsSync(VENV_DIR)) {
    warn(`${relative(PROJECT_ROOT, VENV_DIR)}/ existe mais son Python ne démarre plus : il est recréé.`);
    rmSync(VENV_DIR, { recursive: true, force: true });
  }
  info(`Création de .venv/ avec ${python.command} ${python.version}...`);
  const made = spawnSync(python.command, ['-m', 'venv', VENV_DIR], { encoding: 'utf8' });
  if (made.status !== 0) {
    const why = (made.stderr || made.stdout || '').trim().split('\n').pop();
    throw new SetupPythonError(`\`${python.command} -m venv .venv\` a échoué (${why}).\nÀ faire (Debian) : \`apt-get install python3-venv\`, puis relancez \`npm run setup:python\`.`);
  }
}

function minutes(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/**
 * Runs `pip install` of the pins in .venv/, printing French progress lines (resolution, download,
 * installation, a heartbeat every 30 s); pip's full output goes to `logFile`.
 */
function pipInstall(pins: string[], logFile: string): Promise<void> {
  const wheelCache = join(PROJECT_ROOT, '.cache', 'wheels'); // the native-backend step keeps the tensorflow_cpu wheel there
  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', ...(existsSync(wheelCache) ? ['--find-links', wheelCache] : []), ...pins];
  // Offline, pip would retry an unreachable index five times per package, with back-off: once is enough.
  const env = { ...process.env, PIP_RETRIES: process.env.PIP_RETRIES ?? '1', PYTHONUNBUFFERED: '1' };
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(VENV_PYTHON, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    let collected = 0;
    let phase = 'résolution des dépendances';
    const onLine = (line: string): void => {
      output.push(line);
      // "Collecting name" from an index over HTTP, "Processing /path/name-1.0-....whl" from a local one.
      const collecting = /^(?:Collecting|Processing) (?:\S*\/)?([^/\s]+?)(?:-\d[^/\s]*\.whl)?(?:\s|$)/.exec(line);
      if (collecting) {
        collected++;
        if (collected === 1 || collected % 10 === 0) info(`Résolution des dépendances : ${collected} paquets examinés (${collecting[1]})...`);
      } else if (/^Installing collected packages: /.test(line)) {
        const count = line.replace(/^Installing collected packages: /, '').split(', ').length;
        phase = 'installation';
        info(`Installation de ${count} paquets dans .venv/ (tensorflow est long : environ 5 min)...`);
      } else if (/^Successfully installed /.test(line)) {
        info(`Installé : ${line.replace(/^Successfully installed /, '').split(' ').length} paquets.`);
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (pending + chunk).split(/\r?\n/);
        pending = lines.pop() ?? '';
        lines.forEach(onLine);
      });
      stream.on('end', () => pending && onLine(pending));
    }
    const heartbeat = setInterval(() => info(`... pip travaille encore (${phase}, ${minutes(Date.now() - started)})`), 30_000);
    const onSignal = (signal: NodeJS.Signals): void => {
      child.kill('SIGTERM');
      process.kill(process.pid, signal);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    child.on('error', (error) => output.push(`Error: ${error.message}`));
    child.on('close', (code) => {
      clearInterval(heartbeat);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      mkdirSync(join(PROJECT_ROOT, '.cache'), { recursive: true });
      writeFileSync(logFile, `${VENV_PYTHON} ${args.join(' ')}\n\n${output.join('\n')}\n`);
      if (code === 0) resolve();
      else reject(new SetupPythonError(explainPipFailure(output.join('\n'), `${VENV_PYTHON}, Python ${pythonVersion(VENV_PYTHON)}`, relative(PROJECT_ROOT, logFile))));
    });
  });
}

/** Makes sure .venv/ has every pinned test package; returns true when something had to be installed. */
export async function ensureTestPythonEnv(): Promise<boolean> {
  ensureVenv();
  const installed = installedVersions(TEST_PYTHON_PACKAGES) ?? {};
  const missing = missingPackages(installed);
  if (missing.length === 0) {
    const broken = unimportable(TEST_PYTHON_PACKAGES);
    if (broken.length === 0) {
      info(`Déjà prêt : ${requirements().join(', ')} (${relative(PROJECT_ROOT, VENV_PYTHON)}).`);
      return false;
    }
    throw new SetupPythonError(`Les paquets sont installés mais ne s'importent pas : ${broken.join(' ; ')}.\nÀ faire : supprimez .venv/ (\`rm -r .venv\`) et relancez \`npm run setup:python\`.`);
  }
  for (const p of missing) {
    const have = installed[normalisedName(p.pip)];
    info(`${p.pip}==${p.version} ${have ? `(version ${have} présente)` : 'absent'} : pour ${p.neededBy}`);
  }
  await pipInstall(requirements(missing), join(PROJECT_ROOT, '.cache', 'setup-python.log'));
  const still = missingPackages(installedVersions(TEST_PYTHON_PACKAGES) ?? {});
  if (still.length) throw new SetupPythonError(`pip a terminé mais ces versions manquent encore : ${requirements(still).join(', ')} (voir .cache/setup-python.log).`);
  const broken = unimportable(TEST_PYTHON_PACKAGES);
  if (broken.length) throw new SetupPythonError(`Installés, mais ne s'importent pas : ${broken.join(' ; ')} (voir .cache/setup-python.log).`);
  return true;
}

const USAGE = `npm run setup:python [-- --check]

Crée .venv/ (si besoin) et y installe avec pip, depuis l'index configuré, ce dont les tests de
comparaison ont besoin : ${requirements().join(', ')}.
Relancé, il vérifie les versions et ne change rien. Le laboratoire n'en a pas besoin.
  --check   vérifie seulement (code de sortie 1 s'il manque quelque chose)`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length) {
    console.error(`Option inconnue : ${unknown.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  step('Environnement Python des tests (.venv/)');
  const started = Date.now();
  if (argv.includes('--check')) {
    const missing = missingPackages(installedVersions(TEST_PYTHON_PACKAGES) ?? {});
    if (missing.length) {
      console.error(`  Il manque : ${requirements(missing).join(', ')}. Lancez \`npm run setup:python\`.`);
      return 1;
    }
    const broken = unimportable(TEST_PYTHON_PACKAGES);
    if (broken.length) {
      console.error(`  Ne s'importent pas : ${broken.join(' ; ')}.`);
      return 1;
    }
    info(`Complet : ${requirements().join(', ')}.`);
    return 0;
  }
  try {
    const changed = await ensureTestPythonEnv();
    if (changed) info(`Prêt en ${minutes(Date.now() - started)} : ${relative(PROJECT_ROOT, VENV_PYTHON)} (Python ${pythonVersion(VENV_PYTHON)}).`);
    return 0;
  } catch (error) {
    if (!(error instanceof SetupPythonError)) throw error;
    console.error(`\n[analyse-image] L'environnement Python des tests n'a pas pu être installé :\n${error.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}

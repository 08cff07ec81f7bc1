/**
 * Tests that need a tool from outside npm (Chromium, a Python with Pillow or Keras, a Debian data
 * package): on a laptop without it they skip with one line saying how to install it; in CI
 * (environment variable CI set, as `.ci/run` does) a missing tool is a failing test, so nothing is
 * silently left out where it matters.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { VENV_PYTHON } from '../../scripts/python-env';

/** True in CI: `CI` is set to anything but '', '0' or 'false' (`.ci/run` exports CI=1). */
export const IN_CI = !['', '0', 'false'].includes((process.env.CI ?? '').trim().toLowerCase());

/** What the helper registers tests with: the same signatures as jest's `it`/`test` and `describe`. */
export interface ToolGate {
  /** Whether the tool was found. */
  found: boolean;
  it: (name: string, fn?: jest.ProvidesCallback, timeout?: number) => void;
  test: (name: string, fn?: jest.ProvidesCallback, timeout?: number) => void;
  describe: (name: string, fn: () => void) => void;
}

/** The message of a missing tool: what is missing and how to install it. */
export function missingToolMessage(what: string, how: string): string {
  return `${what} is missing; install it with: ${how}`;
}

function testFile(): string {
  const path = expect.getState().testPath;
  return path ? relative(PROJECT_ROOT, path) : 'a test file';
}

/**
 * A gate for tests that need a tool. `found`: whether the tool is there; `what`: what it is, e.g.
 * 'Chromium (/usr/bin/chromium)'; `how`: the install step, e.g. 'apt-get install chromium'.
 * - found: jest's own `it`, `test`, `describe`;
 * - missing, outside CI: their `.skip` versions, after one line on stderr naming the file, the tool and `how`;
 * - missing, in CI: each `it`/`test` becomes a test that fails with that message, and each
 *   `describe` a block holding one such failing test (its body, hooks included, is not run).
 */
export function needsTool(found: boolean, what: string, how: string): ToolGate {
  if (found) return { found, it, test, describe };
  const message = missingToolMessage(what, how);
  if (!IN_CI) {
    process.stderr.write(`[skipped] ${testFile()}: ${message} (with CI=1 this is a failure)\n`);
    return { found, it: it.skip, test: test.skip, describe: describe.skip };
  }
  const failing = (name: string): void =>
    test(name, () => {
      const error = new Error(`CI is set, so this test fails instead of skipping: ${message}`);
      error.stack = error.message; // the message says it all: no code frame of this helper
      throw error;
    });
  return { found, it: failing, test: failing, describe: (name) => describe(name, () => failing(`needs ${what}`)) };
}

/** Debian's Chromium, where the browser tests look for it. */
export const CHROMIUM: string | undefined = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

/** Flags for a headless Chromium on these machines (no sandbox as root, no network calls of its own). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The gate for tests that drive Chromium (pass `CHROMIUM` as playwright-core's executablePath). */
export function needsChromium(): ToolGate {
  return needsTool(CHROMIUM !== undefined, 'Chromium (/usr/bin/chromium)', 'apt-get install chromium (Debian; .ci/run installs it)');
}

/** How to get the project's test Python: the same step everywhere. */
export const PYTHON_HOW = "npm run setup:python (makes .venv/ from pip's index)";

/**
 * The first Python that imports every module: `$override` when that variable is set (and then only
 * it), else the project's .venv (made by `npm run setup:python`), else python3.
 */
export function findPython(modules: string[], override?: string): { python?: string; tried: string[] } {
  const chosen = override ? process.env[override] : undefined;
  const tried = chosen ? [chosen] : [VENV_PYTHON, 'python3'];
  const python = tried.find(
    (candidate) =>
      (!candidate.includes('/') || existsSync(candidate)) &&
      spawnSync(candidate, ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: 'ignore', timeout: 120_000, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } }).status === 0,
  );
  return { python, tried };
}

/** findPython and its gate together: `const { python, describe } = needsPython(['PIL', 'numpy'], 'PILLOW_PYTHON')`. */
export function needsPython(modules: string[], override?: string): ToolGate & { python?: string } {
  const { python, tried } = findPython(modules, override);
  const what = `a Python with ${modules.join(', ')} (tried ${tried.join(', ')})`;
  const how = override ? `${PYTHON_HOW}, or set ${override} to such a Python` : PYTHON_HOW;
  return { python, ...needsTool(python !== undefined, what, how) };
}

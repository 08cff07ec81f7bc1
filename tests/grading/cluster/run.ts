/** Running the grader's CLIs (npm run grade, npm run grade:merge) from a test, asynchronously, with their output. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/paths';

/** How a CLI run ended. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** The argv prefix that runs a project TypeScript file as npm run does (node + tsx's require hook). */
export function tsNode(script: string): string[] {
  return [process.execPath, '--require', require.resolve('tsx/cjs'), join(PROJECT_ROOT, script)];
}

/** Runs `argv` in `cwd` with `env`; `onStderr` sees stderr as it comes (to act mid-run). */
export function runCommand(argv: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; onStderr?: (text: string) => void; timeoutMs?: number }): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      options.onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** `npm run grade -- <args>`. */
export function grade(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; onStderr?: (text: string) => void }): Promise<CliResult> {
  return runCommand([...tsNode('grading/cli/grade.ts'), ...args], options);
}

/** `npm run grade:merge -- <args>`. */
export function gradeMerge(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return runCommand([...tsNode('grading/cli/grade-merge.ts'), ...args], options);
}

/** Splits a printed command line into words (single quotes as quoteArg writes them). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]);
  return words;
}

/** A printed `npm run <script> -- <args>` line, run the way npm would (tsx on the script), in `cwd`. */
export function runPrintedNpm(line: string, options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  const words = shellWords(line.trim());
  if (words[0] !== 'npm' || words[1] !== 'run' || words[3] !== '--') throw new Error(`not an npm run command: ${line}`);
  const scripts = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
  const script = /^tsx (\S+)$/.exec(scripts[words[2]] ?? '')?.[1];
  if (!script) throw new Error(`no tsx script ${words[2]} in package.json`);
  return runCommand([...tsNode(script), ...words.slice(4)], options);
}

/** grades.json's submissions as a comparable shape: ids, scores, checks (id, passed, points) and flags (kind, with). */
export function gradebookShape(gradesJson: string): unknown[] {
  const report = JSON.parse(readFileSync(gradesJson, 'utf8')) as { submissions: { id: string; name: string; score: number; maxScore: number; passed: boolean; checks: { id: string; passed: boolean; points: number }[]; flags: { kind: string; with: string[] }[] }[] };
  return report.submissions.map((s) => ({
    id: s.id,
    name: s.name,
    score: s.score,
    maxScore: s.maxScore,
    passed: s.passed,
    checks: s.checks.map((c) => ({ id: c.id, passed: c.passed, points: c.points })),
    flags: s.flags.map((f) => ({ kind: f.kind, with: f.with })),
  }));
}

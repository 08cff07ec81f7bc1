import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/paths';
import { runTsCli, type CliRun } from '../../helpers/cli';
import { temporaryFolder } from '../../helpers/fixtures';
import { stdout, writeNotebookFile } from './helpers';

const CLI = join(PROJECT_ROOT, 'grading', 'cli', 'nbval-ts-runner.ts');

function cli(args: string[]): Promise<CliRun> {
  return runTsCli(CLI, args);
}

describe('nbval-ts-runner CLI', () => {
  const { dir, cleanup } = temporaryFolder('nbval-ts-cli-');
  afterAll(cleanup);

  it('prints help, and exits 2 with a clear message on bad usage or a bad notebook', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/nbval-ts-runner execute <in.ipynb>/);
    const usage = await cli(['run', 'x.ipynb']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown command "run": use execute or check/);
    const bad = join(dir, 'bad.ipynb');
    writeFileSync(bad, 'nope');
    const invalid = await cli(['execute', bad]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain(`${bad}: not valid JSON`);
    const timeout = await cli(['execute', bad, '--timeout', 'soon']);
    expect(timeout.stderr).toMatch(/--timeout needs a positive number of seconds/);
  });

  it('execute: per-cell progress on stderr, exit 1 when a cell fails, output written only where asked', async () => {
    const input = writeNotebookFile(dir, 'fail.ipynb', ['console.log(1)', 'throw new Error("cassé")', '2']);
    const before = readFileSync(input, 'utf8');
    const output = join(dir, 'fail.out.ipynb');
    const run = await cli(['execute', input, '--output', output, '--timeout', '30']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^cell 1\/3 \[\w+\] ok \d+\.\d\ds$/m);
    expect(run.stderr).toMatch(/^cell 2\/3 \[\w+\] error \d+\.\d\ds — Error: cassé$/m);
    expect(run.stderr).toMatch(/^cell 3\/3 \[\w+\] skipped \(after-error\)/m);
    expect(run.stdout).toMatch(/FAILED: 1 ok, 1 error, 1 skipped/);
    expect(existsSync(output)).toBe(true);
    expect(readFileSync(input, 'utf8')).toBe(before);
  });

  it('check: exit 0 and a JSON report when outputs match', async () => {
    const input = writeNotebookFile(dir, 'ok.ipynb', [{ source: 'console.log(0.1 + 0.2)', outputs: [stdout('0.3\n')] }]);
    const report = join(dir, 'report.json');
    const sanitize = join(dir, 'sanitize.cfg');
    writeFileSync(sanitize, '[float]\nregex: 0\\.30+4\nreplace: 0.3\n');
    const run = await cli(['check', input, '--sanitize-with', sanitize, '--report', report, '--quiet']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const json = JSON.parse(readFileSync(report, 'utf8'));
    expect(json).toMatchObject({ tool: 'nbval-ts-runner', mode: 'check', ok: true, summary: { pass: 1 } });
    expect(json.cells[0]).toMatchObject({ index: 0, status: 'pass', execution: 'ok', executionCount: 1, diffs: [] });
  });
});

/** tests/helpers/tools.ts: a missing tool skips with a message outside CI and fails in CI. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { missingToolMessage } from './tools';

interface JestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

/** Runs jest on tools-fixture.ts (one present tool, two missing) with the given CI value. */
function runFixture(ci: string): { json: JestJson; stderr: string } {
  const config = {
    rootDir: PROJECT_ROOT,
    roots: ['<rootDir>/tests/helpers'],
    testMatch: ['**/tools-fixture.ts'],
    transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
    testEnvironment: 'node',
  };
  const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--config', JSON.stringify(config), '--json', '--silent'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: ci },
    timeout: 60_000,
  });
  return { json: JSON.parse(run.stdout) as JestJson, stderr: run.stderr };
}

describe('needsTool', () => {
  it('outside CI, skips what needs a missing tool and says how to install it', () => {
    const { json, stderr } = runFixture('');
    expect([json.numPassedTests, json.numFailedTests, json.numPendingTests]).toEqual([1, 0, 2]);
    expect(stderr).toContain(`[skipped] tests/helpers/tools-fixture.ts: ${missingToolMessage('an absent tool', 'apt-get install absent-tool')}`);
    expect(stderr).toContain(missingToolMessage('another absent tool', 'npm run setup:absent'));
  }, 60_000);

  it('in CI, fails each test and each block that needs a missing tool, without running their hooks', () => {
    const { json } = runFixture('1');
    expect([json.numPassedTests, json.numFailedTests, json.numPendingTests]).toEqual([1, 2, 0]);
    const failed = json.testResults.flatMap((r) => r.assertionResults).filter((a) => a.status === 'failed');
    expect(failed.map((a) => a.fullName)).toEqual(['needs the absent tool', 'a block needing another absent tool needs another absent tool']);
    expect(failed[0].failureMessages[0]).toContain('CI is set, so this test fails instead of skipping: an absent tool is missing; install it with: apt-get install absent-tool');
    expect(failed[1].failureMessages.join('')).not.toContain('hooks of a block');
  }, 60_000);
});

/**
 * The CI templates (templates/ci/): the GitHub Actions workflow is parsed and checked by GitHub's
 * own parser (@actions/workflow-parser), the GitLab one read as YAML with the expected keys; both
 * run a matrix / `parallel:` of shards then one merge, with options the CLIs really have.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../../lib/paths';
import { shardFolderName } from '../../../grading/cluster/shard';
import { tsNode } from './run';

const GITHUB = join(PROJECT_ROOT, 'templates', 'ci', 'github-grading.yml');
const GITLAB = join(PROJECT_ROOT, 'templates', 'ci', 'gitlab-grading.yml');

/** The `--options` of a CLI's --help. */
function helpOptions(script: string): Set<string> {
  const run = spawnSync(tsNode(script)[0], [...tsNode(script).slice(1), '--help'], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  return new Set(run.stdout.match(/--[a-z][a-z-]+/g));
}

/** The `--options` an `npm run <script> -- ...` line of a template uses. */
function usedOptions(line: string, script: string): string[] {
  const args = line.split(`npm run ${script} --`)[1] ?? '';
  return (args.split('||')[0].match(/(?<=\s)--[a-z][a-z-]+/g) ?? []);
}

type Template = { errors: string[]; template: { jobs: { id: string; needs?: string[]; if?: { expr: string }; strategy?: { map: { Key: string; Value: { map?: { Key: string; Value: { seq: number[] } }[] } | boolean }[] }; steps: { run?: string | { expr: string }; uses?: string; env?: { map: { Key: string; Value: { expr: string } }[] } }[] }[] } };

describe('GitHub Actions workflow', () => {
  let parsed: Template;
  beforeAll(() => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'github-workflow.mjs'), GITHUB], { encoding: 'utf8', cwd: PROJECT_ROOT });
    expect(run.stderr).toBe('');
    parsed = JSON.parse(run.stdout);
  }, 60_000);

  test('GitHub’s parser accepts it without an error', () => {
    expect(parsed.errors).toEqual([]);
    expect(parsed.template.jobs.map((j) => j.id)).toEqual(['fragment', 'fusion']);
  });

  test('the parser itself catches a mistake (the check is not vacuous)', () => {
    const bad = join(tmpdir(), `workflow-${process.pid}.yml`);
    writeFileSync(bad, readFileSync(GITHUB, 'utf8').replace('timeout-minutes:', 'timeout-minute:').replace('matrix.fragment }}-sur', 'matrice.fragment }}-sur'));
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'github-workflow.mjs'), bad], { encoding: 'utf8', cwd: PROJECT_ROOT });
    rmSync(bad);
    const errors = JSON.parse(run.stdout).errors.join('\n');
    expect(errors).toMatch(/Unexpected value 'timeout-minute'/);
    expect(errors).toMatch(/Unrecognized named-value: 'matrice'/);
  }, 60_000);

  test('a matrix of shards, each graded with --shard i/N (N the matrix size) into fragment-i-sur-N, then one merge job', () => {
    const [shards, merge] = parsed.template.jobs;
    const strategy = shards.strategy!.map;
    expect(strategy.find((e) => e.Key === 'fail-fast')?.Value).toBe(false);
    const matrix = (strategy.find((e) => e.Key === 'matrix')!.Value as { map: { Key: string; Value: { seq: number[] } }[] }).map;
    const fragments = matrix.find((e) => e.Key === 'fragment')!.Value.seq;
    expect(fragments).toEqual(Array.from({ length: fragments.length }, (_, i) => i + 1));
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    const grading = shards.steps.find((s) => typeof s.run === 'string' && s.run.includes('npm run grade --'))!;
    const env = new Map(grading.env!.map.map((e) => [e.Key, e.Value.expr]));
    expect(env.get('FRAGMENT')).toBe("format('{0}/{1}', matrix.fragment, strategy.job-total)");
    expect(env.get('DOSSIER')).toBe("format('fragments/fragment-{0}-sur-{1}', matrix.fragment, strategy.job-total)");
    expect(shardFolderName({ index: 2, count: 4 })).toBe('fragment-2-sur-4'); // what --slurm and the merge's messages use too
    expect(grading.run).toMatch(/--shard "\$FRAGMENT" --report "\$DOSSIER"/);
    expect(shards.steps.map((s) => s.uses).filter(Boolean)).toEqual(['actions/checkout@v4', 'actions/setup-node@v4', 'actions/upload-artifact@v4']);
    expect(merge.needs).toEqual(['fragment']);
    expect(merge.if?.expr).toBe('!cancelled()');
    expect(merge.steps.map((s) => s.uses).filter(Boolean)).toEqual(['actions/checkout@v4', 'actions/setup-node@v4', 'actions/download-artifact@v4', 'actions/upload-artifact@v4']);
    expect(merge.steps.some((s) => typeof s.run === 'string' && /npm run grade:merge -- fragments .*--report notes/.test(s.run))).toBe(true);
  });

  test('the download step gathers every shard’s artifact into fragments/ (raw YAML: the parser keeps no `with`)', () => {
    const raw = parse(readFileSync(GITHUB, 'utf8'));
    const download = raw.jobs.fusion.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/download-artifact'));
    expect(download.with).toEqual({ pattern: 'fragment-*', path: 'fragments', 'merge-multiple': true });
    const upload = raw.jobs.fragment.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/upload-artifact'));
    expect(upload.with).toMatchObject({ name: 'fragment-${{ matrix.fragment }}', path: 'fragments/' });
  });
});

describe('GitLab CI pipeline', () => {
  const pipeline = parse(readFileSync(GITLAB, 'utf8'));

  test('valid YAML with the expected keys: stages, a parallel grading job, a merge job that needs it', () => {
    expect(pipeline.stages).toEqual(['corriger', 'fusionner']);
    for (const job of ['corriger', 'fusionner']) {
      expect(pipeline.stages).toContain(pipeline[job].stage);
      expect(pipeline[pipeline[job].extends]).toBeDefined();
      expect(Array.isArray(pipeline[job].script)).toBe(true);
    }
    expect(Number.isInteger(pipeline.corriger.parallel)).toBe(true);
    expect(pipeline.corriger.parallel).toBeGreaterThanOrEqual(2);
    expect(pipeline.corriger.artifacts.paths).toEqual(['fragments/']);
    expect(pipeline.fusionner.needs).toEqual([{ job: 'corriger', artifacts: true }]);
    expect(pipeline.fusionner.when).toBe('always');
    expect(pipeline.fusionner.artifacts.paths).toEqual(['notes/']);
  });

  test('each parallel job grades shard $CI_NODE_INDEX/$CI_NODE_TOTAL into fragment-i-sur-N; the merge reads fragments/', () => {
    const grading = pipeline.corriger.script.find((line: string) => line.includes('npm run grade --'));
    expect(grading).toMatch(/--shard "\$CI_NODE_INDEX\/\$CI_NODE_TOTAL" --report "fragments\/fragment-\$CI_NODE_INDEX-sur-\$CI_NODE_TOTAL"/);
    expect(shardFolderName({ index: 2, count: 4 })).toBe('fragment-2-sur-4');
    expect(pipeline.fusionner.script.find((line: string) => line.includes('grade:merge'))).toMatch(/npm run grade:merge -- fragments .*--report notes/);
  });
});

test('the templates only use options npm run grade and npm run grade:merge have', () => {
  const grade = helpOptions('grading/cli/grade.ts');
  const merge = helpOptions('grading/cli/grade-merge.ts');
  const lines = [...readFileSync(GITHUB, 'utf8').split('\n'), ...readFileSync(GITLAB, 'utf8').split('\n')].filter((l) => !l.trim().startsWith('#'));
  const gradeLines = lines.filter((l) => l.includes('npm run grade --'));
  const mergeLines = lines.filter((l) => l.includes('npm run grade:merge --'));
  expect(gradeLines.length).toBe(2);
  expect(mergeLines.length).toBe(2);
  for (const line of gradeLines) for (const option of usedOptions(line, 'grade')) expect([option, grade.has(option)]).toEqual([option, true]);
  for (const line of mergeLines) for (const option of usedOptions(line, 'grade:merge')) expect([option, merge.has(option)]).toEqual([option, true]);
}, 60_000);

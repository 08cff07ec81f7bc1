/**
 * A real Slurm on this machine (munged, slurmctld and slurmd started by tests/helpers/slurm.ts, or
 * the one .ci/run started) grades a small class with execution in quick mode as a job array of 3
 * tasks, and the merged gradebook equals the one a single run gives (same ids, scores, checks and
 * flags, the cross-shard duplicate included). Then a task cancelled with scancel is reported by
 * shard with its log and the command that re-runs it; that command, then the merge command
 * printed, give the whole gradebook.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fragmentsDirOf, taskStatesFrom } from '../../../grading/cluster/slurm';
import { shardOf } from '../../../grading/cluster/shard';
import { readShardReport } from '../../../grading/cluster/shard-report';
import { temporaryFolder } from '../../helpers/fixtures';
import { needsSlurm, startLocalSlurm, type LocalSlurm } from '../../helpers/slurm';
import { CLUSTER_CLASS, CLUSTER_SHARDS, writeClusterClass } from './fixtures';
import { grade, gradebookShape, runPrintedNpm, shellWords, type CliResult } from './run';

const gate = needsSlurm();

gate.describe('grading on a real Slurm', () => {
  // Made in beforeAll: a skipped describe still runs its body, never its hooks.
  let folder: { dir: string; cleanup: () => void };
  let slurm: LocalSlurm;
  let env: NodeJS.ProcessEnv;
  let specFile: string;
  let single: CliResult;
  let array: CliResult;

  beforeAll(async () => {
    folder = temporaryFolder('grading-slurm-');
    slurm = await startLocalSlurm();
    env = { ...slurm.env, ANALYSE_IMAGE_QUICK: '1' };
    specFile = writeClusterClass(join(folder.dir, 'classe'));
    single = await grade(['classe', '--spec', specFile, '--jobs', '2', '--report', 'seul'], { cwd: folder.dir, env });
    array = await grade(['classe', '--spec', specFile, '--slurm', '--shards', '3', '--partition', slurm.partition, '--cpus-per-task', '1', '--time', '15', '--report', 'slurm'], { cwd: folder.dir, env });
    process.stderr.write(`[slurm test] local Slurm ${slurm.started ? `started in ${slurm.startSeconds.toFixed(1)} s` : 'reused'}; single run ${single.seconds.toFixed(1)} s, Slurm array ${array.seconds.toFixed(1)} s\n`);
  }, 900_000);

  afterAll(async () => {
    await slurm?.stop();
    folder?.cleanup();
  }, 120_000);

  test('the fixture class spreads one submission per shard', () => {
    for (const [id, shard] of Object.entries(CLUSTER_SHARDS)) expect([id, shardOf(id, 3)]).toEqual([id, shard]);
    expect(Object.keys(CLUSTER_SHARDS).sort()).toEqual(Object.keys(CLUSTER_CLASS).sort());
  });

  test('sbatch submits one array of 3 tasks, waited for with French progress lines, then merged', () => {
    expect(single.code).toBe(1); // hugo's random weights fail test-accuracy
    expect(array.code).toBe(single.code);
    expect(array.stderr).toMatch(/Slurm : tableau de tâches \d+ soumis, 3 tâches \(une par fragment, 3 soumissions en tout ; partition debug, 1 cœur par tâche, au plus 15 min par tâche\)/);
    expect(array.stderr).toMatch(/\[\s*\d+ s\] Slurm \d+ : \d+ tâches? en attente, \d+ en cours, 3 terminées sur 3/);
    expect(array.stderr).toMatch(/Slurm : 3 tâches terminées, fragments fusionnés\. Coût fixe par tâche \(médiane\) : \d+,\d s de sbatch au début de la tâche, \d+,\d s de démarrage du correcteur/);
    expect(array.stdout).toMatch(/Intégrité \(sur toute la classe\) : 3 soumissions signalées/);
  });

  test('each task graded its shard, on Slurm, in the array', () => {
    const jobId = /tableau de tâches (\d+) soumis/.exec(array.stderr)![1];
    const fragments = fragmentsDirOf(join(folder.dir, 'slurm'));
    for (let i = 1; i <= 3; i++) {
      const shard = readShardReport(join(fragments, `fragment-${i}-sur-3`, 'shard.json'));
      expect(shard.shard).toEqual({ index: i, count: 3 });
      expect(shard.slurm).toMatchObject({ arrayJobId: jobId, arrayTaskId: String(i) });
      expect(shard.grades.map((g) => g.id)).toEqual(Object.keys(CLUSTER_SHARDS).filter((id) => CLUSTER_SHARDS[id] === i));
      expect(shard.class.ids).toEqual(['ada', 'emma', 'hugo']);
      expect(shard.timings.taskStartedAt).toBeLessThanOrEqual(shard.timings.gradingStartedAt);
      expect(existsSync(join(fragments, `slurm-${jobId}_${i}.log`))).toBe(true);
    }
    // A shard alone cannot see the copy in another shard: no identical-notebook flag there.
    const ada = readShardReport(join(fragments, 'fragment-3-sur-3', 'shard.json')).grades[0];
    expect(ada.flags).toEqual([]);
  });

  test('every way of reading the tasks’ final states agrees: COMPLETED', () => {
    const jobId = /tableau de tâches (\d+) soumis/.exec(array.stderr)![1];
    const fragments = fragmentsDirOf(join(folder.dir, 'slurm'));
    const completion = taskStatesFrom('sacct --completion', jobId, fragments, env);
    const scontrol = taskStatesFrom('scontrol', jobId, fragments, env);
    const sacct = taskStatesFrom('sacct', jobId, fragments, env);
    // This cluster keeps no accounting database: plain sacct refuses, as on such clusters.
    expect(sacct).toBeUndefined();
    for (const states of [completion, scontrol]) expect([...states!.entries()].sort().map(([task, s]) => [task, s.state, s.exitCode])).toEqual([1, 2, 3].map((task) => [task, 'COMPLETED', '0:0']));
  });

  test('the merged gradebook equals the single run’s: ids, scores, checks and flags', () => {
    const merged = gradebookShape(join(folder.dir, 'slurm', 'grades.json'));
    expect(merged).toEqual(gradebookShape(join(folder.dir, 'seul', 'grades.json')));
    const byId = new Map((merged as { id: string; flags: { kind: string; with: string[] }[] }[]).map((s) => [s.id, s.flags]));
    expect(byId.get('ada')).toEqual([{ kind: 'identical-notebook', with: ['emma'] }]);
    expect(byId.get('emma')).toEqual([{ kind: 'identical-notebook', with: ['ada'] }]);
    expect(byId.get('hugo')).toEqual([{ kind: 'output-truncated', with: [] }]);
    for (const id of Object.keys(CLUSTER_CLASS)) {
      expect(existsSync(join(folder.dir, 'slurm', 'feedback', `${id}.html`))).toBe(true);
      const executed = readdirSync(join(folder.dir, 'slurm', 'executed', id)).sort();
      expect(executed).toEqual(readdirSync(join(folder.dir, 'seul', 'executed', id)).sort());
      expect(executed.filter((f) => f.endsWith('.ipynb'))).toHaveLength(2);
    }
    const csv = (dir: string) => readFileSync(join(folder.dir, dir, 'grades.csv'), 'utf8').split('\r\n').map((row) => row.split(',').filter((_, i) => i !== 6).join(',')); // column 6: accuracy (each training differs)
    expect(csv('slurm')).toEqual(csv('seul'));
    expect(readFileSync(join(folder.dir, 'slurm', 'feedback', 'emma.html'), 'utf8')).toMatch(/href="\.\.\/executed\/emma\/classification[.\w]*\.ipynb"/);
  });

  test('a cancelled task is reported by shard with its log and re-run command; re-running it and merging completes the gradebook', async () => {
    // Task 2 is cancelled once it has started (a pending task cancelled leaves no trace without an accounting database).
    let watching: NodeJS.Timeout | undefined;
    const failed = await grade(['classe', '--no-execute', '--spec', specFile, '--slurm', '--shards', '3', '--report', 'echec'], {
      cwd: folder.dir,
      env,
      onStderr: (text) => {
        const jobId = /tableau de tâches (\d+) soumis/.exec(text)?.[1];
        if (!jobId || watching) return;
        watching = setInterval(() => {
          if (!existsSync(join(folder.dir, 'echec', 'fragments', 'taches', '2.json'))) return;
          clearInterval(watching);
          spawnSync('scancel', [`${jobId}_2`], { env });
        }, 100);
      },
    });
    clearInterval(watching);
    const jobId = /tableau de tâches (\d+) soumis/.exec(failed.stderr)![1];
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/Slurm : 1 tâche sur 3 n’a pas abouti ; rien n’est fusionné\./);
    expect(failed.stderr).toMatch(new RegExp(`Fragment 2/3 \\(tâche ${jobId}_2\\) : CANCELLED, code de sortie \\d+:\\d+\\.`));
    const log = /Journal : (\S+)/.exec(failed.stderr)![1];
    expect(log).toBe(`echec/fragments/slurm-${jobId}_2.log`);
    expect(readFileSync(join(folder.dir, log), 'utf8')).toMatch(/CANCELLED/);
    expect(existsSync(join(folder.dir, 'echec', 'grades.json'))).toBe(false);
    const rerun = /Relancer ce fragment seul : (.+)/.exec(failed.stderr)![1];
    expect(rerun).toBe(`sbatch --array=2 ${join(folder.dir, 'echec', 'fragments', 'correction.sbatch')}`);
    // The exact command printed, then wait for that job to leave the queue.
    const words = shellWords(rerun);
    const submitted = spawnSync(words[0], words.slice(1), { env, cwd: folder.dir, encoding: 'utf8' });
    expect(submitted.status).toBe(0);
    const rerunJob = /Submitted batch job (\d+)/.exec(submitted.stdout)![1];
    for (let i = 0; i < 240 && spawnSync('squeue', ['-h', '-j', rerunJob], { env, encoding: 'utf8' }).stdout.trim(); i++) await new Promise((r) => setTimeout(r, 500));
    const mergeLine = /fusionnez : (npm run grade:merge -- .+)/.exec(failed.stderr)![1];
    expect(mergeLine).toBe('npm run grade:merge -- echec/fragments --report echec');
    const merged = await runPrintedNpm(mergeLine, { cwd: folder.dir, env });
    expect(merged.stderr).toMatch(/3 soumissions en 3 fragments, tous présents/);
    expect(merged.code).toBe(1);
    const alone = await grade(['classe', '--no-execute', '--spec', specFile, '--report', 'seul-sans-execution'], { cwd: folder.dir, env });
    expect(alone.code).toBe(1);
    expect(gradebookShape(join(folder.dir, 'echec', 'grades.json'))).toEqual(gradebookShape(join(folder.dir, 'seul-sans-execution', 'grades.json')));
  }, 300_000);
});

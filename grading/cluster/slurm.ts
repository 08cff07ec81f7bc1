/**
 * Slurm: one job array per class (one task per shard) submitted with sbatch, watched with squeue,
 * its tasks' final states read with sacct (sacct --completion, then scontrol, when the cluster
 * keeps no accounting database). Each task runs the same grader CLI with
 * `--shard $SLURM_ARRAY_TASK_ID/N` into `<report>/fragments/fragment-<i>-sur-<N>/`, so the merge
 * finds every shard there; a failed task is re-run alone with `sbatch --array=<i> <script>`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { quoteArg, shardReportDir } from './merge';
import { ClusterOptionError, MAX_SHARDS } from './shard';
import { SHARD_REPORT_FILE, type ShardReport } from './shard-report';

/** Options of the job array, as given to npm run grade -- --slurm. */
export interface SlurmArrayOptions {
  /** Number of tasks, one per shard. */
  shards: number;
  partition?: string;
  cpusPerTask?: number;
  /** Time limit per task, in one of sbatch's formats (minutes, HH:MM:SS, D-HH...). */
  time?: string;
  /** The job's name in squeue (default analyse-image). */
  jobName?: string;
}

/** What a job array's task runs: the grader CLI on the class, into its shard's folder. */
export interface ArrayCommand {
  /** The class folder (absolute, on a file system the nodes see). */
  classDir: string;
  /** `<report>/fragments`, absolute. */
  fragmentsDir: string;
  /** The grader's options every task gets (--no-execute, --spec FILE, --timeout, --sandbox...), paths absolute. */
  gradeArgs: string[];
}

/** The fragments folder of a report folder. */
export function fragmentsDirOf(reportDir: string): string {
  return join(reportDir, 'fragments');
}

/** The job script's path in a fragments folder. */
export function arrayScriptPath(fragmentsDir: string): string {
  return join(fragmentsDir, 'correction.sbatch');
}

/** The log of task `index` of job `jobId`. */
export function taskLogPath(fragmentsDir: string, jobId: string, index: number): string {
  return join(fragmentsDir, `slurm-${jobId}_${index}.log`);
}

/** Checks the options sbatch will get; throws a ClusterOptionError (French) naming the option. */
export function validateSlurmOptions(options: SlurmArrayOptions): SlurmArrayOptions {
  if (!Number.isInteger(options.shards) || options.shards < 1 || options.shards > MAX_SHARDS) throw new ClusterOptionError(`--shards attend un nombre entier de 1 à ${MAX_SHARDS}, pas ${options.shards}.`);
  if (options.partition !== undefined && !/^[\w.-]+(,[\w.-]+)*$/.test(options.partition)) throw new ClusterOptionError(`--partition attend un nom de partition Slurm (lettres, chiffres, . _ -), pas ${JSON.stringify(options.partition)}.`);
  if (options.cpusPerTask !== undefined && !(Number.isInteger(options.cpusPerTask) && options.cpusPerTask >= 1)) throw new ClusterOptionError(`--cpus-per-task attend un nombre entier positif, pas ${options.cpusPerTask}.`);
  if (options.time !== undefined && !/^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/i.test(options.time)) {
    throw new ClusterOptionError(`--time attend une durée au format de Slurm (minutes, MM:SS, HH:MM:SS, J-HH, J-HH:MM ou J-HH:MM:SS), pas ${JSON.stringify(options.time)}.`);
  }
  return options;
}

/** The #SBATCH lines of the array (the whole array: `sbatch --array=<i>` on the command line re-runs one task); sbatch reads them as shell words. */
function sbatchDirectives(options: SlurmArrayOptions, fragmentsDir: string): string[] {
  return [
    `--job-name=${options.jobName ?? 'analyse-image'}`,
    `--array=1-${options.shards}`,
    `--output=${quoteArg(join(fragmentsDir, 'slurm-%A_%a.log'))}`,
    '--ntasks=1',
    ...(options.partition ? [`--partition=${options.partition}`] : []),
    ...(options.cpusPerTask ? [`--cpus-per-task=${options.cpusPerTask}`] : []),
    ...(options.time ? [`--time=${options.time}`] : []),
  ].map((d) => `#SBATCH ${d}`);
}

/** The job script: records the task's start, runs the grader on its shard; a student's failed check (exit 1) is not the task's failure. */
export function arrayScript(options: SlurmArrayOptions, command: ArrayCommand): string {
  const n = options.shards;
  const q = quoteArg;
  const shardDir = `${q(command.fragmentsDir)}/fragment-"$i"-sur-${n}`;
  const grader = [q(process.execPath), '--require', q(require.resolve('tsx/cjs')), q(join(PROJECT_ROOT, 'grading', 'cli', 'grade.ts')), q(command.classDir), '--shard', `"$i/${n}"`, '--report', shardDir, ...command.gradeArgs.map(q)].join(' ');
  return [
    '#!/bin/bash',
    '# Correction d’une classe en tableau de tâches Slurm, écrit par « npm run grade -- … --slurm ».',
    `# Relancer un seul fragment i : sbatch --array=i ${q(arrayScriptPath(command.fragmentsDir))}`,
    ...sbatchDirectives(options, command.fragmentsDir),
    'started=$(date +%s.%N)',
    'i=${SLURM_ARRAY_TASK_ID:?lancez ce script avec sbatch --array}',
    `mkdir -p ${q(join(command.fragmentsDir, 'taches'))}`,
    `printf '{"task": %s, "jobId": "%s", "arrayJobId": "%s", "node": "%s", "startedAt": %s}\\n' "$i" "$SLURM_JOB_ID" "\${SLURM_ARRAY_JOB_ID:-}" "$(hostname)" "$started" > ${q(join(command.fragmentsDir, 'taches'))}/"$i".json`,
    `echo "Fragment $i/${n} : tâche Slurm \${SLURM_ARRAY_JOB_ID:-}_$i (n° $SLURM_JOB_ID) sur $(hostname), $(date '+%F %T')"`,
    'export ANALYSE_IMAGE_TASK_STARTED=$started',
    `cd ${q(PROJECT_ROOT)}`,
    grader,
    'code=$?',
    `echo "Fragment $i/${n} : correcteur terminé avec le code $code, $(date '+%F %T')"`,
    '# 1: a submission failed a check, the shard itself was graded.',
    'if [ "$code" -eq 1 ]; then exit 0; fi',
    'exit "$code"',
    '',
  ].join('\n');
}

/** A command that could not run, in French (sbatch missing, refused...). */
export class SlurmError extends Error {}

function slurmCommand(command: string, args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(command, args, { encoding: 'utf8', env, timeout: 60_000 });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new SlurmError(`${command} introuvable : --slurm demande les commandes de Slurm (sbatch, squeue, sacct) sur cette machine (un nœud de connexion du cluster ; sous Debian, le paquet slurm-client).`);
  }
  return { status: run.status, stdout: run.stdout ?? '', stderr: `${run.stderr ?? ''}${run.error ? run.error.message : ''}` };
}

/** A submitted array. */
export interface SubmittedArray {
  jobId: string;
  /** Milliseconds since the epoch, just before sbatch ran. */
  submittedAt: number;
  script: string;
}

/** Writes the job script into the fragments folder and submits it with sbatch; returns the array's job id. */
export function submitArray(options: SlurmArrayOptions, command: ArrayCommand, env: NodeJS.ProcessEnv = process.env): SubmittedArray {
  mkdirSync(join(command.fragmentsDir, 'taches'), { recursive: true });
  const script = arrayScriptPath(command.fragmentsDir);
  writeFileSync(script, arrayScript(options, command), { mode: 0o755 });
  const submittedAt = Date.now();
  const run = slurmCommand('sbatch', ['--parsable', script], env);
  const jobId = /^(\d+)/.exec(run.stdout.trim())?.[1];
  if (run.status !== 0 || !jobId) throw new SlurmError(`sbatch a refusé le tableau de tâches (code ${run.status}) : ${(run.stderr || run.stdout).trim()}`);
  writeFileSync(join(command.fragmentsDir, 'slurm.json'), `${JSON.stringify({ jobId, submittedAt, shards: options.shards, script, options }, null, 1)}\n`);
  return { jobId, submittedAt, script };
}

/** Counts of an array's tasks still in the queue. */
export interface QueueCounts {
  pending: number;
  running: number;
  /** Tasks no longer in the queue (ended one way or another). */
  done: number;
}

/** The array's tasks squeue still lists (pending, running...), by task index; undefined when squeue itself failed. */
export function queuedTasks(jobId: string, env: NodeJS.ProcessEnv = process.env): Map<number, string> | undefined {
  const run = slurmCommand('squeue', ['-h', '-r', '-j', jobId, '-o', '%K|%T'], env);
  // Once the job has left slurmctld's memory, squeue calls its id invalid: nothing is queued.
  if (run.status !== 0) return /Invalid job id/i.test(run.stderr) ? new Map() : undefined;
  const tasks = new Map<number, string>();
  for (const line of run.stdout.split('\n')) {
    const [task, state] = line.trim().split('|');
    if (/^\d+$/.test(task ?? '')) tasks.set(Number(task), state);
  }
  return tasks;
}

/** French plural: `1 terminée`, `2 terminées`. */
function plural(n: number, word: string): string {
  return `${n} ${word}${n > 1 ? 's' : ''}`;
}

/** Waits until no task of the array is queued, polling squeue; reports counts on change (and every minute). */
export async function waitForArray(jobId: string, count: number, onProgress: (counts: QueueCounts, line: string) => void, options: { pollMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  const pollMs = options.pollMs ?? 2000;
  const started = Date.now();
  let last = '';
  let lastAt = 0;
  let failures = 0;
  for (;;) {
    const tasks = queuedTasks(jobId, options.env);
    if (!tasks) {
      if (++failures >= 15) throw new SlurmError(`squeue ne répond plus depuis ${Math.round((failures * pollMs) / 1000)} s (travail ${jobId}).`);
    } else {
      failures = 0;
      const states = [...tasks.values()];
      const running = states.filter((s) => s === 'RUNNING' || s === 'COMPLETING' || s === 'CONFIGURING').length;
      const pending = states.length - running;
      const counts = { pending, running, done: Math.max(0, count - states.length) };
      const key = `${pending}/${running}/${counts.done}`;
      if (key !== last || Date.now() - lastAt >= 60_000) {
        onProgress(counts, `[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] Slurm ${jobId} : ${plural(pending, 'tâche')} en attente, ${running} en cours, ${plural(counts.done, 'terminée')} sur ${count}`);
        last = key;
        lastAt = Date.now();
      }
      if (states.length === 0) return;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** A task's final state. */
export interface TaskState {
  task: number;
  /** Slurm's state: COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL... */
  state: string;
  /** Slurm's `code:signal`. */
  exitCode: string;
  /** Which command said so. */
  source: 'sacct' | 'sacct --completion' | 'scontrol';
}

/** Where task states may come from, in the order tried. */
export type StateSource = TaskState['source'];

/** sacct (the accounting database): lines `<job>_<task>|STATE|code:signal`. */
function statesFromSacct(jobId: string, env: NodeJS.ProcessEnv): Map<number, TaskState> | undefined {
  const run = slurmCommand('sacct', ['-j', jobId, '-X', '-n', '-P', '-o', 'JobID,State,ExitCode'], env);
  if (run.status !== 0) return undefined;
  const states = new Map<number, TaskState>();
  for (const line of run.stdout.split('\n')) {
    const [id, state, exitCode] = line.trim().split('|');
    const task = new RegExp(`^${jobId}_(\\d+)$`).exec(id ?? '')?.[1];
    if (task) states.set(Number(task), { task: Number(task), state: state.split(' ')[0], exitCode: exitCode ?? '', source: 'sacct' });
  }
  return states;
}

/** The Slurm job id each task recorded at its start (taches/<i>.json). */
export function taskRecords(fragmentsDir: string): Map<number, { task: number; jobId: string; node: string; startedAt: number }> {
  const records = new Map<number, { task: number; jobId: string; node: string; startedAt: number }>();
  const dir = join(fragmentsDir, 'taches');
  if (!existsSync(dir)) return records;
  for (const file of readdirSync(dir).filter((f) => /^\d+\.json$/.test(f))) {
    try {
      const record = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      records.set(Number(record.task), { task: Number(record.task), jobId: String(record.jobId), node: String(record.node), startedAt: Number(record.startedAt) * 1000 });
    } catch {
      // a task killed while writing it: its state comes from elsewhere
    }
  }
  return records;
}

/** sacct --completion (the job completion file, no database): it knows tasks by their own job ids, which the tasks recorded. */
function statesFromCompletion(fragmentsDir: string, env: NodeJS.ProcessEnv): Map<number, TaskState> | undefined {
  const records = [...taskRecords(fragmentsDir).values()];
  if (records.length === 0) return undefined;
  const run = slurmCommand('sacct', ['--completion', '-j', records.map((r) => r.jobId).join(','), '-n', '-P', '-o', 'JobID,State,ExitCode'], env);
  if (run.status !== 0) return undefined;
  const byJob = new Map(records.map((r) => [r.jobId, r.task]));
  const states = new Map<number, TaskState>();
  for (const line of run.stdout.split('\n')) {
    const [id, state, exitCode] = line.trim().split('|');
    const task = byJob.get(id ?? '');
    if (task !== undefined) states.set(task, { task, state: state.split(' ')[0], exitCode: exitCode ?? '', source: 'sacct --completion' });
  }
  return states;
}

/** scontrol show job (slurmctld's memory, MinJobAge seconds after the end). */
function statesFromScontrol(jobId: string, env: NodeJS.ProcessEnv): Map<number, TaskState> | undefined {
  const run = slurmCommand('scontrol', ['show', 'job', '-o', jobId], env);
  if (run.status !== 0) return undefined;
  const states = new Map<number, TaskState>();
  for (const line of run.stdout.split('\n')) {
    const task = /\bArrayTaskId=(\d+)\b/.exec(line)?.[1];
    const state = /\bJobState=(\S+)/.exec(line)?.[1];
    if (task && state) states.set(Number(task), { task: Number(task), state, exitCode: /\bExitCode=(\S+)/.exec(line)?.[1] ?? '', source: 'scontrol' });
  }
  return states;
}

/** The final state of each task 1..count that one source knows (the test compares them). */
export function taskStatesFrom(source: StateSource, jobId: string, fragmentsDir: string, env: NodeJS.ProcessEnv = process.env): Map<number, TaskState> | undefined {
  if (source === 'sacct') return statesFromSacct(jobId, env);
  if (source === 'sacct --completion') return statesFromCompletion(fragmentsDir, env);
  return statesFromScontrol(jobId, env);
}

/** The final state of each task 1..count: sacct, else sacct --completion, else scontrol, task by task. */
export function taskStates(jobId: string, count: number, fragmentsDir: string, env: NodeJS.ProcessEnv = process.env): Map<number, TaskState | undefined> {
  const result = new Map<number, TaskState | undefined>(Array.from({ length: count }, (_, i) => [i + 1, undefined]));
  for (const source of ['sacct', 'sacct --completion', 'scontrol'] as const) {
    const missing = [...result].filter(([, s]) => !s).map(([task]) => task);
    if (missing.length === 0) break;
    const known = taskStatesFrom(source, jobId, fragmentsDir, env);
    for (const task of missing) if (known?.get(task)) result.set(task, known.get(task));
  }
  return result;
}

/** A task that did not leave a usable shard report. */
export interface FailedTask {
  task: number;
  state?: TaskState;
  log: string;
  /** Why, in French. */
  reason: string;
}

/** The tasks whose shard is not done: a final state other than COMPLETED, or no shard.json. */
export function failedTasks(jobId: string, count: number, fragmentsDir: string, env: NodeJS.ProcessEnv = process.env): FailedTask[] {
  const states = taskStates(jobId, count, fragmentsDir, env);
  const records = taskRecords(fragmentsDir);
  const failed: FailedTask[] = [];
  for (const [task, state] of states) {
    const log = taskLogPath(fragmentsDir, jobId, task);
    const report = existsSync(join(shardReportDir(fragmentsDir, task, count), SHARD_REPORT_FILE));
    if (state && state.state !== 'COMPLETED') failed.push({ task, state, log, reason: `${state.state}, code de sortie ${state.exitCode}` });
    else if (!report) {
      const started = records.has(task);
      const reason = state ? `${state.state} mais sans rapport ${SHARD_REPORT_FILE}` : started ? `commencée, mais Slurm n’en garde plus l’état et il n’y a pas de rapport ${SHARD_REPORT_FILE}` : `jamais commencée (annulée avant son début ?) : Slurm n’en garde aucune trace sans base de comptabilité, et il n’y a pas de rapport ${SHARD_REPORT_FILE}`;
      failed.push({ task, state, log, reason });
    }
  }
  return failed;
}

/** The last lines of a file (a task's log), or a sentence saying it is not there. */
export function tail(path: string, lines = 12): string {
  if (!existsSync(path)) return '(journal absent)';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** The per-task fixed cost of an array: sbatch to the task's start, and the grader's start-up in the task, in seconds. */
export interface TaskOverheads {
  /** From just before sbatch ran to each task's script starting, by task. */
  queueSeconds: number[];
  /** From each task's script starting to its grader grading its first submission. */
  startupSeconds: number[];
}

/** The fixed costs measured from slurm.json, the tasks' records and the shard reports' timings. */
export function taskOverheads(fragmentsDir: string): TaskOverheads {
  const submitted = JSON.parse(readFileSync(join(fragmentsDir, 'slurm.json'), 'utf8')) as { submittedAt: number; shards: number };
  const records = taskRecords(fragmentsDir);
  const queueSeconds: number[] = [];
  const startupSeconds: number[] = [];
  for (let task = 1; task <= submitted.shards; task++) {
    const record = records.get(task);
    if (!record) continue;
    queueSeconds.push((record.startedAt - submitted.submittedAt) / 1000);
    const file = join(shardReportDir(fragmentsDir, task, submitted.shards), SHARD_REPORT_FILE);
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8')) as ShardReport;
    startupSeconds.push((report.timings.gradingStartedAt - (report.timings.taskStartedAt ?? record.startedAt)) / 1000);
  }
  return { queueSeconds, startupSeconds };
}

/** The median of some numbers (NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
}

/** `1,2 s` */
export function seconds(value: number): string {
  return `${value.toLocaleString('fr-FR', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} s`;
}

/** The command that re-runs task `task` alone (the same script, one array index). */
export function rerunCommand(fragmentsDir: string, task: number): string {
  return `sbatch --array=${task} ${quoteArg(arrayScriptPath(fragmentsDir))}`;
}

/**
 * `npm run grade -- <class> --slurm`: the class graded as one Slurm job array (one task per
 * shard), waited for with French progress lines, then merged. A task that fails is reported by
 * shard with its log and the exact command that re-runs it alone; nothing is merged then.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { InputSubmission } from '../lms/input';
import { loadShards, mergeShards, quoteArg, shardReportDir, shown, type MergedGradebook } from './merge';
import { failedTasks, fragmentsDirOf, median, rerunCommand, seconds, submitArray, tail, taskOverheads, validateSlurmOptions, waitForArray, type SlurmArrayOptions, type TaskOverheads } from './slurm';

/** The most tasks --slurm makes by default (one per submission up to this). */
export const DEFAULT_MAX_SHARDS = 50;

/** What gradeOnSlurm needs. */
export interface SlurmGradeRequest {
  /** The class folder, absolute (the nodes must see it at this path). */
  classDir: string;
  /** The class path as the instructor typed it (for the commands printed). */
  classGiven: string;
  /** The merged report folder, absolute; the shards go to its fragments/. */
  reportDir: string;
  /** The class's submissions, as npm run grade opened it (default N, messages, the merge's integrity step). */
  submissions: readonly InputSubmission[];
  /** The grader options every task gets, paths absolute. */
  gradeArgs: string[];
  /** Slurm options; shards defaults to one per submission, at most DEFAULT_MAX_SHARDS. */
  slurm: Omit<SlurmArrayOptions, 'shards'> & { shards?: number };
  env?: NodeJS.ProcessEnv;
  /** The Moodle worksheet to fill at the merge (only named in the merge command printed after a failure). */
  worksheet?: string;
  /** squeue polling interval (default 2 s). */
  pollMs?: number;
  /** Where progress lines go (default: stderr). */
  log?: (line: string) => void;
}

/** How a Slurm grading ended. */
export type SlurmGradeResult =
  | { ok: true; jobId: string; merged: MergedGradebook; overheads: TaskOverheads; fragmentsDir: string }
  | { ok: false; jobId?: string; exitCode: number; fragmentsDir: string };

/** The default number of tasks for a class of `submissions`. */
export function defaultShardCount(submissions: number): number {
  return Math.max(1, Math.min(submissions, DEFAULT_MAX_SHARDS));
}

/** Submits the array, waits for it, reports failed tasks by shard, merges; never writes the merged reports itself. */
export async function gradeOnSlurm(request: SlurmGradeRequest): Promise<SlurmGradeResult> {
  const log = request.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = request.env ?? process.env;
  const total = request.submissions.length;
  const options = validateSlurmOptions({ ...request.slurm, shards: request.slurm.shards ?? defaultShardCount(total) });
  const n = options.shards;
  const fragmentsDir = fragmentsDirOf(request.reportDir);
  if (existsSync(fragmentsDir)) {
    rmSync(fragmentsDir, { recursive: true, force: true });
    log(`Anciens fragments de ${shown(fragmentsDir)}/ supprimés.`);
  }
  const submitted = submitArray(options, { classDir: request.classDir, fragmentsDir, gradeArgs: request.gradeArgs }, env);
  const { jobId } = submitted;
  const details = [options.partition ? `partition ${options.partition}` : 'partition par défaut', `${options.cpusPerTask ?? 1} cœur${(options.cpusPerTask ?? 1) > 1 ? 's' : ''} par tâche`, options.time ? `au plus ${/^\d+$/.test(options.time) ? `${options.time} min` : options.time} par tâche` : 'temps par défaut de la partition'];
  log(`Slurm : tableau de tâches ${jobId} soumis, ${n} tâche${n > 1 ? 's' : ''} (une par fragment, ${total} soumission${total > 1 ? 's' : ''} en tout ; ${details.join(', ')}).`);
  log(`Script : ${shown(submitted.script)} ; journaux : ${shown(join(fragmentsDir, `slurm-${jobId}_<i>.log`))}.`);
  const mergeCommand = `npm run grade:merge -- ${quoteArg(shown(fragmentsDir))} --report ${quoteArg(shown(request.reportDir))}${request.worksheet ? ` --moodle-worksheet ${quoteArg(request.worksheet)}` : ''}`;
  const onInterrupt = () => {
    log(`\nInterrompu : le tableau ${jobId} continue sur le cluster sans être attendu. Pour l’annuler : scancel ${jobId}. Une fois ses tâches finies, fusionnez : ${mergeCommand}`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    await waitForArray(jobId, n, (_, line) => log(line), { pollMs: request.pollMs, env });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
  const failed = failedTasks(jobId, n, fragmentsDir, env);
  if (failed.length) {
    log(`\nSlurm : ${failed.length} tâche${failed.length > 1 ? 's' : ''} sur ${n} n’${failed.length > 1 ? 'ont' : 'a'} pas abouti ; rien n’est fusionné.`);
    for (const task of failed) {
      log(`  Fragment ${task.task}/${n} (tâche ${jobId}_${task.task}) : ${task.reason}.`);
      log(`    Journal : ${shown(task.log)}`);
      log(`    Dernières lignes :\n${tail(task.log).split('\n').map((l) => `      | ${l}`).join('\n')}`);
      log(`    Relancer ce fragment seul : ${rerunCommand(fragmentsDir, task.task)}`);
      log(`    (ou sans Slurm : npm run grade -- ${quoteArg(request.classGiven)} --shard ${task.task}/${n} --report ${quoteArg(shown(shardReportDir(fragmentsDir, task.task, n)))}${request.gradeArgs.length ? ` ${request.gradeArgs.map(quoteArg).join(' ')}` : ''})`);
    }
    log(`Une fois ${failed.length > 1 ? 'ces fragments relancés et terminés' : 'ce fragment relancé et terminé'}, fusionnez : ${mergeCommand}`);
    return { ok: false, jobId, exitCode: 2, fragmentsDir };
  }
  const merged = await mergeShards(loadShards([fragmentsDir]), { reportDir: request.reportDir, submissions: request.submissions });
  const overheads = taskOverheads(fragmentsDir);
  log(`Slurm : ${n} tâche${n > 1 ? 's' : ''} terminée${n > 1 ? 's' : ''}, fragments fusionnés. Coût fixe par tâche (médiane) : ${seconds(median(overheads.queueSeconds))} de sbatch au début de la tâche, ${seconds(median(overheads.startupSeconds))} de démarrage du correcteur.`);
  return { ok: true, jobId, merged, overheads, fragmentsDir };
}

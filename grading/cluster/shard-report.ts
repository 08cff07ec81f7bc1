/**
 * The shard report: `shard.json`, written next to a shard's usual reports (grades.json, feedback/,
 * executed/...) by `npm run grade -- <class> --shard i/N`. It says which shard of which class it is
 * (the class's full id list and its fingerprint, the grading spec and the sharding rule), and holds
 * the shard's grades in full (confusion matrices and verdicts included), so that a merge rebuilds
 * exactly the gradebook one run over the whole class writes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../runner';
import type { SubmissionGrade } from '../grader/pipeline';
import type { GradingSpec } from '../grader/spec';
import { classFingerprint, SHARD_RULE, type Shard } from './shard';

/** The file name of a shard report, inside the shard's report folder. */
export const SHARD_REPORT_FILE = 'shard.json';

/** The `format` field of every shard report. */
export const SHARD_REPORT_FORMAT = 'analyse-image/shard-report';

/** The version of the format this code writes and reads. */
export const SHARD_REPORT_VERSION = 1;

/** The class a shard belongs to. */
export interface ShardClass {
  /** The class folder, absolute, as the shard saw it. */
  dir: string;
  /** The path as it was given on the command line (a merge elsewhere may resolve it from its own folder). */
  given: string;
  /** Every submission id of the class, in class order (identity.ts). */
  ids: string[];
  /** classFingerprint(ids). */
  fingerprint: string;
}

/** When a shard's work happened, in milliseconds since the epoch (for the per-task fixed cost). */
export interface ShardTimings {
  /** The Slurm task's script started (ANALYSE_IMAGE_TASK_STARTED), when run by --slurm. */
  taskStartedAt?: number;
  /** The grader process started. */
  processStartedAt: number;
  /** Grading of the first submission began (after the grader's start-up). */
  gradingStartedAt: number;
  /** The shard's reports were written. */
  finishedAt: number;
}

/** What a shard report holds. */
export interface ShardReport {
  format: typeof SHARD_REPORT_FORMAT;
  version: typeof SHARD_REPORT_VERSION;
  /** Which shard: index/count. */
  shard: Shard;
  /** How ids map to shards (SHARD_RULE). */
  rule: string;
  class: ShardClass;
  /** The effective grading spec, and its fingerprint (all shards of a merge must agree). */
  spec: GradingSpec;
  specFingerprint: string;
  title: string;
  gradedAt: string;
  executed: boolean;
  sandbox: string;
  sandboxReason?: string;
  /** The grader's command-line arguments (after `npm run grade --`), to print the command of a missing shard. */
  argv?: string[];
  /** The folder the grader ran from (relative paths of argv are from there). */
  cwd?: string;
  /** The Slurm task that produced it, when one did. */
  slurm?: { jobId?: string; arrayJobId?: string; arrayTaskId?: string; node?: string };
  timings: ShardTimings;
  /** This shard's grades, in class order; flags are the submissions' own (output-truncated), class-level ones come at merge. */
  grades: SubmissionGrade[];
}

/** SHA-256 of the spec's JSON (its key order is fixed by the default spec). */
export function specFingerprint(spec: GradingSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}

/** A shard report for `grades`, the shard `shard` of the class whose ids are `classIds`. */
export function makeShardReport(fields: {
  shard: Shard;
  classDir: string;
  classGiven: string;
  classIds: string[];
  spec: GradingSpec;
  gradedAt: string;
  executed: boolean;
  sandbox: string;
  sandboxReason?: string;
  timings: Omit<ShardTimings, 'taskStartedAt'>;
  grades: SubmissionGrade[];
  argv?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}): ShardReport {
  const env = fields.env ?? process.env;
  const taskStarted = Number(env.ANALYSE_IMAGE_TASK_STARTED);
  const slurm = env.SLURM_JOB_ID ? { jobId: env.SLURM_JOB_ID, arrayJobId: env.SLURM_ARRAY_JOB_ID, arrayTaskId: env.SLURM_ARRAY_TASK_ID, node: env.SLURMD_NODENAME } : undefined;
  return {
    format: SHARD_REPORT_FORMAT,
    version: SHARD_REPORT_VERSION,
    shard: fields.shard,
    rule: SHARD_RULE,
    class: { dir: fields.classDir, given: fields.classGiven, ids: fields.classIds, fingerprint: classFingerprint(fields.classIds) },
    spec: fields.spec,
    specFingerprint: specFingerprint(fields.spec),
    title: fields.spec.title,
    gradedAt: fields.gradedAt,
    executed: fields.executed,
    sandbox: fields.sandbox,
    ...(fields.sandboxReason ? { sandboxReason: fields.sandboxReason } : {}),
    ...(fields.argv ? { argv: fields.argv } : {}),
    ...(fields.cwd ? { cwd: fields.cwd } : {}),
    ...(slurm ? { slurm } : {}),
    timings: { ...(Number.isFinite(taskStarted) && taskStarted > 0 ? { taskStartedAt: Math.round(taskStarted * 1000) } : {}), ...fields.timings },
    grades: fields.grades,
  };
}

/** Writes `<dir>/shard.json` atomically; returns its path. */
export function writeShardReport(dir: string, report: ShardReport): string {
  const path = join(dir, SHARD_REPORT_FILE);
  writeFileAtomic(path, `${JSON.stringify(report, null, 1)}\n`);
  return path;
}

/** A shard report that cannot be used; the message (French) names the file. */
export class ShardReportError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads and checks a shard.json; throws a ShardReportError naming the file and what is wrong. */
export function readShardReport(path: string): ShardReport {
  if (!existsSync(path)) throw new ShardReportError(`${path} n’existe pas.`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ShardReportError(`${path} : JSON illisible (${(error as Error).message}).`);
  }
  const bad = (what: string) => new ShardReportError(`${path} n’est pas un rapport de fragment utilisable : ${what}.`);
  if (!isObject(json) || json.format !== SHARD_REPORT_FORMAT) throw bad(`le champ "format" n’est pas "${SHARD_REPORT_FORMAT}"`);
  if (json.version !== SHARD_REPORT_VERSION) throw bad(`version ${JSON.stringify(json.version)} du format, ce correcteur lit la version ${SHARD_REPORT_VERSION} (recorrigez ce fragment avec cette version du projet)`);
  const shard = json.shard as Shard | undefined;
  if (!isObject(shard) || !Number.isInteger(shard.index) || !Number.isInteger(shard.count) || shard.index < 1 || shard.index > shard.count) throw bad('"shard" doit être { "index": i, "count": N } avec 1 ≤ i ≤ N');
  const cls = json.class as ShardClass | undefined;
  if (!isObject(cls) || typeof cls.dir !== 'string' || !Array.isArray(cls.ids) || !cls.ids.every((id) => typeof id === 'string')) throw bad('"class" doit donner le dossier et la liste des identifiants de la classe');
  if (classFingerprint(cls.ids) !== cls.fingerprint) throw bad('l’empreinte de la classe ne correspond pas à sa liste d’identifiants (fichier modifié ?)');
  if (!Array.isArray(json.grades) || !json.grades.every((g) => isObject(g) && typeof g.id === 'string' && Array.isArray(g.checks))) throw bad('"grades" doit être la liste des notes du fragment');
  if (!isObject(json.spec) || specFingerprint(json.spec as unknown as GradingSpec) !== json.specFingerprint) throw bad('le barème enregistré ne correspond pas à son empreinte (fichier modifié ?)');
  if (typeof json.executed !== 'boolean' || typeof json.gradedAt !== 'string') throw bad('"executed" et "gradedAt" manquent');
  return json as unknown as ShardReport;
}


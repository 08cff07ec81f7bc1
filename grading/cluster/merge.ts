/**
 * Merging shard reports into one gradebook: the shards must be exactly the N shards of one class
 * (same class fingerprint, same N, same spec, same mode; each shard once; each submission in the
 * shard its id hashes to), otherwise a MergeError says in French what is missing or overlapping.
 * Class-level integrity flags are recomputed over the whole class folder, as one run would (a
 * shard alone cannot see a duplicate in another shard); per-submission flags (output-truncated)
 * come from the shards. The executed notebooks are copied into the merged report folder.
 */
import { cpSync, existsSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { flagIntegrity, type IntegrityFlagKind } from '../grader/integrity';
import type { SubmissionGrade } from '../grader/pipeline';
import type { ClassReport } from '../grader/reports';
import { openGradingInput, type InputSubmission } from '../lms/input';
import { classFingerprint, shardFolderName, shardLabel, shardOf, SHARD_RULE } from './shard';
import { readShardReport, SHARD_REPORT_FILE, ShardReportError, type ShardReport } from './shard-report';
import { frenchList } from '../french';

/** Shards that cannot be merged; the message (French) says why and what to do. */
export class MergeError extends Error {}

/** A shard report and where it was read from. */
export interface LoadedShard {
  /** Its shard.json. */
  file: string;
  /** Its report folder (holding executed/). */
  dir: string;
  report: ShardReport;
}

/** Flags a shard computes about one submission alone, kept through the merge; the others are recomputed. */
const OWN_FLAGS: ReadonlySet<IntegrityFlagKind> = new Set(['output-truncated']);

/** A path for messages: relative to the working folder when inside it. */
export function shown(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !rel.startsWith('/') ? rel : path;
}

/**
 * The shard.json files named by `paths`: a shard report folder, its shard.json, or a folder whose
 * subfolders are shard report folders (as `<report>/fragments/` of --slurm, or CI artifacts).
 */
export function findShardReports(paths: readonly string[]): string[] {
  if (paths.length === 0) throw new MergeError('indiquez les rapports des fragments à fusionner (npm run grade:merge -- <rapport>... --report <dossier>).');
  const files: string[] = [];
  for (const given of paths) {
    const path = resolve(given);
    if (!existsSync(path)) throw new MergeError(`${given} n’existe pas.`);
    if (statSync(path).isFile()) {
      files.push(path);
      continue;
    }
    if (existsSync(join(path, SHARD_REPORT_FILE))) {
      files.push(join(path, SHARD_REPORT_FILE));
      continue;
    }
    const inside = readdirSync(path)
      .filter((entry) => existsSync(join(path, entry, SHARD_REPORT_FILE)))
      .sort()
      .map((entry) => join(path, entry, SHARD_REPORT_FILE));
    if (inside.length === 0) {
      const whole = existsSync(join(path, 'grades.json'));
      const what = whole ? `${given} est le rapport d’une correction entière (grades.json sans ${SHARD_REPORT_FILE}), pas celui d’un fragment` : `${given} ne contient pas de ${SHARD_REPORT_FILE} (ni de sous-dossier qui en ait un) : ce n’est pas le rapport d’un fragment`;
      throw new MergeError(`${what}. Un fragment se corrige avec npm run grade -- <classe> --shard i/N --report <dossier>.`);
    }
    files.push(...inside);
  }
  // The same file named twice (a folder and its shard.json) is one shard, not an overlap.
  return [...new Set(files.map((file) => realpathSync(file)))];
}

/** Reads the shard reports (errors name the file). */
export function loadShards(paths: readonly string[]): LoadedShard[] {
  return findShardReports(paths).map((file) => {
    try {
      return { file, dir: resolve(file, '..'), report: readShardReport(file) };
    } catch (error) {
      if (error instanceof ShardReportError) throw new MergeError(error.message);
      throw error;
    }
  });
}

/** At most `max` items, then "et n autres". */
function some(items: readonly string[], max = 8): string {
  return items.length <= max ? frenchList(items) : `${items.slice(0, max).join(', ')} et ${items.length - max} autres`;
}

function where(shard: LoadedShard): string {
  return shown(shard.dir);
}

/** What the checks establish about a set of shards. */
export interface CheckedShards {
  /** N. */
  count: number;
  /** The class's ids, in class order. */
  ids: string[];
  /** The shards ordered by index. */
  shards: LoadedShard[];
}

/**
 * Checks that the shards are exactly the N shards of one class, graded the same way; throws a
 * MergeError naming the problem (different classes, different N, spec or mode, a shard given
 * twice, a submission in the wrong shard or missing from one, missing shards with the command
 * that grades them).
 */
export function checkShards(shards: readonly LoadedShard[]): CheckedShards {
  if (shards.length === 0) throw new MergeError('aucun rapport de fragment à fusionner.');
  const first = shards[0].report;
  for (const s of shards) {
    if (s.report.rule !== SHARD_RULE) throw new MergeError(`${where(s)} répartit les soumissions selon « ${s.report.rule} », ce correcteur selon « ${SHARD_RULE} » : recorrigez-le avec cette version du projet.`);
  }
  const byClass = new Map<string, LoadedShard[]>();
  for (const s of shards) byClass.set(s.report.class.fingerprint, [...(byClass.get(s.report.class.fingerprint) ?? []), s]);
  if (byClass.size > 1) {
    const groups = [...byClass.values()];
    const reference = new Set(groups[0][0].report.class.ids);
    const lines = groups.map((group) => {
      const ids = group[0].report.class.ids;
      const extra = ids.filter((id) => !reference.has(id));
      const absent = [...reference].filter((id) => !ids.includes(id));
      const diff = group === groups[0] ? '' : `${extra.length ? ` ; en plus : ${some(extra)}` : ''}${absent.length ? ` ; en moins : ${some(absent)}` : ''}`;
      return `  - ${group.map((s) => `fragment ${shardLabel(s.report.shard)} (${where(s)})`).join(', ')} : classe ${group[0].report.class.dir}, ${ids.length} soumission${ids.length > 1 ? 's' : ''}${diff}`;
    });
    throw new MergeError(`ces fragments ne viennent pas de la même classe (ou la classe a changé entre deux corrections) :\n${lines.join('\n')}\nRecorrigez les fragments sur le même dossier de classe.`);
  }
  const counts = [...new Set(shards.map((s) => s.report.shard.count))];
  if (counts.length > 1) {
    throw new MergeError(`ces fragments ne découpent pas la classe en un même nombre de parts : ${shards.map((s) => `${shardLabel(s.report.shard)} (${where(s)})`).join(', ')}. Corrigez tous les fragments avec le même N (--shard i/N).`);
  }
  const specs = new Set(shards.map((s) => s.report.specFingerprint));
  if (specs.size > 1) throw new MergeError(`ces fragments n’ont pas été corrigés avec le même barème (--spec, --timeout) : ${shards.map((s) => `${shardLabel(s.report.shard)} (${where(s)}) : ${s.report.specFingerprint.slice(0, 12)}`).join(', ')}.`);
  const modes = new Set(shards.map((s) => s.report.executed));
  if (modes.size > 1) throw new MergeError(`ces fragments mêlent notebooks exécutés et sorties enregistrées (--no-execute) : ${shards.map((s) => `${shardLabel(s.report.shard)} ${s.report.executed ? 'exécuté' : 'sans exécution'}`).join(', ')}.`);
  const count = counts[0];
  const byIndex = new Map<number, LoadedShard>();
  for (const s of shards) {
    const other = byIndex.get(s.report.shard.index);
    if (other) throw new MergeError(`le fragment ${shardLabel(s.report.shard)} est donné deux fois : ${where(other)} et ${where(s)}. Ne gardez qu’un rapport par fragment.`);
    byIndex.set(s.report.shard.index, s);
  }
  const ids = first.class.ids;
  const known = new Set(ids);
  const holder = new Map<string, LoadedShard>();
  for (const s of shards) {
    for (const grade of s.report.grades) {
      const other = holder.get(grade.id);
      if (other) throw new MergeError(`la soumission ${grade.id} est dans deux fragments : ${shardLabel(other.report.shard)} (${where(other)}) et ${shardLabel(s.report.shard)} (${where(s)}).`);
      holder.set(grade.id, s);
      if (!known.has(grade.id)) throw new MergeError(`${where(s)} contient ${grade.id}, qui n’est pas dans la liste de la classe qu’il enregistre (fichier modifié ?).`);
      const owner = shardOf(grade.id, count);
      if (owner !== s.report.shard.index) throw new MergeError(`${where(s)} (fragment ${shardLabel(s.report.shard)}) contient ${grade.id}, qui appartient au fragment ${owner}/${count}.`);
    }
    const expected = ids.filter((id) => shardOf(id, count) === s.report.shard.index);
    const lacking = expected.filter((id) => !s.report.grades.some((g) => g.id === id));
    if (lacking.length) throw new MergeError(`le fragment ${shardLabel(s.report.shard)} (${where(s)}) est incomplet : il lui manque ${some(lacking)}. Recorrigez-le.`);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((index) => !byIndex.has(index));
  if (missing.length) {
    const lines = missing.map((index) => {
      const owned = ids.filter((id) => shardOf(id, count) === index);
      const dir = join(resolve(shards[0].dir, '..'), shardFolderName({ index, count }));
      return `  - ${index}/${count} (${owned.length ? some(owned) : 'aucune soumission'}) : ${shardCommand(shards[0].report, { index, count }, shown(dir))}`;
    });
    throw new MergeError(`fragment${missing.length > 1 ? 's' : ''} manquant${missing.length > 1 ? 's' : ''} : ${missing.map((i) => `${i}/${count}`).join(', ')} (${shards.length} donné${shards.length > 1 ? 's' : ''} sur ${count}). Corrigez-${missing.length > 1 ? 'les' : 'le'}, puis relancez la fusion :\n${lines.join('\n')}`);
  }
  return { count, ids, shards: [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s) };
}

/** Options of npm run grade whose value is a path (made absolute in a printed command). */
const PATH_OPTIONS = new Set(['--spec', '--images']);

/** Options of npm run grade that take a value (the others are flags). */
const VALUE_OPTIONS = new Set(['--report', '--jobs', '--timeout', '--spec', '--images', '--sandbox', '--shard', '--shards', '--partition', '--cpus-per-task', '--time']);

/**
 * The command that grades shard `shard` as `report`'s own was graded: its recorded arguments with
 * --shard and --report replaced, the class and path options absolute (so it runs from anywhere).
 */
export function shardCommand(report: Pick<ShardReport, 'argv' | 'cwd' | 'class' | 'executed'>, shard: { index: number; count: number }, reportDir: string): string {
  const argv = report.argv ?? [report.class.given, ...(report.executed ? [] : ['--no-execute'])];
  const cwd = report.cwd ?? process.cwd();
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].startsWith('--') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    if (!name.startsWith('--')) {
      out.push(report.class.dir); // the one positional: the class
      continue;
    }
    const takesValue = VALUE_OPTIONS.has(name);
    const value = takesValue ? (inline ?? argv[++i]) : undefined;
    if (name === '--shard' || name === '--report') continue;
    out.push(name);
    if (value !== undefined) out.push(PATH_OPTIONS.has(name) ? resolve(cwd, value) : value);
  }
  return `npm run grade -- ${[...out, '--shard', `${shard.index}/${shard.count}`, '--report', reportDir].map(quoteArg).join(' ')}`;
}

/** A shell word: quoted when it holds anything but safe characters. */
export function quoteArg(text: string): string {
  return /^[\w./:=@%+,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Options of mergeShards. */
export interface MergeOptions {
  /** The merged report folder: executed/<id>/ is copied there. */
  reportDir: string;
  /** The class folder, when not where the shards saw it (another machine, a CI job's checkout). */
  classDir?: string;
  /** The working folder a relative class path is resolved from (default: process.cwd()). */
  cwd?: string;
  /** The class's submissions, when the caller has already opened it (npm run grade -- --slurm). */
  submissions?: readonly InputSubmission[];
}

/** The merged gradebook and how it was made. */
export interface MergedGradebook {
  report: ClassReport;
  /** N. */
  count: number;
  /** The class (folder or zip) the integrity flags were computed over. */
  classDir: string;
  shards: LoadedShard[];
}

/** The class (folder or zip) to recompute integrity over: --class, else where the shards saw it, else their path as given from `cwd`. */
function locateClass(first: ShardReport, options: MergeOptions): string {
  const candidates = options.classDir ? [resolve(options.classDir)] : [first.class.dir, resolve(options.cwd ?? process.cwd(), first.class.given)];
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) {
    throw new MergeError(`dossier de la classe introuvable : ${options.classDir ?? first.class.dir}. La fusion recalcule les signalements d’intégrité (poids ou notebook identiques) sur toute la classe : donnez son dossier avec --class <dossier>.`);
  }
  return found;
}

/** Checks the shards, recomputes the class-level integrity flags over the class folder, copies executed/; returns the gradebook to write. */
export async function mergeShards(loaded: readonly LoadedShard[], options: MergeOptions): Promise<MergedGradebook> {
  const { count, ids, shards } = checkShards(loaded);
  const first = shards[0].report;
  const spec = first.spec;
  const classDir = options.submissions ? first.class.dir : locateClass(first, options);
  // The class as npm run grade reads it: a folder, or a zip unpacked into a temporary folder.
  let input;
  try {
    input = options.submissions ? { submissions: options.submissions, cleanup: () => undefined } : await openGradingInput(classDir, spec);
  } catch (error) {
    throw new MergeError(`classe illisible : ${(error as Error).message}`);
  }
  try {
    return await mergeOver(shards, count, ids, classDir, input.submissions, options);
  } finally {
    input.cleanup();
  }
}

/** The merge proper, once the class is open. */
async function mergeOver(shards: LoadedShard[], count: number, ids: string[], classDir: string, submissions: readonly InputSubmission[], options: MergeOptions): Promise<MergedGradebook> {
  const first = shards[0].report;
  const spec = first.spec;
  const now = submissions.map((s) => s.id);
  if (classFingerprint(now) !== first.class.fingerprint) {
    const extra = now.filter((id) => !ids.includes(id));
    const absent = ids.filter((id) => !now.includes(id));
    throw new MergeError(`la classe ${classDir} ne correspond plus à la classe des fragments (${extra.length ? `en plus : ${some(extra)}` : ''}${extra.length && absent.length ? ' ; ' : ''}${absent.length ? `en moins : ${some(absent)}` : ''}${!extra.length && !absent.length ? 'mêmes soumissions dans un autre ordre' : ''}). Donnez la classe corrigée avec --class, ou recorrigez les fragments.`);
  }
  const byId = new Map<string, SubmissionGrade>();
  for (const s of shards) for (const grade of s.report.grades) byId.set(grade.id, { ...grade, flags: grade.flags.filter((f) => OWN_FLAGS.has(f.kind)) });
  const ordered = ids.map((id) => byId.get(id)!);
  const grades = await flagIntegrity(ordered, submissions, spec);
  const reportDir = resolve(options.reportDir);
  for (const s of shards) {
    for (const grade of s.report.grades) {
      const from = join(s.dir, 'executed', grade.id);
      const to = join(reportDir, 'executed', grade.id);
      if (!existsSync(from) || resolve(from) === resolve(to)) continue;
      rmSync(to, { recursive: true, force: true });
      cpSync(from, to, { recursive: true });
    }
  }
  const unique = <T>(values: T[]) => [...new Set(values)];
  const sandboxes = unique(shards.map((s) => s.report.sandbox));
  const reasons = unique(shards.map((s) => s.report.sandboxReason).filter((r): r is string => !!r));
  const report: ClassReport = {
    title: first.title,
    gradedAt: shards.map((s) => s.report.gradedAt).sort().pop()!,
    executed: first.executed,
    sandbox: sandboxes.join(', '),
    ...(reasons.length ? { sandboxReason: reasons.join(' ; ') } : {}),
    submissions: grades,
  };
  return { report, count, classDir, shards };
}

/** The report folder of shard `index`/`count` under a fragments folder. */
export function shardReportDir(fragmentsDir: string, index: number, count: number): string {
  return join(fragmentsDir, shardFolderName({ index, count }));
}


/**
 * Class-level integrity flags, a step run once every submission is graded: submissions whose saved
 * model weights are byte-identical, or whose classification notebooks are identical once outputs,
 * execution counts, metadata and whitespace are set aside. Read from the submission folders as
 * submitted (never written); a flag is for the instructor to look at and costs no points.
 *
 * Flags name classmates, so they appear only in instructor-facing reports (grades.json and
 * index.html), never on a student's own feedback page, in junit.xml or in grades.csv.
 */
import { createHash } from 'node:crypto';
import { constants, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { SubmissionGrade } from './pipeline';
import type { GradingSpec } from './spec';
import { frenchList } from '../french';

/** What two or more submissions share. */
export type SharedKind = 'identical-weights' | 'identical-notebook';

/** A flag's kind: shared files, or (set by the pipeline) a submission whose output the grader cut. */
export type IntegrityFlagKind = SharedKind | 'output-truncated';

/** One integrity flag on one submission. */
export interface IntegrityFlag {
  kind: IntegrityFlagKind;
  /** The ids of the other submissions that share it, in class order (none for output-truncated). */
  with: string[];
  /** In French, for the instructor. */
  message: string;
}

/** A submission as the integrity step needs it: its id and its folder. */
export interface IntegritySubject {
  id: string;
  dir: string;
}

/** The flags and notes of a class, by submission id. */
export interface IntegrityResult {
  flags: Map<string, IntegrityFlag[]>;
  /** Files the step could not compare (too big, not regular files), in French. */
  notes: Map<string, string[]>;
}

/** The lstat of a path, or undefined when it does not exist or cannot be read. */
function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Bytes as French megabytes: 200, 0,5. */
function megabytes(bytes: number): string {
  return (bytes / 1e6).toLocaleString('fr-FR', { maximumFractionDigits: 3 });
}

/** SHA-256 of a file, read in chunks (bounded memory); symbolic links are not followed. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    for await (const chunk of file.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/**
 * One fingerprint of a model folder's weights: the SHA-256 of its regular, non-empty files other
 * than the .json, names ignored (renaming a copied file changes nothing). Undefined when there are
 * none, or when a file could not be compared (over `maxBytes`, or not a regular file).
 */
export async function weightsFingerprint(modelDir: string, maxBytes: number, shownDir = modelDir): Promise<{ fingerprint?: string; notes: string[] }> {
  const notes: string[] = [];
  if (!lstatOrUndefined(modelDir)?.isDirectory()) return { notes };
  const hashes: string[] = [];
  let incomplete = false;
  for (const entry of readdirSync(modelDir).sort()) {
    if (entry.toLowerCase().endsWith('.json')) continue;
    const path = join(modelDir, entry);
    const stat = lstatOrUndefined(path);
    if (!stat || stat.isDirectory()) continue;
    if (!stat.isFile()) {
      notes.push(`${shownDir}/${entry} n’est pas un fichier ordinaire : non comparé aux autres soumissions.`);
      incomplete = true;
    } else if (stat.size > maxBytes) {
      notes.push(`${shownDir}/${entry} dépasse ${megabytes(maxBytes)} Mo : non comparé aux autres soumissions.`);
      incomplete = true;
    } else if (stat.size > 0) {
      try {
        hashes.push(await hashFile(path));
      } catch (error) {
        notes.push(`${shownDir}/${entry} illisible (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}) : non comparé aux autres soumissions.`);
        incomplete = true;
      }
    }
  }
  if (incomplete || hashes.length === 0) return { notes };
  return { fingerprint: createHash('sha256').update(hashes.sort().join('\n')).digest('hex'), notes };
}

/**
 * A notebook's fingerprint from its code and markdown sources only, each with its whitespace
 * collapsed (outputs, execution counts, metadata, raw and empty cells ignored). Undefined when the
 * text is not a notebook or has no source at all.
 */
export function notebookFingerprint(text: string): string | undefined {
  let notebook: unknown;
  try {
    notebook = JSON.parse(text);
  } catch {
    return undefined;
  }
  const cells = (notebook as { cells?: unknown } | null)?.cells;
  if (!Array.isArray(cells)) return undefined;
  const sources: [string, string][] = [];
  for (const cell of cells as { cell_type?: unknown; source?: unknown }[]) {
    if (cell?.cell_type !== 'code' && cell?.cell_type !== 'markdown') continue;
    const raw = Array.isArray(cell.source) ? cell.source.filter((s): s is string => typeof s === 'string').join('') : typeof cell.source === 'string' ? cell.source : '';
    const source = raw.normalize('NFC').replace(/\s+/g, ' ').trim();
    if (source) sources.push([cell.cell_type, source]);
  }
  return sources.length ? createHash('sha256').update(JSON.stringify(sources)).digest('hex') : undefined;
}

/** The classification notebook's fingerprint, read only when it is a regular file within `maxBytes`. */
function notebookFileFingerprint(path: string, maxBytes: number, shown: string): { fingerprint?: string; notes: string[] } {
  const stat = lstatOrUndefined(path);
  if (!stat?.isFile()) return { notes: [] };
  if (stat.size > maxBytes) return { notes: [`${shown} dépasse ${megabytes(maxBytes)} Mo : non comparé aux autres soumissions.`] };
  try {
    return { fingerprint: notebookFingerprint(readFileSync(path, 'utf8')), notes: [] };
  } catch {
    return { notes: [] }; // unreadable: validate-notebooks already told the student
  }
}

/** The French sentence of a flag. */
function flagMessage(kind: SharedKind, others: string[], spec: GradingSpec): string {
  return kind === 'identical-weights'
    ? `Les poids du modèle (${spec.modelDir}/) sont identiques, octet pour octet, à ceux de ${frenchList(others)}.`
    : `${spec.notebooks.classification} est identique à celui de ${frenchList(others)} (code et texte des cellules ; sorties, numéros d’exécution, métadonnées et espaces mis à part).`;
}

/**
 * The class's integrity flags: every submission that shares its weights fingerprint or its
 * classification notebook fingerprint with another gets one flag per kind, naming the others.
 * Files are compared as submitted; files larger than the spec's `limits.modelMb` are skipped with a note.
 */
export async function findIntegrityFlags(submissions: readonly IntegritySubject[], spec: GradingSpec): Promise<IntegrityResult> {
  const maxBytes = spec.limits.modelMb * 1e6;
  const notes = new Map<string, string[]>();
  const groups: Record<SharedKind, Map<string, string[]>> = { 'identical-weights': new Map(), 'identical-notebook': new Map() };
  const add = (kind: SharedKind, fingerprint: string | undefined, id: string) => {
    if (fingerprint) groups[kind].set(fingerprint, [...(groups[kind].get(fingerprint) ?? []), id]);
  };
  // One submission at a time, one file at a time: memory stays at a read buffer and one notebook.
  for (const { id, dir } of submissions) {
    const weights = await weightsFingerprint(join(dir, spec.modelDir), maxBytes, spec.modelDir);
    const notebook = notebookFileFingerprint(join(dir, spec.notebooks.classification), maxBytes, spec.notebooks.classification);
    add('identical-weights', weights.fingerprint, id);
    add('identical-notebook', notebook.fingerprint, id);
    const skipped = [...weights.notes, ...notebook.notes];
    if (skipped.length) notes.set(id, skipped);
  }
  const flags = new Map<string, IntegrityFlag[]>();
  for (const kind of ['identical-weights', 'identical-notebook'] as const) {
    for (const ids of groups[kind].values()) {
      if (ids.length < 2) continue;
      for (const id of ids) {
        const others = ids.filter((other) => other !== id);
        flags.set(id, [...(flags.get(id) ?? []), { kind, with: others, message: flagMessage(kind, others, spec) }]);
      }
    }
  }
  return { flags, notes };
}

/** The grades with their flags set and the step's notes added; scores are unchanged. */
export function applyIntegrityFlags(grades: readonly SubmissionGrade[], result: IntegrityResult): SubmissionGrade[] {
  // Flags a submission already carries (its own output cut by the grader) are kept.
  return grades.map((grade) => ({ ...grade, flags: [...grade.flags, ...(result.flags.get(grade.id) ?? [])], notes: [...grade.notes, ...(result.notes.get(grade.id) ?? [])] }));
}

/** The step: finds the class's integrity flags from the submission folders and puts them on the grades. */
export async function flagIntegrity(grades: readonly SubmissionGrade[], submissions: readonly IntegritySubject[], spec: GradingSpec): Promise<SubmissionGrade[]> {
  return applyIntegrityFlags(grades, await findIntegrityFlags(submissions, spec));
}

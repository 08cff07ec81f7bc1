/**
 * Sharding a class: `--shard i/N` grades the submissions whose id hashes to i (1 <= i <= N). The
 * share of a submission depends only on its own id (from identity.ts) and N, so adding a student
 * moves no one else; every shard of the same class and N together hold each submission once.
 */
import { createHash } from 'node:crypto';

/** One shard of a class: the `index`-th of `count` (1-based, as Slurm's array task ids and GitLab's CI_NODE_INDEX). */
export interface Shard {
  index: number;
  count: number;
}

/** How a submission id becomes a shard; recorded in every shard report so a merge never mixes two rules. */
export const SHARD_RULE = 'sha256(id) mod N' as const;

/** The largest N accepted (Slurm's default MaxArraySize is 1001). */
export const MAX_SHARDS = 1000;

/** A usage error of the cluster options (--shard, --slurm's), in French. */
export class ClusterOptionError extends Error {}

/** Parses `i/N` (e.g. `2/3`); throws a ClusterOptionError (French) otherwise. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || !(count >= 1 && count <= MAX_SHARDS) || !(index >= 1 && index <= count)) {
    throw new ClusterOptionError(`--shard attend i/N avec 1 ≤ i ≤ N ≤ ${MAX_SHARDS} (par exemple 2/3), pas ${JSON.stringify(text)}.`);
  }
  return { index, count };
}

/** `2/3`. */
export function shardLabel(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** The shard (1..count) a submission id belongs to: the first 48 bits of SHA-256(id), modulo count. */
export function shardOf(id: string, count: number): number {
  const digest = createHash('sha256').update(id, 'utf8').digest();
  return (digest.readUIntBE(0, 6) % count) + 1;
}

/** The items of `shard`, in their given order. */
export function selectShard<T extends { id: string }>(items: readonly T[], shard: Shard): T[] {
  return items.filter((item) => shardOf(item.id, shard.count) === shard.index);
}

/** A class's fingerprint: SHA-256 of the JSON list of its ids in class order; two runs over the same folders agree. */
export function classFingerprint(ids: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(ids), 'utf8').digest('hex');
}

/** A shard report folder's conventional name: `fragment-2-sur-3`. */
export function shardFolderName(shard: Shard): string {
  return `fragment-${shard.index}-sur-${shard.count}`;
}

/** What a submission has written: the size of its scratch folder, measured without following links. */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A folder tree's footprint. */
export interface DiskUsage {
  /** Bytes of the blocks it occupies (sparse files count what they really use). */
  bytes: number;
  /** Files, folders and links counted. */
  entries: number;
  /** The walk stopped at `maxEntries`: `bytes` is a lower bound. */
  truncated: boolean;
}

/** Walks `dir` (links not followed, other file systems' mount points counted as entries only), up to `maxEntries` entries. */
export function diskUsage(dir: string, maxEntries = Infinity): DiskUsage {
  const usage: DiskUsage = { bytes: 0, entries: 0, truncated: false };
  let root: ReturnType<typeof lstatSync>;
  try {
    root = lstatSync(dir);
  } catch {
    return usage;
  }
  const stack: string[] = [dir];
  while (stack.length) {
    const folder = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue; // removed meanwhile, or not readable: nothing the submission can hide there from its own limits
    }
    for (const name of names) {
      if (usage.entries >= maxEntries) {
        usage.truncated = true;
        return usage;
      }
      const path = join(folder, name);
      let stat: ReturnType<typeof lstatSync>;
      try {
        stat = lstatSync(path);
      } catch {
        continue;
      }
      usage.entries++;
      usage.bytes += Number(stat.blocks) * 512;
      if (stat.isDirectory() && stat.dev === root.dev) stack.push(path);
    }
  }
  return usage;
}

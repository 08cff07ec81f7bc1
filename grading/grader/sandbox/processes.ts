/** The machine's processes as /proc shows them: enough to find a sandbox's members and what they use. */
import { readdirSync, readFileSync } from 'node:fs';

/** One process as /proc shows it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
  pgrp: number;
  /** Resident memory, kB. */
  rssKb: number;
  /** Its threads (each counts against RLIMIT_NPROC). */
  threads: number;
}

/** Every process readable now (those that end while being read are left out). */
export function readProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name in stat is in parentheses and may hold spaces: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({
        pid: Number(entry),
        ppid: Number(fields[1]),
        pgrp: Number(fields[2]),
        uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1),
        rssKb: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0),
        threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1),
      });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** The processes among `all` descending from any of `roots` (the roots included). */
export function descendants(all: ProcessInfo[], roots: Iterable<number>): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const p of all) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const found = new Map<number, ProcessInfo>();
  const stack = [...roots].map((pid) => byPid.get(pid)).filter((p): p is ProcessInfo => p !== undefined);
  while (stack.length) {
    const p = stack.pop()!;
    if (found.has(p.pid)) continue;
    found.set(p.pid, p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  return [...found.values()];
}

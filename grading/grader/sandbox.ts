/**
 * Where untrusted student code runs. As root, each submission's processes run under a user id of
 * their own (setpriv), so they can read the course files but not change them, nor touch another
 * submission's scratch folder; a watchdog kills them when their memory passes the limit, and
 * everything left under that user id is killed when the submission is done. Without root, code
 * runs as the instructor (mode `none`): the report says so.
 */
import { chownSync, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** How student code is isolated. */
export type SandboxMode = 'user' | 'none';

/** What the sandbox chose, and why, in French for the reports. */
export interface SandboxChoice {
  mode: SandboxMode;
  reason: string;
}

const SETPRIV = '/usr/bin/setpriv';

/** Picks the sandbox: `user` when running as root with setpriv, else `none` (with the reason). */
export function chooseSandbox(requested: SandboxMode | 'auto' = 'auto'): SandboxChoice {
  const root = process.getuid?.() === 0;
  const setpriv = existsSync(SETPRIV);
  if (requested === 'none') return { mode: 'none', reason: 'isolation désactivée (--sandbox none) : le code des étudiants tourne avec les droits de l’enseignant' };
  if (root && setpriv) return { mode: 'user', reason: 'chaque soumission tourne sous un utilisateur système à part (setpriv), sans droit d’écriture hors de son dossier de travail' };
  const why = !root ? 'le correcteur ne tourne pas en root' : `${SETPRIV} est absent (paquet util-linux)`;
  if (requested === 'user') throw new Error(`--sandbox user impossible : ${why}. Lancez le correcteur en root (sudo npm run grade ...) ou utilisez --sandbox none.`);
  return { mode: 'none', reason: `pas d’isolation (${why}) : le code des étudiants tourne avec les droits de l’enseignant ; lancez le correcteur en root pour isoler chaque soumission` };
}

/** One process as /proc shows it. */
interface ProcessInfo {
  pid: number;
  uid: number;
  pgrp: number;
  rssKb: number;
}

function readProcesses(): ProcessInfo[] {
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
        uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1),
        pgrp: Number(fields[2]),
        rssKb: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** The isolation of one submission: its user id (mode `user`), how to wrap its commands, how to clean up. */
export class SubmissionSandbox {
  /** Process groups started for this submission (mode `none` finds its processes through them). */
  private readonly groups = new Set<number>();

  constructor(
    readonly mode: SandboxMode,
    /** The user id its processes run under (mode `user`). */
    readonly uid?: number,
  ) {}

  /** A sandbox for the `index`-th submission of this grader run. */
  static forSubmission(choice: SandboxChoice, index: number): SubmissionSandbox {
    if (choice.mode === 'none') return new SubmissionSandbox('none');
    // Unique per grader process and submission, far above real accounts: kernels of two submissions
    // (or of two grader runs) never share a user id, so they cannot touch each other's files.
    return new SubmissionSandbox('user', 1_000_000 + (process.pid % 100_000) * 100 + (index % 100));
  }

  /** The command line that runs `argv` inside the sandbox. */
  wrap(argv: string[]): string[] {
    if (this.mode === 'none') return argv;
    return [SETPRIV, `--reuid=${this.uid}`, `--regid=${this.uid}`, '--clear-groups', '--no-new-privs', '--', ...argv];
  }

  /** Gives the sandbox's user a file or folder tree (mode `user`); symbolic links are not followed. */
  own(path: string): void {
    if (this.mode === 'none') return;
    const walk = (p: string) => {
      const stat = lstatSync(p);
      if (stat.isSymbolicLink()) return;
      chownSync(p, this.uid!, this.uid!);
      if (stat.isDirectory()) for (const entry of readdirSync(p)) walk(join(p, entry));
    };
    walk(path);
  }

  /** Records a process group this sandbox started (its leader's pid). */
  track(pgid: number | undefined): void {
    if (pgid !== undefined) this.groups.add(pgid);
  }

  private members(all = readProcesses()): ProcessInfo[] {
    return all.filter((p) => (this.mode === 'user' ? p.uid === this.uid : this.groups.has(p.pgrp)));
  }

  /** Resident memory of all the sandbox's processes, in MB. */
  memoryMb(): number {
    return this.members().reduce((sum, p) => sum + p.rssKb, 0) / 1024;
  }

  /** Kills every process of the sandbox (those that left their group too, in mode `user`); returns how many. */
  async killAll(): Promise<number> {
    let killed = 0;
    for (let round = 0; round < 5; round++) {
      const members = this.members();
      if (members.length === 0) break;
      for (const p of members) {
        try {
          process.kill(p.pid, 'SIGKILL');
          killed++;
        } catch {
          // already gone
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return killed;
  }

  /** Polls memory while `work` runs; past `limitMb` kills everything and reports it through the result. */
  async withMemoryLimit<T>(limitMb: number, work: () => Promise<T>): Promise<{ value: T; memoryExceeded?: number; peakMb: number }> {
    let exceeded: number | undefined;
    let peakMb = 0;
    const timer = setInterval(() => {
      const used = this.memoryMb();
      peakMb = Math.max(peakMb, used);
      if (used > limitMb && exceeded === undefined) {
        exceeded = used;
        void this.killAll();
      }
    }, 250);
    try {
      const value = await work();
      return { value, memoryExceeded: exceeded, peakMb };
    } finally {
      clearInterval(timer);
    }
  }
}

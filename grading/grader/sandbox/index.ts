/**
 * Where untrusted student code runs. Each submission gets a sandbox: its commands are wrapped
 * (bubblewrap namespaces, or a user id of its own, and rlimits), a watchdog ends them all when
 * they pass the memory, process or disk limit, and everything they started is killed when the
 * submission is done. See choose.ts for which isolation is used and why.
 */
import { chownSync, existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KernelProcess } from '../../runner';
import { dataDir, PROJECT_ROOT } from '../../../lib/paths';
import { VENV_DIR } from '../../../scripts/python-env';
import { LIB_TYPES_ROOT } from '../../runner/lib-types';
import { BWRAP, bubblewrapArgs, insidePath, nodeInstallation, SANDBOX_HOME, type Mount } from './bubblewrap';
import type { SandboxChoice, SandboxMode } from './choose';
import { diskUsage } from './disk';
import { breachMessage, MAX_SCRATCH_ENTRIES, prlimitArgs, setprivArgs, type LimitBreach, type SubmissionLimits } from './limits';
import { descendants, readProcesses, type ProcessInfo } from './processes';

export { bubblewrapProblem, chooseSandbox, HOW_TO_GET_BUBBLEWRAP, type SandboxChoice, type SandboxMode } from './choose';
export { breachMessage, limitsOf, type LimitBreach, type LimitName, type SubmissionLimits } from './limits';
export { SANDBOX_HOME } from './bubblewrap';
export { diskUsage, type DiskUsage } from './disk';

/** How often the watchdog looks at memory and processes, and (every few looks) at the disk. */
const WATCH_INTERVAL_MS = 250;
const DISK_EVERY = 4;

/**
 * The project's .venv (the Python edition's kernel and packages), and the Python installation its
 * interpreter links to (pyvenv.cfg's `home`) when that is not under /usr (pyenv, a tarball in /opt...).
 */
function venvMounts(): Mount[] {
  if (!existsSync(VENV_DIR)) return [];
  const mounts: Mount[] = [{ host: VENV_DIR, inside: VENV_DIR }];
  try {
    const home = /^home\s*=\s*(.+)$/m.exec(readFileSync(join(VENV_DIR, 'pyvenv.cfg'), 'utf8'))?.[1].trim();
    const prefix = home ? dirname(realpathSync(home)) : undefined;
    if (prefix && prefix !== '/usr' && !prefix.startsWith('/usr/')) mounts.push({ host: prefix, inside: prefix });
  } catch {
    // no pyvenv.cfg or a dangling home: the kernel will say it cannot start
  }
  return mounts;
}

/** The project files code inside a bubblewrap sandbox may read, at their own path. */
function courseMounts(): Mount[] {
  const same = (host: string): Mount => ({ host, inside: host });
  const node = nodeInstallation();
  return [
    ...(node ? [node] : []),
    same(join(PROJECT_ROOT, 'package.json')),
    same(join(PROJECT_ROOT, 'tsconfig.json')),
    same(join(PROJECT_ROOT, 'node_modules')),
    same(join(PROJECT_ROOT, 'lib')),
    // lib/'s prebuilt declarations, which the kernel type-checks cells against (grading/runner/tslab-lib-types.cjs).
    ...(existsSync(LIB_TYPES_ROOT) ? [same(LIB_TYPES_ROOT)] : []),
    // The grader files that run inside: the kernel's preloads and the model's evaluation.
    same(join(PROJECT_ROOT, 'grading', 'runner', 'tslab-preload.cjs')),
    same(join(PROJECT_ROOT, 'grading', 'runner', 'tslab-lib-types.cjs')),
    same(join(PROJECT_ROOT, 'grading', 'grader', 'evaluate-model.ts')),
    same(dataDir()),
    // The Python edition's kernel (ipykernel, Keras) and its packages, when npm run setup:python made them.
    ...venvMounts(),
    // Notebooks import `./lib/...` from their own folder, as in the project.
    { host: join(PROJECT_ROOT, 'lib'), inside: `${SANDBOX_HOME}/lib` },
    { host: join(PROJECT_ROOT, 'node_modules'), inside: `${SANDBOX_HOME}/node_modules` },
  ];
}

/** What a run used at most, for the reports. */
export interface SandboxPeaks {
  memoryMb: number;
  /** Processes and threads at once. */
  tasks: number;
}

/** The isolation of one submission: how to wrap its commands, watch them and clean up. */
export class SubmissionSandbox {
  /** Outermost processes started for this submission (everything else descends from them). */
  private readonly roots = new Set<number>();
  /** Folders besides the scratch folder the submission's commands may write. */
  private readonly writable = new Set<string>();

  constructor(
    readonly mode: SandboxMode,
    /** The submission's scratch folder, the only place it may write. */
    readonly scratchDir: string,
    readonly limits: SubmissionLimits,
    /** The user id its processes run under (root grader: modes `user` and `bubblewrap`). */
    readonly uid?: number,
  ) {}

  /** A sandbox for the `index`-th submission of this grader run. */
  static forSubmission(choice: SandboxChoice, index: number, scratchDir: string, limits: SubmissionLimits): SubmissionSandbox {
    const root = process.getuid?.() === 0;
    if (choice.mode === 'none' || !root) return new SubmissionSandbox(choice.mode, scratchDir, limits);
    // Unique per grader process and submission, far above real accounts: kernels of two submissions
    // (or of two grader runs) never share a user id, so they cannot touch each other's files.
    return new SubmissionSandbox(choice.mode, scratchDir, limits, 1_000_000 + (process.pid % 100_000) * 100 + (index % 100));
  }

  /** How kernels talk to the grader: ipc sockets in the scratch folder when the sandbox has a network of its own. */
  get transport(): 'tcp' | 'ipc' {
    return this.mode === 'bubblewrap' ? 'ipc' : 'tcp';
  }

  /** Where code inside the sandbox sees `hostPath` (the scratch folder is at /soumission in bubblewrap). */
  inside(hostPath: string): string {
    return this.mode === 'bubblewrap' ? insidePath(this.scratchDir, hostPath) : hostPath;
  }

  /**
   * The command line that runs `argv` inside the sandbox, from `cwd` (a host path). `writable`
   * folders (a kernel's connection folder) are mounted at their own path and count against the
   * disk limit like the scratch folder.
   */
  wrap(argv: string[], options: { cwd?: string; writable?: string[] } = {}): string[] {
    const root = process.getuid?.() === 0;
    const dropUser = this.uid !== undefined ? setprivArgs(this.uid) : [];
    for (const dir of options.writable ?? []) this.writable.add(dir);
    if (this.mode === 'none') return [...prlimitArgs(this.limits, false), ...argv];
    if (this.mode === 'user') return [...prlimitArgs(this.limits, true), ...dropUser, ...argv];
    const extra = (options.writable ?? []).map((dir) => ({ host: dir, inside: dir, writable: true }));
    const layout = { scratchDir: this.scratchDir, tmpDir: join(this.scratchDir, '.tmp'), readOnly: [...courseMounts(), ...extra], cwd: this.inside(options.cwd ?? this.scratchDir), userNamespace: !root };
    return [BWRAP, ...bubblewrapArgs(layout), '--', ...prlimitArgs(this.limits, true), ...dropUser, ...argv];
  }

  /** Gives the sandbox's user a file or folder tree (root grader); symbolic links are not followed. */
  own(path: string): void {
    if (this.uid === undefined) return;
    const walk = (p: string) => {
      const stat = lstatSync(p);
      if (stat.isSymbolicLink()) return;
      chownSync(p, this.uid!, this.uid!);
      if (stat.isDirectory()) for (const entry of readdirSync(p)) walk(join(p, entry));
    };
    walk(path);
  }

  /** Records a command this sandbox started (its pid, which also leads its process group). */
  track(pid: number | undefined): void {
    if (pid !== undefined) this.roots.add(pid);
  }

  private members(all: ProcessInfo[] = readProcesses()): ProcessInfo[] {
    const found = new Map(descendants(all, this.roots).map((p) => [p.pid, p]));
    // Without namespaces a process can leave the tree (double fork): its user id or group still shows it.
    for (const p of all) if ((this.uid !== undefined && p.uid === this.uid) || (this.mode === 'none' && this.roots.has(p.pgrp))) found.set(p.pid, p);
    return [...found.values()];
  }

  /** Resident memory (MB) and tasks (processes and threads, bubblewrap's own two processes left out) of the sandbox now. */
  usage(all: ProcessInfo[] = readProcesses()): SandboxPeaks {
    const members = this.members(all);
    const wrappers = new Set(this.mode === 'bubblewrap' ? members.filter((p) => this.roots.has(p.pid) || this.roots.has(p.ppid)).map((p) => p.pid) : []);
    return {
      memoryMb: members.reduce((sum, p) => sum + p.rssKb, 0) / 1024,
      tasks: members.filter((p) => !wrappers.has(p.pid)).reduce((sum, p) => sum + p.threads, 0),
    };
  }

  /** Resident memory of all the sandbox's processes, in MB. */
  memoryMb(): number {
    return this.usage().memoryMb;
  }

  /** Delivers a kernel interrupt: SIGINT to the kernel itself in bubblewrap (which would die of it), else to its process group. */
  sendInterrupt(kernel: KernelProcess): void {
    if (this.mode !== 'bubblewrap' || kernel.pid === undefined) {
      kernel.signal('SIGINT');
      return;
    }
    const all = readProcesses();
    const init = all.find((p) => p.ppid === kernel.pid);
    const command = init && all.filter((p) => p.ppid === init.pid).sort((a, b) => a.pid - b.pid)[0];
    if (!command) return;
    try {
      process.kill(command.pid, 'SIGINT');
    } catch {
      // it just ended
    }
  }

  /** Kills every process of the sandbox; returns how many. */
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

  /** The scratch folder against the disk limit: a breach, or undefined. */
  checkDisk(): LimitBreach | undefined {
    let bytes = 0;
    let entries = 0;
    for (const dir of [this.scratchDir, ...this.writable]) {
      const used = diskUsage(dir, MAX_SCRATCH_ENTRIES - entries);
      if (used.truncated) return { limit: 'files', message: breachMessage('files', this.limits) };
      bytes += used.bytes;
      entries += used.entries;
    }
    const usedMb = bytes / (1024 * 1024);
    if (usedMb > this.limits.diskMb) return { limit: 'disk', message: breachMessage('disk', this.limits, usedMb) };
    return undefined;
  }

  /** Watches memory, processes and disk while `work` runs; at the first breach kills everything and reports it. */
  async withLimits<T>(work: () => Promise<T>): Promise<{ value: T; breach?: LimitBreach; peaks: SandboxPeaks }> {
    let breach: LimitBreach | undefined;
    const peaks: SandboxPeaks = { memoryMb: 0, tasks: 0 };
    let ticks = 0;
    const stop = (found: LimitBreach) => {
      if (breach) return;
      breach = found;
      void this.killAll();
    };
    const timer = setInterval(() => {
      const now = this.usage();
      peaks.memoryMb = Math.max(peaks.memoryMb, now.memoryMb);
      peaks.tasks = Math.max(peaks.tasks, now.tasks);
      if (now.memoryMb > this.limits.memoryMb) stop({ limit: 'memory', message: breachMessage('memory', this.limits, now.memoryMb) });
      // The kernel refuses the task that would pass the limit; reaching it is the breach.
      else if (now.tasks >= this.limits.processes - 1) stop({ limit: 'processes', message: breachMessage('processes', this.limits) });
      else if (++ticks % DISK_EVERY === 0) {
        const disk = this.checkDisk();
        if (disk) stop(disk);
      }
    }, WATCH_INTERVAL_MS);
    try {
      const value = await work();
      if (!breach) {
        const disk = this.checkDisk();
        if (disk) stop(disk);
      }
      return { value, breach, peaks };
    } finally {
      clearInterval(timer);
    }
  }
}

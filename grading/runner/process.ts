/** The kernel's OS process: spawned in its own process group, its output tail kept, its exit observed. */
import { spawn, type ChildProcess } from 'node:child_process';

/** How a process ended (or failed to start, with `error`). */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
}

/** A readable description of an exit, e.g. "exit code 3" or "signal SIGKILL". */
export function describeExit(exit: ExitInfo): string {
  if (exit.error) return `failed to start: ${exit.error}`;
  if (exit.signal) return `killed by signal ${exit.signal}`;
  return `exit code ${exit.code}`;
}

const TAIL_BYTES = 16 * 1024;

/** Processes still running, killed if this Node process exits first so no kernel is left behind. */
const live = new Set<KernelProcess>();
process.on('exit', () => {
  for (const kernel of live) kernel.signal('SIGKILL');
});

/** A spawned kernel process. */
export class KernelProcess {
  readonly child: ChildProcess;
  /** Resolves once the process has exited (or could not be spawned). */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private tail = '';

  /** Starts `argv` in a new process group; `onOutput` sees everything it writes outside cell execution. */
  constructor(argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv; onOutput?: (text: string) => void }) {
    if (argv.length === 0) throw new Error('kernel command is empty: give at least the program to run');
    // detached: a process group of its own, so signals and kills reach whatever the command spawns.
    this.child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.tail = (this.tail + text).slice(-TAIL_BYTES);
      options.onOutput?.(text);
    };
    // Always drain both pipes: a full pipe would block the kernel on its next write.
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    live.add(this);
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once('error', (error) => {
        this.exitInfo ??= { code: null, signal: null, error: error.message };
        live.delete(this);
        resolve(this.exitInfo);
      });
      this.child.once('exit', (code, signal) => {
        this.exitInfo ??= { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
      });
    });
  }

  /** The process id (undefined if spawning failed). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How the process ended, or undefined while it runs. */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** True while the process has not exited. */
  get running(): boolean {
    return this.exitInfo === undefined && this.child.pid !== undefined;
  }

  /** The last ~16 KB the process wrote to stdout and stderr. */
  outputTail(maxLines = 40): string {
    return this.tail.split('\n').slice(-maxLines).join('\n').trim();
  }

  /** Sends `signal` to the whole process group (falls back to the process alone); false if nothing was signalled. */
  signal(signal: NodeJS.Signals): boolean {
    const pid = this.child.pid;
    if (pid === undefined || this.exitInfo) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      try {
        return this.child.kill(signal);
      } catch {
        return false;
      }
    }
  }

  /** Waits up to `ms` for the exit; undefined if still running then. */
  async waitExit(ms: number): Promise<ExitInfo | undefined> {
    if (this.exitInfo) return this.exitInfo;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`, to the whole group; resolves with the exit. */
  async terminate(graceMs = 1000): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    if (graceMs > 0) {
      this.signal('SIGTERM');
      const exit = await this.waitExit(graceMs);
      if (exit) return this.killGroupRemainder(exit);
    }
    this.signal('SIGKILL');
    return this.killGroupRemainder((await this.waitExit(5000)) ?? { code: null, signal: 'SIGKILL' });
  }

  private killGroupRemainder(exit: ExitInfo): ExitInfo {
    // The leader is gone but children it left in the group (e.g. a student's spawned process) may not be.
    const pid = this.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // group already empty
      }
    }
    return exit;
  }
}

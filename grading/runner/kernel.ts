/** KernelClient: starts a tslab kernel, talks to it over ZeroMQ, runs code, interrupts and stops it. */
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { KernelChannels, socketLimitsFor } from './channels';
import { writeConnectionFile, type Channel, type ConnectionFile } from './connection';
import type { Output } from './nbformat';
import { DisplayRegistry, OutputBudget, OutputCollector, resolveOutputLimits, summarizeError, type ErrorSummary, type OutputLimits, type OutputTruncation } from './outputs';
import { describeExit, KernelProcess, type ExitInfo } from './process';
import { newMessage, type JupyterMessage } from './wire';

/** The project's tslab launcher (resolved from this file, so any working directory works). */
export function tslabBin(): string {
  return join(dirname(require.resolve('tslab/package.json')), 'bin', 'tslab');
}

/** The preload that makes tslab's socket sends safe (see tslab-preload.cjs); use it in custom kernel commands too. */
export function tslabPreload(): string {
  return join(__dirname, 'tslab-preload.cjs');
}

/** The default kernel command: this Node running the project's tslab with the send fix; `{connection_file}` is substituted. */
export function defaultKernelArgv(): string[] {
  return [process.execPath, '--require', tslabPreload(), tslabBin(), 'kernel', '--config-path', '{connection_file}'];
}

/** What a sandbox wrapper may need to know to build its command line. */
export interface WrapContext {
  connectionFile: string;
  connectionDir: string;
  cwd: string;
}

/** How to start a kernel. */
export interface KernelOptions {
  /** Kernel command line; `{connection_file}` is replaced by the connection file's path. Default: the project's tslab. */
  argv?: string[];
  /** Rewrites the final command line, e.g. to run it under bubblewrap or prlimit. */
  wrapCommand?: (argv: string[], context: WrapContext) => string[];
  /** The kernel's working directory; tslab also resolves `import`s from here. Default: process.cwd(). */
  cwd?: string;
  /** The kernel's environment. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the first kernel_info_reply. Default 60 s. */
  startupTimeoutMs?: number;
  /** `signal` sends SIGINT to the kernel's process group (tslab's way); `message` sends interrupt_request on control. */
  interruptMode?: 'signal' | 'message';
  /** `ipc` avoids the network (useful when a sandbox unshares it). Default `tcp` on 127.0.0.1. */
  transport?: 'tcp' | 'ipc';
  /** Sends the interrupt signal in `signal` mode; default SIGINT to the kernel's process group (a wrapper that dies of SIGINT, like bubblewrap, needs its own). */
  sendInterrupt?: (kernel: KernelProcess) => void;
  /** Folder in which the private connection folder is made. Default: the OS temp dir. */
  connectionParent?: string;
  /** Receives what the kernel process writes to its own stdout/stderr (not cell output). */
  onKernelOutput?: (text: string) => void;
  /** Receives protocol warnings (e.g. messages with bad signatures, which are dropped). */
  onWarning?: (message: string) => void;
  /** Caps on the output kept per cell and per notebook; they also size the sockets' message cap (socketLimitsFor), so give a kernel the limits later executions use. Default: the DEFAULT_* caps. */
  outputLimits?: OutputLimits;
}

/** How to run one piece of code. */
export interface ExecuteOptions {
  /** Interrupt after this long (no limit when absent or <= 0). */
  timeoutMs?: number;
  /** After an interrupt, how long to wait before killing the kernel. Default 3 s. */
  interruptGraceMs?: number;
  storeHistory?: boolean;
  silent?: boolean;
  stopOnError?: boolean;
  /** The list to fill with outputs (give a cell's own list so later display updates reach it). */
  outputs?: Output[];
  /** Called for every output as it arrives. */
  onOutput?: (output: Output) => void;
  /** Declare the kernel dead when heartbeats fail for this long (off by default: tslab answers them on its JS thread, so a busy cell misses them). */
  heartbeatTimeoutMs?: number;
  /** Output caps for this execution alone. Default: the kernel's `outputLimits`. */
  outputLimits?: OutputLimits;
  /** The notebook's output budget, shared by its cells (executeNotebook passes one); takes precedence over `outputLimits`. */
  outputBudget?: OutputBudget;
}

/** How an execution ended. `aborted`: the kernel refused to run it (tslab does so just after an error). */
export type ExecuteStatus = 'ok' | 'error' | 'aborted' | 'timeout' | 'kernel-died';

/** The result of one execute_request. */
export interface ExecuteOutcome {
  status: ExecuteStatus;
  executionCount: number | null;
  outputs: Output[];
  /** execute_reply content, when one arrived. */
  reply?: Record<string, any>;
  error?: ErrorSummary;
  /** Header dates of the messages nbclient records in cell metadata. */
  timing: { busy?: string; executeInput?: string; idle?: string; reply?: string };
  durationMs: number;
  /** On timeout: whether the interrupt worked (kernel still usable) or the kernel had to be killed. */
  interrupted?: boolean;
  killed?: boolean;
  /** How the kernel process ended, when it did during this execution. */
  exit?: ExitInfo;
  /** Why the kernel was declared dead (`process exit` or `heartbeat`). */
  deathCause?: string;
  /** The kernel never published its idle status for this request: some outputs may be missing. */
  iopubLost?: boolean;
  /** The outputs reached a cap: what was kept and dropped. */
  truncated?: OutputTruncation;
}

const ABORT_RETRIES = 3;
// tslab resets its queue 200 ms after an error.
const ABORT_RETRY_DELAY_MS = 220;
// How long after the execute_reply the idle status may lag before the runner checks whether it was lost.
const IDLE_GRACE_MS = 250;
const POST_EXIT_DRAIN_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A client connected to one running kernel. Create it with `KernelClient.start()`. */
export class KernelClient {
  /** The kernel_info_reply content (language_info, protocol_version, ...). */
  kernelInfo: Record<string, any> = {};
  /** Milliseconds from spawn to the first complete kernel_info round trip. */
  startupMs = 0;
  /** Display ids live for the whole session, across cells. */
  readonly displays = new DisplayRegistry();
  readonly session = randomUUID();
  private readonly channels: KernelChannels;
  private closed = false;
  private executing = false;
  private deadCause: string | undefined;
  private current: { collector: OutputCollector; onOutput?: (output: Output) => void } | undefined;

  private constructor(
    readonly kernelProcess: KernelProcess,
    readonly connection: ConnectionFile,
    readonly argv: string[],
    private readonly options: KernelOptions,
  ) {
    this.channels = new KernelChannels(connection.info, { onWarning: options.onWarning, limits: socketLimitsFor(options.outputLimits), onDropped: (channel) => this.refused(channel) });
  }

  /**
   * ZeroMQ refused a message over the socket cap (it drops the connection; KernelChannels
   * reconnected it). On IOPub that message was output of the running cell, and what the kernel
   * published until the reconnection is lost too: the cell's kept output ends there.
   */
  private refused(channel: Channel): void {
    const current = this.current;
    if (channel !== 'iopub' || !current) {
      this.options.onWarning?.(`ZeroMQ dropped the ${channel} connection (a message over ${this.channels.limits.maxMessageBytes} bytes?); reconnected`);
      return;
    }
    const note = current.collector.refused(this.channels.limits.maxMessageBytes);
    if (note) current.onOutput?.(note);
  }

  /** The output caps executions default to (KernelOptions.outputLimits, defaults filled in). */
  get outputLimits(): Readonly<Required<OutputLimits>> {
    return resolveOutputLimits(this.options.outputLimits);
  }

  /** Messages dropped because their signature or format was wrong. */
  get rejectedMessages(): number {
    return this.channels.rejectedMessages;
  }

  /** Spawns a kernel and waits until it answers on shell and publishes on IOPub; throws with its output tail otherwise. */
  static async start(options: KernelOptions = {}): Promise<KernelClient> {
    const started = Date.now();
    const connection = await writeConnectionFile(options.transport ?? 'tcp', options.connectionParent);
    const cwd = options.cwd ?? process.cwd();
    let argv = (options.argv ?? defaultKernelArgv()).map((a) => a.split('{connection_file}').join(connection.path));
    if (options.wrapCommand) argv = options.wrapCommand(argv, { connectionFile: connection.path, connectionDir: connection.dir, cwd });
    try {
      socketLimitsFor(options.outputLimits);
    } catch (error) {
      connection.remove();
      throw error;
    }
    let kernelProcess: KernelProcess;
    try {
      kernelProcess = new KernelProcess(argv, { cwd, env: options.env ?? process.env, onOutput: options.onKernelOutput });
    } catch (error) {
      connection.remove();
      throw error;
    }
    const client = new KernelClient(kernelProcess, connection, argv, options);
    try {
      await client.waitReady(options.startupTimeoutMs ?? 60_000);
    } catch (error) {
      await client.shutdown({ graceMs: 0 });
      throw error;
    }
    client.startupMs = Date.now() - started;
    return client;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const ids = new Set<string>();
    let replied: JupyterMessage | undefined;
    let published = false;
    const exitOrTimeout = () => {
      const exit = this.kernelProcess.exit;
      if (exit) {
        return new Error(`the kernel process stopped before it was ready (${describeExit(exit)}).\nCommand: ${this.argv.join(' ')}\n${this.outputSection()}Check that this command starts a Jupyter kernel (for tslab: \`npm install\` in the project).`);
      }
      if (Date.now() >= deadline) {
        return new Error(`the kernel did not answer kernel_info_request within ${Math.round(timeoutMs / 1000)} s${replied ? ' (it replied on shell, but nothing reached IOPub)' : ''}.\nCommand: ${this.argv.join(' ')}\n${this.outputSection()}Raise the startup timeout if the machine is slow, or check the command.`);
      }
      return undefined;
    };
    // A SUB socket misses whatever is published before its subscription reaches the kernel, so keep
    // asking until one of our requests shows up on IOPub too (as jupyter_client's wait_for_ready does).
    let wake: () => void = () => undefined;
    while (!(replied && published)) {
      const request = newMessage('kernel_info_request', this.session, {});
      const id = request.header.msg_id;
      ids.add(id);
      const woken = new Promise<void>((resolve) => (wake = resolve));
      this.channels.onReply(id, (msg) => {
        replied ??= msg;
        wake();
      });
      this.channels.onIopub(id, () => {
        published = true;
        wake();
      });
      await this.channels.send('shell', request);
      // Until the first reply the kernel may still be loading; after it, only the subscription lags.
      const wait = Math.min(replied ? 100 : 1000, Math.max(0, deadline - Date.now()));
      await Promise.race([woken, this.kernelProcess.exited, sleep(wait)]);
      const failure = replied && published ? undefined : exitOrTimeout();
      if (failure) {
        for (const i of ids) this.channels.forget(i);
        throw failure;
      }
    }
    for (const i of ids) this.channels.forget(i);
    this.kernelInfo = replied!.content;
  }

  private outputSection(): string {
    const tail = this.kernelProcess.outputTail();
    return tail ? `Kernel output (last lines):\n${tail}\n` : 'The kernel wrote nothing to stdout/stderr.\n';
  }

  /** True while the kernel process runs and has not been declared dead. */
  isAlive(): boolean {
    return !this.closed && this.kernelProcess.running && this.deadCause === undefined;
  }

  /** Sends one heartbeat and waits up to `timeoutMs` for the echo. */
  ping(timeoutMs = 1000): Promise<boolean> {
    return this.closed ? Promise.resolve(false) : this.channels.ping(timeoutMs);
  }

  /** Sends a request on shell or control and waits for its reply (rejects on timeout or kernel exit). */
  async request(channel: 'shell' | 'control', msgType: string, content: Record<string, unknown>, timeoutMs = 10_000): Promise<JupyterMessage> {
    if (!this.isAlive()) throw new Error(`cannot send ${msgType}: the kernel is not running (${this.deathDescription()})`);
    const msg = newMessage(msgType, this.session, content);
    const reply = new Promise<JupyterMessage>((resolve) => this.channels.onReply(msg.header.msg_id, resolve));
    await this.channels.send(channel, msg);
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([reply, this.kernelProcess.exited.then(() => 'exit' as const), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
      if (result === 'exit') throw new Error(`the kernel exited before answering ${msgType} (${this.deathDescription()})`);
      if (result === 'timeout') throw new Error(`no reply to ${msgType} within ${timeoutMs} ms`);
      return result;
    } finally {
      clearTimeout(timer);
      this.channels.forget(msg.header.msg_id);
    }
  }

  private deathDescription(): string {
    if (this.kernelProcess.exit) return describeExit(this.kernelProcess.exit);
    return this.deadCause ?? (this.closed ? 'shut down' : 'running');
  }

  /** Interrupts the running code: SIGINT to the kernel's process group, or interrupt_request in `message` mode. */
  async interrupt(): Promise<void> {
    if (!this.isAlive()) return;
    if ((this.options.interruptMode ?? 'signal') === 'signal') {
      if (this.options.sendInterrupt) this.options.sendInterrupt(this.kernelProcess);
      else this.kernelProcess.signal('SIGINT');
      return;
    }
    await this.request('control', 'interrupt_request', {}, 2000).catch(() => undefined);
  }

  /**
   * Runs `code` and collects its outputs until the reply and the idle status have both arrived.
   * A request the kernel aborts is sent again: tslab refuses every request for 200 ms after an
   * error, and since requests here go one at a time, an abort never means "skip this code".
   */
  async execute(code: string, options: ExecuteOptions = {}): Promise<ExecuteOutcome> {
    // Outputs are matched to requests, but timeouts and interrupts act on the whole kernel.
    if (this.executing) throw new Error('KernelClient.execute: another execution is still running on this kernel; await it first');
    this.executing = true;
    try {
      const started = Date.now();
      let outcome = await this.executeOnce(code, options);
      for (let attempt = 1; outcome.status === 'aborted' && attempt <= ABORT_RETRIES && this.isAlive(); attempt++) {
        await sleep(ABORT_RETRY_DELAY_MS);
        outcome = await this.executeOnce(code, options);
      }
      return { ...outcome, durationMs: Date.now() - started };
    } finally {
      this.executing = false;
    }
  }

  private async executeOnce(code: string, options: ExecuteOptions): Promise<ExecuteOutcome> {
    const started = Date.now();
    const budget = options.outputBudget ?? new OutputBudget(options.outputLimits ?? this.options.outputLimits);
    const collector = new OutputCollector(this.displays, options.outputs ?? [], budget);
    const timing: ExecuteOutcome['timing'] = {};
    const current: NonNullable<KernelClient['current']> = { collector, onOutput: options.onOutput };
    const done = (outcome: Omit<ExecuteOutcome, 'outputs' | 'timing' | 'durationMs'>): ExecuteOutcome => {
      const truncated = collector.truncation;
      return { ...outcome, outputs: collector.outputs, timing, durationMs: Date.now() - started, ...(truncated ? { truncated } : {}) };
    };
    if (!this.isAlive()) return done({ status: 'kernel-died', executionCount: null, exit: this.kernelProcess.exit, deathCause: this.deadCause ?? 'process exit' });

    const request = newMessage('execute_request', this.session, {
      code,
      silent: options.silent ?? false,
      store_history: options.storeHistory ?? true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: options.stopOnError ?? true,
    });
    const id = request.header.msg_id;
    let reply: JupyterMessage | undefined;
    let idle = false;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    let iopubLost = false;
    let iopubMessages = 0;
    let flushTimer: NodeJS.Timeout | undefined;
    this.channels.onReply(id, (msg) => {
      reply = msg;
      timing.reply = msg.header.date;
      if (idle) return finish();
      // The idle status normally follows the reply within milliseconds; if it does not, it may
      // have been dropped by the kernel (see tslab-preload.cjs): check with a marker request.
      flushTimer = setTimeout(() => {
        void this.iopubDrained(() => idle, () => iopubMessages).then(() => {
          if (!idle) {
            iopubLost = true;
            collector.outputLost();
          }
          finish();
        });
      }, IDLE_GRACE_MS);
    });
    this.channels.onIopub(id, (msg) => {
      iopubMessages++;
      const type = msg.header.msg_type;
      if (type === 'status') {
        if (msg.content.execution_state === 'busy') timing.busy = msg.header.date;
        if (msg.content.execution_state === 'idle') {
          timing.idle = msg.header.date;
          idle = true;
          if (reply) finish();
        }
        return;
      }
      if (type === 'execute_input') timing.executeInput = msg.header.date;
      const output = collector.handle(msg);
      if (output) options.onOutput?.(output);
    }, (msgType, contentBytes) => collector.wantsBody(msgType, contentBytes));
    this.current = current;

    const heartbeat = this.watchHeartbeat(options.heartbeatTimeoutMs);
    try {
      await this.channels.send('shell', request);
      const died = this.kernelProcess.exited.then(() => 'died' as const);
      const until = (ms: number | undefined) => {
        const racers: Array<Promise<'done' | 'died' | 'timeout' | 'heartbeat'>> = [finished.then(() => 'done' as const), died, heartbeat.failed];
        let timer: NodeJS.Timeout | undefined;
        if (ms !== undefined && ms > 0) racers.push(new Promise((r) => (timer = setTimeout(() => r('timeout'), ms))));
        return Promise.race(racers).finally(() => clearTimeout(timer));
      };
      const first = await until(options.timeoutMs);
      if (first === 'done') return done({ ...this.replyOutcome(reply!, collector.errorOutputs()), ...(iopubLost ? { iopubLost } : {}) });
      if (first === 'died' || first === 'heartbeat') return done(await this.deathOutcome(first));

      await this.interrupt();
      const second = await until(options.interruptGraceMs ?? 3000);
      if (second === 'done') {
        const replied = this.replyOutcome(reply!, collector.errorOutputs());
        return done({ ...replied, status: 'timeout', interrupted: true });
      }
      const killed = this.kernelProcess.running;
      const exit = this.kernelProcess.exit ?? (await this.kernelProcess.terminate(0));
      this.deadCause = killed ? 'killed after a timeout' : 'process exit';
      return done({ status: 'timeout', executionCount: reply?.content.execution_count ?? null, reply: reply?.content, killed, exit });
    } finally {
      if (this.current === current) this.current = undefined;
      clearTimeout(flushTimer);
      heartbeat.stop();
      this.channels.forget(id);
    }
  }

  /**
   * Resolves once everything the kernel published so far has arrived (or `settled()` turns true):
   * IOPub keeps order, so once the status of a later marker request shows up, nothing earlier is
   * still on its way. Gives up after a few attempts, since the marker's own messages can be lost too,
   * but not while `progress()` (the request's IOPub message count) grows: a cell that printed a lot
   * has its idle status queued behind its output.
   */
  private async iopubDrained(settled: () => boolean, progress: () => number = () => 0): Promise<void> {
    let progressSeen = progress();
    for (let attempt = 0; attempt < 10 && !settled() && this.isAlive(); attempt++) {
      if (progress() !== progressSeen) {
        progressSeen = progress();
        attempt = 0;
      }
      const marker = newMessage('kernel_info_request', this.session, {});
      const seen = new Promise<void>((resolve) => this.channels.onIopub(marker.header.msg_id, () => resolve()));
      try {
        await this.channels.send('shell', marker);
        if ((await Promise.race([seen.then(() => true), sleep(300).then(() => false)])) || settled()) return;
      } finally {
        this.channels.forget(marker.header.msg_id);
      }
    }
  }

  private replyOutcome(reply: JupyterMessage, outputs: Output[]): Omit<ExecuteOutcome, 'outputs' | 'timing' | 'durationMs'> {
    const content = reply.content;
    const raw = String(content.status ?? 'error');
    const status: ExecuteStatus = raw === 'ok' ? 'ok' : raw === 'abort' || raw === 'aborted' ? 'aborted' : 'error';
    const executionCount = typeof content.execution_count === 'number' ? content.execution_count : null;
    return { status, executionCount, reply: content, error: status === 'error' ? summarizeError(content, outputs) : undefined };
  }

  private async deathOutcome(cause: 'died' | 'heartbeat'): Promise<Omit<ExecuteOutcome, 'outputs' | 'timing' | 'durationMs'>> {
    if (cause === 'heartbeat') {
      this.deadCause = 'heartbeat lost';
      await this.kernelProcess.terminate(0);
      return { status: 'kernel-died', executionCount: null, exit: this.kernelProcess.exit, deathCause: 'heartbeat' };
    }
    this.deadCause = 'process exit';
    // What the cell printed just before the exit may still be in flight.
    await sleep(POST_EXIT_DRAIN_MS);
    return { status: 'kernel-died', executionCount: null, exit: this.kernelProcess.exit, deathCause: 'process exit' };
  }

  private watchHeartbeat(timeoutMs: number | undefined): { failed: Promise<'heartbeat'>; stop: () => void } {
    if (!timeoutMs || timeoutMs <= 0) return { failed: new Promise(() => undefined), stop: () => undefined };
    let stopped = false;
    const failed = new Promise<'heartbeat'>((resolve) => {
      void (async () => {
        let lastSeen = Date.now();
        while (!stopped) {
          const ok = await this.ping(Math.min(1000, timeoutMs));
          if (stopped) return;
          if (ok) lastSeen = Date.now();
          else if (Date.now() - lastSeen >= timeoutMs) return resolve('heartbeat');
          await sleep(ok ? 1000 : 100);
        }
      })();
    });
    return { failed, stop: () => (stopped = true) };
  }

  /** Asks the kernel to shut down, then terminates its process group if needed; always frees sockets and files. */
  async shutdown(options: { graceMs?: number } = {}): Promise<ExitInfo | undefined> {
    if (this.closed) return this.kernelProcess.exit;
    const graceMs = options.graceMs ?? 2000;
    if (this.kernelProcess.running && graceMs > 0) {
      await this.request('control', 'shutdown_request', { restart: false }, graceMs).catch(() => undefined);
      await this.kernelProcess.waitExit(graceMs);
    }
    const exit = this.kernelProcess.running ? await this.kernelProcess.terminate(graceMs > 0 ? 1000 : 0) : this.kernelProcess.exit;
    this.close();
    return exit;
  }

  /** Kills the kernel at once (SIGKILL to its process group) and frees everything. */
  async kill(): Promise<ExitInfo | undefined> {
    return this.shutdown({ graceMs: 0 });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channels.close();
    this.connection.remove();
  }

  /** The kernel process's recent stdout/stderr, for error messages. */
  outputTail(maxLines = 40): string {
    return this.kernelProcess.outputTail(maxLines);
  }
}

/** The five ZeroMQ sockets of a kernel connection, with signed sends and replies routed by parent msg_id. */
import { randomUUID } from 'node:crypto';
import * as zmq from 'zeromq';
import { channelAddress, type Channel, type ConnectionInfo } from './connection';
import { deserialize, serialize, type JupyterMessage } from './wire';

/** Receives a message addressed (through its parent header) to a request of ours. */
export type Waiter = (msg: JupyterMessage) => void;

/** The client side of a kernel connection: DEALER shell/control/stdin, SUB iopub, REQ heartbeat. */
export class KernelChannels {
  /** Messages dropped because their signature or format was wrong. */
  rejectedMessages = 0;
  private readonly sockets: { shell: zmq.Dealer; control: zmq.Dealer; stdin: zmq.Dealer; iopub: zmq.Subscriber; hb: zmq.Request };
  private readonly replyWaiters = new Map<string, Waiter>();
  private readonly iopubWaiters = new Map<string, Waiter>();
  private readonly sendChains = new Map<Channel, Promise<unknown>>();
  private hbChain: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** Connects to the kernel described by `info`; `onWarning` hears about dropped messages and socket failures. */
  constructor(
    private readonly info: ConnectionInfo,
    private readonly onWarning?: (message: string) => void,
  ) {
    const options = { linger: 0 };
    this.sockets = {
      shell: new zmq.Dealer(options),
      control: new zmq.Dealer(options),
      stdin: new zmq.Dealer(options),
      iopub: new zmq.Subscriber(options),
      // relaxed + correlate: a lost ping must not leave the REQ socket stuck waiting for its reply.
      hb: new zmq.Request({ ...options, relaxed: true, correlate: true }),
    };
    this.sockets.iopub.subscribe();
    for (const channel of ['shell', 'control', 'stdin', 'iopub', 'hb'] as const) this.sockets[channel].connect(channelAddress(info, channel));
    for (const channel of ['shell', 'control', 'stdin', 'iopub'] as const) void this.pump(channel);
  }

  /** Routes shell/control replies whose parent is `msgId` to `waiter`. */
  onReply(msgId: string, waiter: Waiter): void {
    this.replyWaiters.set(msgId, waiter);
  }

  /** Routes IOPub messages whose parent is `msgId` to `waiter`. */
  onIopub(msgId: string, waiter: Waiter): void {
    this.iopubWaiters.set(msgId, waiter);
  }

  /** Stops routing messages for `msgId`; later ones are dropped. */
  forget(msgId: string): void {
    this.replyWaiters.delete(msgId);
    this.iopubWaiters.delete(msgId);
  }

  private async pump(channel: 'shell' | 'control' | 'stdin' | 'iopub'): Promise<void> {
    try {
      for await (const frames of this.sockets[channel]) {
        let msg: JupyterMessage;
        try {
          msg = deserialize(frames as Buffer[], this.info.key);
        } catch (error) {
          this.rejectedMessages++;
          this.onWarning?.(`dropped a message on ${channel}: ${(error as Error).message}`);
          continue;
        }
        const parentId = msg.parent_header?.msg_id;
        if (!parentId) continue;
        (channel === 'iopub' ? this.iopubWaiters : this.replyWaiters).get(parentId)?.(msg);
      }
    } catch (error) {
      if (!this.closed) this.onWarning?.(`${channel} socket failed: ${(error as Error).message}`);
    }
  }

  /** Signs and sends `msg` on a DEALER channel, after any send still pending there (zeromq allows one at a time). */
  send(channel: 'shell' | 'control' | 'stdin', msg: JupyterMessage<unknown>): Promise<void> {
    const frames = serialize(msg, this.info.key);
    const socket = this.sockets[channel];
    const next = (this.sendChains.get(channel) ?? Promise.resolve()).then(() => socket.send(frames));
    this.sendChains.set(
      channel,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Sends one heartbeat and waits up to `timeoutMs` for its echo. */
  ping(timeoutMs = 1000): Promise<boolean> {
    const run = async () => {
      if (this.closed) return false;
      const hb = this.sockets.hb;
      hb.receiveTimeout = timeoutMs;
      try {
        const token = Buffer.from(randomUUID());
        await hb.send(token);
        const [echo] = await hb.receive();
        return echo.equals(token);
      } catch {
        return false;
      }
    };
    const result = this.hbChain.then(run, run);
    this.hbChain = result;
    return result;
  }

  /** Closes every socket and drops all waiters. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const socket of Object.values(this.sockets)) socket.close();
    this.replyWaiters.clear();
    this.iopubWaiters.clear();
  }
}

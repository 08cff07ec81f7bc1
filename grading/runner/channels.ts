/** The five ZeroMQ sockets of a kernel connection, with signed sends and replies routed by parent msg_id. */
import { randomUUID } from 'node:crypto';
import * as zmq from 'zeromq';
import { channelAddress, type Channel, type ConnectionInfo } from './connection';
import { resolveOutputLimits, type OutputLimits } from './outputs';
import { deserialize, serialize, type JupyterMessage, type MessageHeader } from './wire';

/** Receives a message addressed (through its parent header) to a request of ours. */
export type Waiter = (msg: JupyterMessage) => void;

/** Says from a message's type and content frame length whether its content is worth parsing (false: it arrives with `bodySkipped`). */
export type BodyFilter = (msgType: string, contentBytes: number) => boolean;

/** Socket caps that bound what the client buffers, whatever the kernel sends. */
export interface SocketLimits {
  /** ZMQ_MAXMSGSIZE: ZeroMQ refuses a larger incoming message by dropping the connection (reconnected here); -1 for no cap. */
  maxMessageBytes: number;
  /** ZMQ_RCVHWM: messages queued per socket; past it ZeroMQ stops reading (and the kernel's PUB socket drops what it publishes). */
  receiveHighWaterMark: number;
  /** ZMQ_RCVBUF: the TCP receive buffer, which absorbs bursts of small messages in bytes rather than messages (no effect over ipc). */
  receiveBufferBytes: number;
}

/** The smallest socket message cap (16 MB): what a legitimate single output message may weigh. */
export const MIN_MESSAGE_BYTES = 16_000_000;
/** About what one socket's receive queue may hold (256 MB): its high-water mark is this divided by the message cap. */
export const RECEIVE_BACKLOG_BYTES = 256_000_000;
/** The TCP receive buffer asked for (8 MB; Linux caps it at net.core.rmem_max). */
export const RECEIVE_BUFFER_BYTES = 8_000_000;

/**
 * The socket caps for these output limits: messages up to twice the cell cap (JSON escapes can
 * double a text) and at least MIN_MESSAGE_BYTES, and a queue of about RECEIVE_BACKLOG_BYTES.
 * ZeroMQ counts its queue in messages: libzmq's default of 1000 would let 1000 messages of the
 * maximum size pile up. The mark cannot follow message sizes either: lowering it on a live
 * connection can stall libzmq's flow control for good (measured with 4.3.5: 2000 x 100 kB, stuck
 * after 1500).
 */
export function socketLimitsFor(limits?: OutputLimits): SocketLimits {
  const { cellBytes } = resolveOutputLimits(limits);
  if (!Number.isFinite(cellBytes)) return { maxMessageBytes: -1, receiveHighWaterMark: 1000, receiveBufferBytes: RECEIVE_BUFFER_BYTES };
  const maxMessageBytes = Math.max(2 * Math.ceil(cellBytes), MIN_MESSAGE_BYTES);
  return { maxMessageBytes, receiveHighWaterMark: Math.max(4, Math.floor(RECEIVE_BACKLOG_BYTES / maxMessageBytes)), receiveBufferBytes: RECEIVE_BUFFER_BYTES };
}

/** Options of a kernel connection. */
export interface ChannelOptions {
  /** Hears about dropped messages and socket failures. */
  onWarning?: (message: string) => void;
  /** Socket caps. Default: socketLimitsFor() the default output limits. */
  limits?: SocketLimits;
  /**
   * Called when ZeroMQ dropped a socket's connection for a protocol error, which is what it does
   * with an incoming message over `maxMessageBytes` (measured with libzmq 4.3.5, tcp and ipc, SUB
   * and DEALER), and the socket was reconnected. libzmq never reconnects after a protocol error by
   * itself: without this the socket would stay deaf (SUB) or block every send (DEALER).
   */
  onDropped?: (channel: Channel) => void;
}

// After a disconnect, libzmq schedules its own reconnection (and says so with a connect:retry
// event) within the same millisecond unless the cause was a protocol error; this is the wait.
const PROTOCOL_DROP_MS = 50;

const CHANNELS = ['shell', 'control', 'stdin', 'iopub', 'hb'] as const;

/** The client side of a kernel connection: DEALER shell/control/stdin, SUB iopub, REQ heartbeat. */
export class KernelChannels {
  /** Messages dropped because their signature or format was wrong. */
  rejectedMessages = 0;
  /** Times ZeroMQ dropped each socket's connection for a protocol error (an oversize message) and it was reconnected. */
  readonly dropped: Record<Channel, number> = { shell: 0, control: 0, stdin: 0, iopub: 0, hb: 0 };
  /** The socket caps in use. */
  readonly limits: SocketLimits;
  private readonly onWarning?: (message: string) => void;
  private readonly sockets: { shell: zmq.Dealer; control: zmq.Dealer; stdin: zmq.Dealer; iopub: zmq.Subscriber; hb: zmq.Request };
  private readonly replyWaiters = new Map<string, Waiter>();
  private readonly iopubWaiters = new Map<string, Waiter>();
  private readonly iopubFilters = new Map<string, BodyFilter>();
  private readonly sendChains = new Map<Channel, Promise<unknown>>();
  private hbChain: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** Connects to the kernel described by `info`; `options` may be the warning listener alone. */
  constructor(
    private readonly info: ConnectionInfo,
    options: ChannelOptions | ((message: string) => void) = {},
  ) {
    const { onWarning, limits = socketLimitsFor(), onDropped }: ChannelOptions = typeof options === 'function' ? { onWarning: options } : options;
    this.onWarning = onWarning;
    this.limits = limits;
    // Set before connect: ZeroMQ applies these to connections made afterwards.
    const socketOptions = { linger: 0, maxMessageSize: limits.maxMessageBytes, receiveHighWaterMark: limits.receiveHighWaterMark, receiveBufferSize: limits.receiveBufferBytes };
    this.sockets = {
      shell: new zmq.Dealer(socketOptions),
      control: new zmq.Dealer(socketOptions),
      stdin: new zmq.Dealer(socketOptions),
      iopub: new zmq.Subscriber(socketOptions),
      // relaxed + correlate: a lost ping must not leave the REQ socket stuck waiting for its reply.
      hb: new zmq.Request({ ...socketOptions, relaxed: true, correlate: true }),
    };
    this.sockets.iopub.subscribe();
    for (const channel of CHANNELS) {
      this.watchDrops(channel, onDropped);
      this.sockets[channel].connect(channelAddress(info, channel));
    }
    for (const channel of ['shell', 'control', 'stdin', 'iopub'] as const) void this.pump(channel);
  }

  private watchDrops(channel: Channel, onDropped?: (channel: Channel) => void): void {
    const events = this.sockets[channel].events;
    let pending: NodeJS.Timeout | undefined;
    events.on('disconnect', () => {
      clearTimeout(pending);
      pending = setTimeout(() => this.reconnect(channel, onDropped), PROTOCOL_DROP_MS).unref();
    });
    // The kernel went away (exit, restart): libzmq reconnects by itself.
    events.on('connect:retry', () => clearTimeout(pending));
  }

  private reconnect(channel: Channel, onDropped?: (channel: Channel) => void): void {
    if (this.closed) return;
    const socket = this.sockets[channel];
    const address = channelAddress(this.info, channel);
    try {
      socket.disconnect(address);
    } catch {
      // libzmq already dropped the endpoint (it does after a protocol error)
    }
    try {
      socket.connect(address);
    } catch (error) {
      this.onWarning?.(`could not reconnect the ${channel} socket: ${(error as Error).message}`);
      return;
    }
    this.dropped[channel]++;
    onDropped?.(channel);
  }

  /** Routes shell/control replies whose parent is `msgId` to `waiter`. */
  onReply(msgId: string, waiter: Waiter): void {
    this.replyWaiters.set(msgId, waiter);
  }

  /** Routes IOPub messages whose parent is `msgId` to `waiter`; `wantsBody` may spare parsing contents it will drop. */
  onIopub(msgId: string, waiter: Waiter, wantsBody?: BodyFilter): void {
    this.iopubWaiters.set(msgId, waiter);
    if (wantsBody) this.iopubFilters.set(msgId, wantsBody);
  }

  /** Stops routing messages for `msgId`; later ones are dropped. */
  forget(msgId: string): void {
    this.replyWaiters.delete(msgId);
    this.iopubWaiters.delete(msgId);
    this.iopubFilters.delete(msgId);
  }

  private async pump(channel: 'shell' | 'control' | 'stdin' | 'iopub'): Promise<void> {
    try {
      const waiters = channel === 'iopub' ? this.iopubWaiters : this.replyWaiters;
      // Contents nobody waits for, or that the waiter will drop, are never parsed.
      const parseBody = (header: MessageHeader, parent: Partial<MessageHeader>, contentBytes: number): boolean => {
        const id = parent?.msg_id;
        if (typeof id !== 'string' || !waiters.has(id)) return false;
        return this.iopubFilters.get(id)?.(String(header?.msg_type), contentBytes) ?? true;
      };
      for await (const frames of this.sockets[channel]) {
        let msg: JupyterMessage;
        try {
          msg = deserialize(frames as Buffer[], this.info.key, { parseBody });
        } catch (error) {
          this.rejectedMessages++;
          this.onWarning?.(`dropped a message on ${channel}: ${(error as Error).message}`);
          continue;
        }
        const parentId = msg.parent_header?.msg_id;
        if (!parentId) continue;
        waiters.get(parentId)?.(msg);
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
    this.iopubFilters.clear();
  }
}

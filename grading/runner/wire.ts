/** The Jupyter wire protocol: signing, serialising and parsing multipart kernel messages. */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { userInfo } from 'node:os';

/** The messaging protocol version this client speaks. */
export const PROTOCOL_VERSION = '5.3';

/** The frame separating ZeroMQ routing identities from the signed message. */
export const DELIMITER = '<IDS|MSG>';

/** A Jupyter message header. */
export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
  [extra: string]: unknown;
}

/** One Jupyter message; `content` is left loosely typed because each msg_type defines its own. */
export interface JupyterMessage<C = Record<string, any>> {
  identities: Buffer[];
  header: MessageHeader;
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
  /** Byte length of the received content frame (set by deserialize). */
  contentBytes?: number;
  /** deserialize left metadata and content empty, as `DeserializeOptions.parseBody` asked. */
  bodySkipped?: boolean;
}

/** Thrown when a received message is malformed or its signature does not match the session key. */
export class WireError extends Error {
  override name = 'WireError';
}

/** A new header for a request from this client. */
export function newHeader(msgType: string, session: string): MessageHeader {
  let username = 'nbval-ts';
  try {
    username = userInfo().username;
  } catch {
    // no passwd entry (e.g. inside a sandbox): keep the default
  }
  return { msg_id: randomUUID(), msg_type: msgType, session, username, date: new Date().toISOString(), version: PROTOCOL_VERSION };
}

/** A new message of `msgType` with `content`, ready to serialise. */
export function newMessage<C>(msgType: string, session: string, content: C, parent: Partial<MessageHeader> = {}): JupyterMessage<C> {
  return { identities: [], header: newHeader(msgType, session), parent_header: parent, metadata: {}, content, buffers: [] };
}

/** The hex HMAC-SHA256 of the four JSON frames; an empty key means the session is unsigned. */
export function sign(key: string, frames: Array<Buffer | string>): string {
  if (!key) return '';
  const hmac = createHmac('sha256', key);
  for (const frame of frames) hmac.update(frame);
  return hmac.digest('hex');
}

/** The frames to send for `msg`: identities, delimiter, signature, header, parent, metadata, content, buffers. */
export function serialize(msg: JupyterMessage<unknown>, key: string): Buffer[] {
  const body = [msg.header, msg.parent_header, msg.metadata, msg.content].map((part) => Buffer.from(JSON.stringify(part), 'utf8'));
  return [...msg.identities, Buffer.from(DELIMITER), Buffer.from(sign(key, body)), ...body, ...msg.buffers];
}

function parseJson(frame: Buffer, what: string): any {
  try {
    return JSON.parse(frame.toString('utf8'));
  } catch (error) {
    throw new WireError(`message ${what} frame is not JSON: ${(error as Error).message}`);
  }
}

/** How deserialize treats a message once its signature holds. */
export interface DeserializeOptions {
  /**
   * Called with the parsed header and parent header and the content frame's byte length, before
   * metadata and content are parsed: returning false leaves them empty (`bodySkipped`), so a
   * content about to be dropped is never turned into a string.
   */
  parseBody?: (header: MessageHeader, parent: Partial<MessageHeader>, contentBytes: number) => boolean;
}

/** Parses received frames, verifying the signature before reading any JSON; throws WireError when they do not hold. */
export function deserialize(frames: Buffer[], key: string, options: DeserializeOptions = {}): JupyterMessage {
  const at = frames.findIndex((f) => f.length === DELIMITER.length && f.toString('latin1') === DELIMITER);
  if (at < 0) throw new WireError('message has no <IDS|MSG> delimiter frame');
  if (frames.length < at + 6) throw new WireError(`message has ${frames.length - at - 1} frames after the delimiter, expected at least 5`);
  const signature = frames[at + 1].toString('latin1');
  const body = frames.slice(at + 2, at + 6);
  if (key) {
    const expected = Buffer.from(sign(key, body), 'latin1');
    const got = Buffer.from(signature, 'latin1');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw new WireError('message signature does not match the session key (wrong key, or a foreign or tampered message)');
    }
  }
  const header = parseJson(body[0], 'header');
  const parent_header = parseJson(body[1], 'parent_header');
  const contentBytes = body[3].length;
  const parse = options.parseBody?.(header, parent_header, contentBytes) ?? true;
  return {
    identities: frames.slice(0, at),
    header,
    parent_header,
    metadata: parse ? parseJson(body[2], 'metadata') : {},
    content: parse ? parseJson(body[3], 'content') : {},
    // Skipped messages keep no reference to their frames.
    buffers: parse ? frames.slice(at + 6) : [],
    contentBytes,
    ...(parse ? {} : { bodySkipped: true }),
  };
}

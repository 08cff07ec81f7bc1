/**
 * Preloaded into the tslab kernel (`node --require tslab-preload.cjs tslab kernel ...`).
 *
 * Why: tslab 1.0.22 calls `socket.send()` without waiting for the previous send. zeromq 6 allows one
 * pending send per socket and, to avoid starving the event loop, defers every 512th send by a tick;
 * a send issued during that tick is rejected with EBUSY ("Socket is busy writing"). tslab only logs
 * the rejection, so an IOPub message is silently lost: a cell's stdout, or its `idle` status (and a
 * client then waits forever). Measured here: about one message in 3000.
 *
 * This queues sends per socket, so each starts after the previous one settled. It patches the
 * zeromq that tslab will load (resolved from tslab's own folder and from the working directory,
 * where tslab looks for a project-local copy of itself).
 *
 * It gathers stream writes into fewer messages (see below), and it ends the kernel when the process that started it disappears (like ipykernel's parent
 * poller): a runner killed with SIGKILL must not leave a student's endless loop running.
 */
'use strict';
const path = require('node:path');

/*
 * tslab also sends one IOPub message per write: a loop printing 20 000 lines sends 20 000 messages,
 * faster than any client reads them, and the kernel's PUB socket drops what its queue cannot hold
 * (lines lost in runs of 500, measured with the project's runner). Like ipykernel's OutStream, writes
 * are gathered: one message per stream every FLUSH_MS or FLUSH_BYTES, and whatever is pending is sent
 * before any other message leaves (display data, the execute reply, the idle status) and before a
 * write to the other stream, so outputs keep their order.
 */
const FLUSH_MS = 50;
const FLUSH_BYTES = 64 * 1024;
/** Stream writers holding text not sent yet. */
const pending = new Set();

function flushPending(except) {
  for (const writer of [...pending]) if (writer !== except) writer.flush();
}

/** The msg_type of a Jupyter message given as ZeroMQ frames (undefined when it is not one). */
function messageType(frames) {
  if (!Array.isArray(frames)) return undefined;
  const delimiter = frames.findIndex((frame) => String(frame) === '<IDS|MSG>');
  try {
    return delimiter >= 0 ? JSON.parse(String(frames[delimiter + 2])).msg_type : undefined;
  } catch {
    return undefined;
  }
}

function gatherStreams(jupyterPath) {
  const { JupyterHandlerImpl } = require(jupyterPath);
  const proto = JupyterHandlerImpl && JupyterHandlerImpl.prototype;
  if (!proto || typeof proto.createWriteToIopub !== 'function' || proto.createWriteToIopub.__nbvalGathered) return;
  const decoder = new TextDecoder();
  const gathered = function (name, writeStream) {
    let buffered = '';
    let timer;
    const writer = {
      flush() {
        clearTimeout(timer);
        timer = undefined;
        pending.delete(writer);
        if (!buffered) return;
        const text = buffered;
        buffered = '';
        writeStream(name, text);
      },
    };
    return (chunk, encoding, callback) => {
      flushPending(writer);
      const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk);
      // A big write goes on its own: a client that refuses it (too large) keeps the text before it.
      if (buffered && buffered.length + text.length > FLUSH_BYTES) writer.flush();
      buffered += text;
      pending.add(writer);
      if (buffered.length >= FLUSH_BYTES) writer.flush();
      else if (!timer) timer = setTimeout(() => writer.flush(), FLUSH_MS);
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done);
      return true;
    };
  };
  gathered.__nbvalGathered = true;
  proto.createWriteToIopub = gathered;
}

function patch(zeromqPath) {
  const zmq = require(zeromqPath);
  const proto = zmq.Socket && zmq.Socket.prototype;
  if (!proto || typeof proto.send !== 'function' || proto.send.__nbvalSerialized) return;
  const send = proto.send;
  const queues = new WeakMap();
  const serialized = function (...args) {
    // Gathered stream text goes first (it is queued on IOPub before this message).
    if (pending.size && messageType(args[0]) !== 'stream') flushPending();
    const previous = queues.get(this) || Promise.resolve();
    const next = previous.then(() => send.apply(this, args));
    queues.set(this, next.catch(() => undefined));
    return next;
  };
  serialized.__nbvalSerialized = true;
  // The native method is read-only but configurable.
  Object.defineProperty(proto, 'send', { value: serialized, writable: false, enumerable: false, configurable: true });
}

const from = [process.argv[1] && path.dirname(process.argv[1]), process.cwd()].filter(Boolean);
for (const dir of from) {
  try {
    patch(require.resolve('zeromq', { paths: [dir] }));
  } catch {
    // no zeromq reachable from there: nothing to patch
  }
  try {
    gatherStreams(require.resolve('tslab/dist/jupyter.js', { paths: [dir, path.join(dir, '..')] }));
  } catch {
    // tslab not reachable from there
  }
}

const parent = process.ppid;
if (parent > 1) {
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 1000).unref();
}

/*
 * tslab keeps a single slot for TypeScript's watch timers and throws "Unexpected pending
 * rebuildTimer" on the next cell when a directory watcher fired meanwhile (a file written under a
 * watched folder: node_modules after an `npm install`, a notebook saved, a model written...), which
 * breaks every later cell. Directory watching only serves modules that appear during a session, so
 * it is turned off: a kernel restart picks those up. Edits to imported files are still seen.
 */
const libTypes = require('./tslab-lib-types.cjs');
for (const dir of from) {
  try {
    const ts = libTypes.tslabTypescript(dir);
    if (ts.sys && !ts.sys.watchDirectory.__nbvalDisabled) {
      const disabled = () => ({ close() {} });
      disabled.__nbvalDisabled = true;
      ts.sys.watchDirectory = disabled;
    }
    // Cells importing ./lib/ type-check against its prebuilt declarations when they are up to date.
    libTypes.useLibTypes(ts, path.join(process.cwd(), 'lib'));
    onlyNodeGlobalTypes(ts);
  } catch {
    // tslab not reachable from there
  }
}

/*
 * tslab gives TypeScript the project's node_modules/@types as type roots without a `types` list, so
 * every kernel parses and binds every package there (jest, babel, istanbul, yargs... 20 of them in
 * this project) before its first cell. A notebook's globals only come from @types/node; packages a
 * cell imports still bring their own types (and what those reference), so a type root is listed to
 * TypeScript as holding node alone. (tslab's options cannot be changed: the compiler's exports are
 * read-only getters; its `sys` is the hook it offers.)
 */
function onlyNodeGlobalTypes(ts) {
  const sys = ts.sys;
  if (!sys || sys.__nodeTypesOnly) return;
  const { getDirectories } = sys;
  sys.getDirectories = (dir) => {
    const found = getDirectories.call(sys, dir);
    return path.basename(dir) === '@types' && path.basename(path.dirname(dir)) === 'node_modules' ? found.filter((name) => name === 'node') : found;
  };
  sys.__nodeTypesOnly = true;
}

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
 * It also ends the kernel when the process that started it disappears (like ipykernel's parent
 * poller): a runner killed with SIGKILL must not leave a student's endless loop running.
 */
'use strict';
const path = require('node:path');

function patch(zeromqPath) {
  const zmq = require(zeromqPath);
  const proto = zmq.Socket && zmq.Socket.prototype;
  if (!proto || typeof proto.send !== 'function' || proto.send.__nbvalSerialized) return;
  const send = proto.send;
  const queues = new WeakMap();
  const serialized = function (...args) {
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
for (const dir of from) {
  try {
    const ts = require(require.resolve('@tslab/typescript-for-tslab', { paths: [path.dirname(require.resolve('tslab/package.json', { paths: [dir] }))] }));
    if (ts.sys && !ts.sys.watchDirectory.__nbvalDisabled) {
      const disabled = () => ({ close() {} });
      disabled.__nbvalDisabled = true;
      ts.sys.watchDirectory = disabled;
    }
  } catch {
    // tslab not reachable from there
  }
}

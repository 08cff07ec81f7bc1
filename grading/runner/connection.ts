/** Kernel connection files: free loopback ports, a fresh HMAC key, written where only this user can read. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The five channels a Jupyter kernel listens on. */
export type Channel = 'shell' | 'iopub' | 'control' | 'stdin' | 'hb';

/** The content of a Jupyter connection file. */
export interface ConnectionInfo {
  transport: 'tcp' | 'ipc';
  ip: string;
  shell_port: number;
  iopub_port: number;
  control_port: number;
  stdin_port: number;
  hb_port: number;
  key: string;
  signature_scheme: 'hmac-sha256';
  kernel_name?: string;
}

/** Asks the OS for `count` distinct free TCP ports on `host`, holding them all open so none repeats. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<import('node:net').Server>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, host, () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/**
 * A new connection description. With `ipc`, `ip` is a path prefix inside `dir`: IPC needs no network,
 * which keeps the kernel reachable from a sandbox that has its own network namespace.
 */
export async function newConnectionInfo(transport: 'tcp' | 'ipc' = 'tcp', ipcDir?: string): Promise<ConnectionInfo> {
  const key = randomBytes(32).toString('hex');
  if (transport === 'ipc') {
    if (!ipcDir) throw new Error('an ipc connection needs a folder for its socket files: pass ipcDir');
    // tslab joins ip and port with ':', so ports only need to be distinct numbers here.
    return { transport, ip: join(ipcDir, 'kernel'), shell_port: 1, iopub_port: 2, control_port: 3, stdin_port: 4, hb_port: 5, key, signature_scheme: 'hmac-sha256', kernel_name: 'tslab' };
  }
  const [shell, iopub, control, stdin, hb] = await freePorts(5);
  return { transport, ip: '127.0.0.1', shell_port: shell, iopub_port: iopub, control_port: control, stdin_port: stdin, hb_port: hb, key, signature_scheme: 'hmac-sha256', kernel_name: 'tslab' };
}

/** The ZeroMQ address of one channel, built the way tslab builds it when it binds. */
export function channelAddress(info: ConnectionInfo, channel: Channel): string {
  const port = info[`${channel}_port` as const];
  return `${info.transport}://${info.ip}:${port}`;
}

/** A private folder holding the connection file; `remove` deletes it with everything inside. */
export interface ConnectionFile {
  dir: string;
  path: string;
  info: ConnectionInfo;
  remove: () => void;
}

/** The longest path of a Unix socket address (sun_path, with its terminating NUL): ipc sockets must fit. */
export const MAX_SOCKET_PATH = 107;

/** Writes a connection file (mode 0600, in a fresh 0700 folder under `parent`, default the OS temp dir). */
export async function writeConnectionFile(transport: 'tcp' | 'ipc' = 'tcp', parent = tmpdir()): Promise<ConnectionFile> {
  const dir = mkdtempSync(join(parent, 'nbval-ts-kernel-'));
  const info = await newConnectionInfo(transport, dir);
  const longest = Math.max(...(['shell', 'iopub', 'control', 'stdin', 'hb'] as const).map((c) => Buffer.byteLength(channelAddress(info, c).slice('ipc://'.length))));
  if (transport === 'ipc' && longest > MAX_SOCKET_PATH) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`ipc socket paths under ${parent} would be ${longest} bytes long, more than the ${MAX_SOCKET_PATH} a Unix socket allows: give a shorter folder (TMPDIR or connectionParent).`);
  }
  const path = join(dir, 'connection.json');
  writeFileSync(path, JSON.stringify(info, null, 1), { mode: 0o600 });
  return { dir, path, info, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

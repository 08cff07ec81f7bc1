/**
 * The bubblewrap command line of a submission: new mount, user (unless root), PID, network, IPC and
 * UTS namespaces, dying with the grader. Inside, only what the course needs exists: the system
 * read-only, Node, the project's node_modules/ and lib/ and the data folder read-only, the
 * submission's scratch folder writable at /soumission, its own /tmp (a folder of the scratch, so
 * that it counts against the disk limit) and a tiny /dev/shm. No class folder, no other
 * submission, no home, no report folder: they are not hidden, they are not there.
 */
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

/** Where a submission's scratch folder is inside its sandbox. */
export const SANDBOX_HOME = '/soumission';

/** The bubblewrap program, where Debian installs it. */
export const BWRAP = '/usr/bin/bwrap';

/** Size of the sandbox's /dev/shm (RAM, outside any other limit, so kept small). */
const SHM_BYTES = 16 * 1024 * 1024;

/** The system folders every program needs, bound read-only (or recreated as the links they are). */
const SYSTEM_DIRS = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/** The few files of /etc that programs read to start: the dynamic linker's cache and alternatives, the time zone. */
const ETC_FILES = ['ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'alternatives', 'localtime', 'nsswitch.conf'];

/** A host path made visible inside the sandbox. */
export interface Mount {
  host: string;
  inside: string;
  writable?: boolean;
}

/** What one bubblewrap invocation is built from. */
export interface BubblewrapLayout {
  /** The submission's scratch folder (writable, at SANDBOX_HOME). */
  scratchDir: string;
  /** The folder the scratch's own /tmp lives in (inside the scratch, so the disk limit sees it). */
  tmpDir: string;
  /** Host paths made visible inside (read-only unless `writable`), at `inside`. */
  readOnly: Mount[];
  /** Working folder inside the sandbox. */
  cwd: string;
  /** Add a user namespace (an ordinary user's grader); root keeps the initial one and drops to a user id with setpriv. */
  userNamespace: boolean;
}

function systemMounts(): string[] {
  const args: string[] = [];
  for (const name of SYSTEM_DIRS) {
    const path = `/${name}`;
    if (!existsSync(path)) continue;
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (stat.isDirectory()) args.push('--ro-bind', path, path);
  }
  args.push('--perms', '0755', '--dir', '/etc');
  for (const name of ETC_FILES) args.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
  args.push('--proc', '/proc', '--dev', '/dev', '--remount-ro', '/dev', '--perms', '1777', '--size', String(SHM_BYTES), '--tmpfs', '/dev/shm');
  return args;
}

/** Folders bubblewrap must create (readable by everyone: as root, the code inside runs under another user id) before mounting on `target`. */
function parents(target: string, made: Set<string>): string[] {
  const args: string[] = [];
  const chain: string[] = [];
  for (let dir = posix.dirname(target); dir !== '/' && !made.has(dir); dir = posix.dirname(dir)) chain.unshift(dir);
  for (const dir of chain) {
    args.push('--perms', '0755', '--dir', dir);
    made.add(dir);
  }
  return args;
}

/** Node's own installation, when it is not part of the system folders (nvm, a tarball in /opt...). */
export function nodeInstallation(execPath = process.execPath): Mount | undefined {
  const real = realpathSync(execPath);
  if (real.startsWith('/usr/')) return undefined;
  const prefix = dirname(dirname(real));
  return { host: prefix, inside: prefix };
}

/** bubblewrap's arguments (everything before `--` and the command). */
export function bubblewrapArgs(layout: BubblewrapLayout): string[] {
  const args = [
    ...(layout.userNamespace ? ['--unshare-user'] : []),
    '--unshare-pid',
    '--unshare-net',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    'soumission',
    '--die-with-parent',
    '--new-session',
    ...systemMounts(),
  ];
  const made = new Set<string>(['/etc', '/proc', '/dev']);
  // The private /tmp first: project folders under /tmp (a clone in /tmp/...) are then mounted inside it.
  args.push('--bind', layout.tmpDir, '/tmp');
  made.add('/tmp');
  const home = { host: layout.scratchDir, inside: SANDBOX_HOME, writable: true };
  const inHome = layout.readOnly.filter((m) => m.inside.startsWith(`${SANDBOX_HOME}/`));
  const outside = layout.readOnly.filter((m) => !inHome.includes(m));
  for (const mount of [...outside, home, ...inHome]) {
    if (!mount.inside.startsWith(`${SANDBOX_HOME}/`)) args.push(...parents(mount.inside, made));
    args.push(mount.writable ? '--bind' : '--ro-bind', mount.host, mount.inside);
    made.add(mount.inside);
  }
  args.push('--chdir', layout.cwd, '--remount-ro', '/');
  return args;
}

/** The path inside the sandbox of a host path under the scratch folder (other paths are mounted where they are). */
export function insidePath(scratchDir: string, hostPath: string): string {
  if (hostPath === scratchDir) return SANDBOX_HOME;
  if (hostPath.startsWith(`${scratchDir}/`)) return join(SANDBOX_HOME, hostPath.slice(scratchDir.length + 1));
  return hostPath;
}

/**
 * A real Slurm on this machine alone, for the cluster tests, `npm run bench:grade` and `.ci/run`:
 * munged, slurmctld and slurmd (Debian `slurm-wlm` and `munge`) configured for localhost in a
 * folder of their own (its munge key and socket, state, spool, logs, free ports), so nothing in
 * /etc is touched and a second cluster never collides with the first. Clients find it through
 * SLURM_CONF. As a script: `tsx tests/helpers/slurm.ts start DIR` (prints SLURM_CONF's value) and
 * `tsx tests/helpers/slurm.ts stop DIR`; both need root, as the daemons do.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { needsTool, type ToolGate } from './tools';

/** The commands the cluster and its clients need. */
export const SLURM_COMMANDS = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'sacct', 'scontrol', 'sinfo', 'scancel'] as const;

/** How to install them (Debian; `.ci/run` does it). */
export const SLURM_HOW = 'apt-get install slurm-wlm munge (Debian, as root; .ci/run does it and starts a local Slurm)';

/** A running local cluster. */
export interface LocalSlurm {
  /** The folder holding its configuration, state and logs. */
  dir: string;
  /** Its slurm.conf: what SLURM_CONF must name for sbatch, squeue, sacct... */
  conf: string;
  /** process.env with SLURM_CONF set. */
  env: NodeJS.ProcessEnv;
  /** The partition jobs go to. */
  partition: string;
  /** False when an already running cluster (SLURM_CONF set by .ci/run) is reused: stop() then leaves it alone. */
  started: boolean;
  /** Seconds from the first daemon started to the node idle (0 when reused). */
  startSeconds: number;
  /** Cancels the cluster's jobs and stops its three daemons by their pids (nothing when reused). */
  stop(): Promise<void>;
}

/** The partition of the local cluster. */
export const LOCAL_PARTITION = 'debug';

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** The Slurm and munge commands missing from PATH (the daemons live in /usr/sbin). */
export function missingSlurmCommands(): string[] {
  return SLURM_COMMANDS.filter((command) => !onPath(command));
}

/** The user id and group id of the `munge` account, when it exists. */
function mungeAccount(): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', 'munge'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'munge'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** True when the cluster SLURM_CONF (in `env`) names answers and has a node ready. */
export function slurmReachable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!env.SLURM_CONF || !existsSync(env.SLURM_CONF)) return false;
  const run = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', env, timeout: 10_000 });
  return run.status === 0 && /\b(idle|mixed|allocated|completing)\b/.test(run.stdout);
}

/** Whether a local cluster can be used here: one already running (SLURM_CONF), or the commands and root to start one. */
export function slurmAvailability(): { found: boolean; what: string } {
  if (slurmReachable()) return { found: true, what: `the Slurm of SLURM_CONF=${process.env.SLURM_CONF}` };
  const missing = missingSlurmCommands();
  if (missing.length) return { found: false, what: `Slurm and munge (${missing.join(', ')} not found)` };
  if (process.getuid?.() !== 0) return { found: false, what: 'root, to start a local Slurm (munged, slurmctld, slurmd), or a running one named by SLURM_CONF' };
  if (!mungeAccount()) return { found: false, what: "munge's system account (user munge)" };
  return { found: true, what: 'a local Slurm' };
}

/** The gate of the tests that need a real Slurm: outside CI they skip with one line, in CI they fail. */
export function needsSlurm(): ToolGate {
  const { found, what } = slurmAvailability();
  return needsTool(found, what, SLURM_HOW);
}

/** A free TCP port on the loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, options: { uid?: number; gid?: number } = {}): void {
  const result = spawnSync(command, args, { encoding: 'utf8', env, timeout: 30_000, ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}${result.stdout}`);
}

function pidOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Files the daemons write their pids to, in the order they are stopped. */
function pidFiles(dir: string): string[] {
  return [join(dir, 'slurmd.pid'), join(dir, 'slurmctld.pid'), join(dir, 'munge', 'munged.pid')];
}

/** The tail of the cluster's logs, for an error message. */
function logTails(dir: string): string {
  return ['log/slurmctld.log', 'log/slurmd.log', 'munge/munged.log']
    .map((file) => join(dir, file))
    .filter((file) => existsSync(file))
    .map((file) => `--- ${file}\n${readFileSync(file, 'utf8').split('\n').slice(-8).join('\n')}`)
    .join('\n');
}

/** slurm.conf for one machine: the ENVIRONMENT.md recipe, with private ports, munge socket and folders. */
export function localSlurmConf(dir: string, ports: { controller: number; node: number }): string {
  const host = hostname().split('.')[0];
  const memoryMb = Math.floor((totalmem() / 2 ** 20) * 0.9);
  return [
    '# A Slurm of this machine alone, written by tests/helpers/slurm.ts.',
    'ClusterName=analyse-image',
    `SlurmctldHost=${host}(127.0.0.1)`,
    'SlurmUser=root',
    `SlurmctldPort=${ports.controller}`,
    `SlurmdPort=${ports.node}`,
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${join(dir, 'munge', 'munge.socket')}`,
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
    `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_CPU',
    'ReturnToService=2',
    'MpiDefault=none',
    'JobAcctGatherType=jobacct_gather/none',
    // No database (slurmdbd): sacct answers from the job completion file (sacct --completion).
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/filetxt',
    `JobCompLoc=${join(dir, 'log', 'jobcomp.txt')}`,
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim() || '1'} RealMemory=${memoryMb} State=UNKNOWN`,
    `PartitionName=${LOCAL_PARTITION} Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}

/** Stops the daemons of a cluster folder by their pids (SIGTERM, then SIGKILL after 10 s); cancels its jobs first. */
export async function stopLocalSlurm(dir: string): Promise<void> {
  const conf = join(dir, 'slurm.conf');
  const env = { ...process.env, SLURM_CONF: conf };
  const controller = pidOf(join(dir, 'slurmctld.pid'));
  if (controller && alive(controller)) {
    spawnSync('scancel', ['--user', String(process.getuid?.() ?? 0)], { env, stdio: 'ignore', timeout: 10_000 });
    for (let i = 0; i < 20; i++) {
      const queue = spawnSync('squeue', ['-h'], { env, encoding: 'utf8', timeout: 10_000 });
      if (queue.status !== 0 || !queue.stdout.trim()) break;
      await sleep(500);
    }
  }
  for (const file of pidFiles(dir)) {
    const pid = pidOf(file);
    if (!pid || !alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
}

/**
 * Starts munged (as user munge, with a key of its own), slurmctld and slurmd in `dir` (default: a
 * new temporary folder, removed by stop()) and waits for the node to be idle. Reuses the cluster
 * SLURM_CONF names when it answers (then stop() is a no-op).
 */
export async function startLocalSlurm(dir?: string): Promise<LocalSlurm> {
  if (slurmReachable()) {
    return { dir: join(process.env.SLURM_CONF!, '..'), conf: process.env.SLURM_CONF!, env: { ...process.env }, partition: LOCAL_PARTITION, started: false, startSeconds: 0, stop: async () => undefined };
  }
  const started = performance.now();
  const munge = mungeAccount();
  if (!munge) throw new Error('no munge account: apt-get install munge');
  const root = dir ?? mkdtempSync(join(tmpdir(), 'analyse-image-slurm-'));
  // munged runs as user munge: every folder above its socket must let others through.
  for (let up = join(root, '..'); ; up = join(up, '..')) {
    if ((statSync(up).mode & 0o001) === 0) throw new Error(`${up} is not traversable by others (mode ${(statSync(up).mode & 0o777).toString(8)}): munged, running as user munge, could not reach ${root}; start the local Slurm elsewhere`);
    if (up === '/') break;
  }
  rmSync(root, { recursive: true, force: true });
  for (const sub of ['state', 'spool', 'log', 'munge', 'munge-key']) mkdirSync(join(root, sub), { recursive: true });
  // munged wants its socket folder traversable by all, and its key readable by munge alone.
  chmodSync(root, 0o755);
  chmodSync(join(root, 'munge'), 0o755);
  chownSync(join(root, 'munge'), munge.uid, munge.gid);
  chmodSync(join(root, 'munge-key'), 0o700);
  chownSync(join(root, 'munge-key'), munge.uid, munge.gid);
  const conf = join(root, 'slurm.conf');
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const stop = async () => {
    await stopLocalSlurm(root);
    if (!dir) rmSync(root, { recursive: true, force: true });
  };
  try {
    const key = join(root, 'munge-key', 'munge.key');
    run('mungekey', ['--create', `--keyfile=${key}`], env, munge);
    const socket = join(root, 'munge', 'munge.socket');
    run('munged', [`--key-file=${key}`, `--socket=${socket}`, `--pid-file=${join(root, 'munge', 'munged.pid')}`, `--log-file=${join(root, 'munge', 'munged.log')}`, `--seed-file=${join(root, 'munge', 'munged.seed')}`], env, munge);
    writeFileSync(conf, localSlurmConf(root, { controller: await freePort(), node: await freePort() }));
    run('slurmctld', [], env);
    run('slurmd', [], env);
    for (let i = 0; ; i++) {
      if (slurmReachable(env)) break;
      if (i >= 120) throw new Error(`the local Slurm's node is not idle after 60 s`);
      await sleep(500);
    }
  } catch (error) {
    const logs = logTails(root);
    await stop();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
  return { dir: root, conf, env, partition: LOCAL_PARTITION, started: true, startSeconds: (performance.now() - started) / 1000, stop };
}

if (require.main === module) {
  const [command, dir] = process.argv.slice(2);
  void (async () => {
    if (!dir || !['start', 'stop'].includes(command)) {
      console.error('usage: tsx tests/helpers/slurm.ts start|stop DIR');
      process.exit(2);
    }
    if (command === 'stop') {
      await stopLocalSlurm(dir);
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    delete process.env.SLURM_CONF; // always a cluster of its own in DIR
    const slurm = await startLocalSlurm(dir);
    console.error(`local Slurm ready in ${slurm.startSeconds.toFixed(1)} s (${slurm.conf})`);
    console.log(slurm.conf);
  })().catch((error) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}

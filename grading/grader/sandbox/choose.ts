/**
 * Which isolation this machine offers, in order of preference: bubblewrap (namespaces: the
 * submission sees only its folder and the course, no network; works for an ordinary user too),
 * else setpriv (root only: a user id per submission, which stops writes but not reads), else none.
 * The choice and its reason, in French, go into every report.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BWRAP, bubblewrapArgs, SANDBOX_HOME } from './bubblewrap';
import { PRLIMIT, SETPRIV } from './limits';

/** How student code is isolated. */
export type SandboxMode = 'bubblewrap' | 'user' | 'none';

/** What the sandbox chose, and why, in French for the reports. */
export interface SandboxChoice {
  mode: SandboxMode;
  reason: string;
}

/** How to get bubblewrap, for the messages. */
export const HOW_TO_GET_BUBBLEWRAP = 'installez bubblewrap (Debian, Ubuntu : sudo apt-get install bubblewrap ; Fedora : sudo dnf install bubblewrap ; `npm install` le fait en root sur Debian)';

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

let bubblewrapVerdict: string | null | undefined;

/** Why bubblewrap cannot isolate submissions here (undefined when it can): tried once with the sandbox's real options. */
export function bubblewrapProblem(): string | undefined {
  if (bubblewrapVerdict !== undefined) return bubblewrapVerdict ?? undefined;
  const missing = [BWRAP, PRLIMIT, ...(isRoot() ? [SETPRIV] : [])].filter((tool) => !existsSync(tool));
  if (missing.length) {
    bubblewrapVerdict = `${missing.join(' et ')} absent${missing.length > 1 ? 's' : ''}`;
    return bubblewrapVerdict;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'analyse-image-bwrap-'));
  try {
    mkdirSync(join(scratch, '.tmp'));
    const args = bubblewrapArgs({ scratchDir: scratch, tmpDir: join(scratch, '.tmp'), readOnly: [], cwd: SANDBOX_HOME, userNamespace: !isRoot() });
    const run = spawnSync(BWRAP, [...args, '--', PRLIMIT, '--nproc=64', '--', '/bin/sh', '-c', `test -d ${SANDBOX_HOME} && echo ok`], { encoding: 'utf8', timeout: 20_000 });
    bubblewrapVerdict = run.stdout?.trim() === 'ok' ? null : `bubblewrap ne démarre pas ici (${(run.stderr || run.error?.message || `code ${run.status}`).trim().split('\n')[0]} ; les espaces de noms utilisateur sont-ils permis ? /proc/sys/user/max_user_namespaces)`;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return bubblewrapVerdict ?? undefined;
}

/** Picks the sandbox: bubblewrap when it works, else `user` as root with setpriv, else `none` (with the reason). */
export function chooseSandbox(requested: SandboxMode | 'auto' = 'auto'): SandboxChoice {
  if (requested === 'none') return { mode: 'none', reason: 'isolation désactivée (--sandbox none) : le code des étudiants tourne avec les droits de l’enseignant' };
  const root = isRoot();
  const bubblewrap = requested === 'user' ? 'non demandé (--sandbox user)' : bubblewrapProblem();
  if (!bubblewrap) {
    return {
      mode: 'bubblewrap',
      reason: `chaque soumission tourne dans un bac à sable bubblewrap (espaces de noms fichiers, processus, réseau et IPC${root ? ', et un utilisateur système à part' : ''}) : elle ne voit que son dossier de travail, le système, Node, le code du cours et les données, sans réseau`,
    };
  }
  if (requested === 'bubblewrap') throw new Error(`--sandbox bubblewrap impossible : ${bubblewrap}. Pour l’obtenir, ${HOW_TO_GET_BUBBLEWRAP}.`);
  const setpriv = existsSync(SETPRIV) && existsSync(PRLIMIT);
  if (root && setpriv) {
    return {
      mode: 'user',
      reason: `bubblewrap indisponible (${bubblewrap}) : chaque soumission tourne sous un utilisateur système à part (setpriv), qui ne peut pas écrire hors de son dossier de travail mais peut lire ce qui est lisible par tous et utiliser le réseau ; pour isoler vraiment, ${HOW_TO_GET_BUBBLEWRAP}`,
    };
  }
  const why = !root ? 'le correcteur ne tourne pas en root' : `${SETPRIV} ou ${PRLIMIT} absent (paquet util-linux)`;
  if (requested === 'user') throw new Error(`--sandbox user impossible : ${why}. Lancez le correcteur en root (sudo npm run grade ...), ou utilisez bubblewrap (--sandbox auto).`);
  return { mode: 'none', reason: `pas d’isolation (bubblewrap : ${bubblewrap} ; setpriv : ${why}) : le code des étudiants tourne avec les droits de l’enseignant ; pour isoler chaque soumission, même sans root, ${HOW_TO_GET_BUBBLEWRAP}` };
}

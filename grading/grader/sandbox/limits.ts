/**
 * The limits of one submission: what the kernel enforces (rlimits set by prlimit inside the
 * sandbox) and what the grader watches (memory, processes, disk), with the French message of a
 * breach. The rlimits are set inside the sandbox's own user namespace, so that the process count
 * is the submission's alone and not every process of the instructor's account.
 */
import type { GradingSpec } from '../spec';

/** The program that sets rlimits before running a command (util-linux). */
export const PRLIMIT = '/usr/bin/prlimit';

/** The program that drops to another user id before running a command (util-linux). */
export const SETPRIV = '/usr/bin/setpriv';

/** Entries the disk watch reads at most under a scratch folder: more files than this is a breach in itself. */
export const MAX_SCRATCH_ENTRIES = 100_000;

/** The limits of one submission. */
export interface SubmissionLimits {
  memoryMb: number;
  processes: number;
  diskMb: number;
  openFiles: number;
}

/** The spec's limits as the sandbox needs them. */
export function limitsOf(spec: GradingSpec): SubmissionLimits {
  const { memoryMb, processes, diskMb, openFiles } = spec.limits;
  return { memoryMb, processes, diskMb, openFiles };
}

/** Which limit a submission went past. */
export type LimitName = 'memory' | 'processes' | 'disk' | 'files' | 'open-files';

/** A submission stopped at a limit. */
export interface LimitBreach {
  limit: LimitName;
  /** In French, for the student: what was used, what the limit is, what happened. */
  message: string;
}

/** The French message of each breach (`used` in the limit's own unit). */
export function breachMessage(limit: LimitName, limits: SubmissionLimits, used?: number): string {
  const stopped = 'tous les processus de la soumission ont été arrêtés.';
  switch (limit) {
    case 'memory':
      return `mémoire dépassée : ${Math.round(used ?? 0)} Mo utilisés pour une limite de ${limits.memoryMb} Mo ; ${stopped}`;
    case 'processes':
      return `limite de processus atteinte : ${limits.processes} processus et fils d’exécution au plus par soumission ; ${stopped}`;
    case 'disk':
      return `limite d’espace disque atteinte : ${used === undefined ? 'un fichier a dépassé' : `${Math.round(used)} Mo écrits pour`} ${limits.diskMb} Mo permis dans le dossier de travail ; ${stopped}`;
    case 'files':
      return `trop de fichiers créés : plus de ${MAX_SCRATCH_ENTRIES.toLocaleString('fr-FR')} dans le dossier de travail ; ${stopped}`;
    case 'open-files':
      return `limite de fichiers ouverts atteinte : ${limits.openFiles} par processus (EMFILE).`;
  }
}

/** prlimit's arguments for these limits; `withProcesses` false where RLIMIT_NPROC would count the instructor's own processes. */
export function prlimitArgs(limits: SubmissionLimits, withProcesses: boolean): string[] {
  const fileBytes = limits.diskMb * 1024 * 1024;
  return [
    PRLIMIT,
    ...(withProcesses ? [`--nproc=${limits.processes}`] : []),
    `--nofile=${limits.openFiles}`,
    `--fsize=${fileBytes}`,
    '--core=0',
    '--',
  ];
}

/** setpriv's arguments that run a command under `uid` with no way back to root. */
export function setprivArgs(uid: number): string[] {
  return [SETPRIV, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--'];
}

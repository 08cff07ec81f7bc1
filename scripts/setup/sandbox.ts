/**
 * The grader's sandbox: bubblewrap (Debian package `bubblewrap`), installed with apt when the
 * set-up runs as root on Debian. Students do not need it, so its absence is a warning, not a failure.
 */
import { existsSync } from 'node:fs';
import { bubblewrapProblem, HOW_TO_GET_BUBBLEWRAP } from '../../grading/grader/sandbox';
import { BWRAP } from '../../grading/grader/sandbox/bubblewrap';
import { canUseApt, installDebianPackage } from './apt';
import { info, step, warn } from './log';

/** Makes sure bubblewrap is installed and works here, or says how to get it. */
export async function ensureSandbox(): Promise<void> {
  step('Bac à sable du correcteur (bubblewrap)');
  if (!existsSync(BWRAP) && canUseApt()) installDebianPackage('bubblewrap');
  const problem = bubblewrapProblem();
  if (!problem) {
    info(`${BWRAP} : chaque soumission corrigée tourne isolée (fichiers, processus, réseau), même sans root.`);
    return;
  }
  warn(`bubblewrap n’est pas utilisable (${problem}) : le correcteur (npm run grade) isolera moins bien les soumissions.`);
  warn(`Pour l’obtenir, ${HOW_TO_GET_BUBBLEWRAP}.`);
}

/**
 * Files `npm run assignment` writes into the student version beside the notebooks. Add an entry
 * here to ship something with the lab (e.g. the students' pre-submission check): `{ name, from }`
 * copies a file of the project, `{ name, content }` writes text; `name` is relative to assignment/.
 */
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import type { AssignmentExtra } from './student-version';

/** The extras of the student version, written in this order after the notebooks. */
export const ASSIGNMENT_EXTRAS: readonly AssignmentExtra[] = [
  // How to run `npm run verifier` (grading/cli/verifier.ts) before handing in, in French.
  { name: 'AVANT-DE-RENDRE.md', from: join(PROJECT_ROOT, 'grading', 'verifier', 'AVANT-DE-RENDRE.md') },
];

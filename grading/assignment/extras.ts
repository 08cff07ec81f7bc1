/**
 * Files `npm run assignment` writes into the student version beside the notebooks. Add an entry
 * here to ship something with the lab (e.g. the students' pre-submission check): `{ name, from }`
 * copies a file of the project, `{ name, content }` writes text; `name` is relative to assignment/.
 */
import type { AssignmentExtra } from './student-version';

/** The extras of the student version, written in this order after the notebooks. */
export const ASSIGNMENT_EXTRAS: readonly AssignmentExtra[] = [];

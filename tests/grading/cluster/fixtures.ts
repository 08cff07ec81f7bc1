/**
 * The small class the cluster tests and `npm run bench:grade` grade with execution (quick mode):
 * three submissions built from the grader's fixtures, named so that with N = 3 each shard has one
 * (emma 1/3, hugo 2/3, ada 3/3) and the two identical notebooks land in different shards: a shard
 * alone cannot flag them, the merge must. hugo's output is cut by the grader (a per-submission
 * flag the merge keeps).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLASSIFICATION_CELLS, writeSubmission } from '../grader/submissions';

/** The spec overrides of the grader's fixtures (fixtureSpec), as a --spec file. */
export const FIXTURE_SPEC_JSON = {
  accuracy: { pass: 0.6, bands: [{ min: 0.4, fraction: 0.5 }] },
  timeouts: { cellSeconds: 40, notebookSeconds: 240, evaluateSeconds: 120 },
  limits: { memoryMb: 3000 },
};

/** A cell printing more lines than a cell keeps (10 000): the grader cuts it and flags output-truncated. */
const CHATTY = `for (let i = 0; i < 12000; i++) console.log('ligne', i);`;

/** The submissions: id -> its classification cells and what it is. */
export const CLUSTER_CLASS: Record<string, { cells: string[]; what: string }> = {
  ada: { cells: CLASSIFICATION_CELLS.good, what: 'good' },
  emma: { cells: CLASSIFICATION_CELLS.good, what: 'good, the same notebook as ada' },
  hugo: { cells: [...CLASSIFICATION_CELLS['random-weights'], CHATTY], what: 'random weights, prints 12 000 lines' },
};

/** The shard of each submission with N = 3 (the test checks the hash still says so). */
export const CLUSTER_SHARDS: Record<string, number> = { emma: 1, hugo: 2, ada: 3 };

/** Writes the class into `classDir` and the spec file next to it; returns the spec file's path. */
export function writeClusterClass(classDir: string, specFile = join(classDir, '..', 'bareme.json')): string {
  for (const [id, { cells }] of Object.entries(CLUSTER_CLASS)) writeSubmission(join(classDir, id), cells);
  writeFileSync(specFile, JSON.stringify(FIXTURE_SPEC_JSON));
  return specFile;
}

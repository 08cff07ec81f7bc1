/** Which notebooks `npm run lab` knows: the lab's three, then the extras found in notebooks/. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';

/** The lab itself, in the course's order. */
export const LAB_NOTEBOOKS = ['exploration', 'classification', 'test_model'];

/** The other notebooks of notebooks/ (extras beyond the lab), alphabetical; each is self-contained. */
export function extraNotebooks(folder = join(PROJECT_ROOT, 'notebooks')): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((file) => /^[^.]+\.ipynb$/.test(file))
    .map((file) => file.replace(/\.ipynb$/, ''))
    .filter((name) => !LAB_NOTEBOOKS.includes(name))
    .sort();
}


/** Where `npm run lab` writes its executed copies: reports/lab/ (quick mode: reports/lab/quick/), never notebooks/. */
export function labReportsDir(quick: boolean): string {
  return join(PROJECT_ROOT, 'reports', 'lab', ...(quick ? ['quick'] : []));
}

/** The executed copy of notebook `name` written by `npm run lab` (`--quick`: its quick-mode copy). */
export function executedCopyPath(name: string, quick: boolean): string {
  return join(labReportsDir(quick), `${name}.ipynb`);
}

/** Copies that earlier versions of `npm run lab` wrote beside the sources (notebooks/<name>.executed.ipynb, .quick.ipynb). */
export function legacyCopies(folder = join(PROJECT_ROOT, 'notebooks')): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((file) => /^[^.]+\.(executed|quick)\.ipynb$/.test(file))
    .map((file) => join(folder, file));
}

/** Which notebooks `npm run lab` knows: the lab's three, then the extras found in notebooks/. */
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
export function labReportsDir(quick: boolean, reports = join(PROJECT_ROOT, 'reports', 'lab')): string {
  return quick ? join(reports, 'quick') : reports;
}

/** The executed copy of notebook `name` written by `npm run lab` (`--quick`: its quick-mode copy). */
export function executedCopyPath(name: string, quick: boolean, reports?: string): string {
  return join(labReportsDir(quick, reports), `${name}.ipynb`);
}

/** Copies that earlier versions of `npm run lab` wrote beside the sources (notebooks/<name>.executed.ipynb, .quick.ipynb). */
export function legacyCopies(folder = join(PROJECT_ROOT, 'notebooks')): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((file) => /^[^.]+\.(executed|quick)\.ipynb$/.test(file))
    .map((file) => join(folder, file));
}

/**
 * Moves the copies earlier versions left in `folder` to their place under `reports`
 * (<name>.quick.ipynb -> quick/<name>.ipynb, <name>.executed.ipynb -> <name>.ipynb); one whose place
 * is taken by a newer copy goes to `reports`/anciennes/ rather than being lost. Returns the files moved.
 */
export function moveLegacyCopies(folder = join(PROJECT_ROOT, 'notebooks'), reports = join(PROJECT_ROOT, 'reports', 'lab')): string[] {
  const copies = legacyCopies(folder);
  for (const copy of copies) {
    const [, name, kind] = /^([^.]+)\.(executed|quick)\.ipynb$/.exec(basename(copy))!;
    let target = executedCopyPath(name, kind === 'quick', reports);
    if (existsSync(target)) target = join(reports, 'anciennes', basename(copy));
    mkdirSync(dirname(target), { recursive: true });
    renameSync(copy, target);
  }
  return copies.map((copy) => basename(copy));
}

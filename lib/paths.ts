/** Where the project keeps its data and models, resolved from this file so any working directory works. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

function findProjectRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'analyse-image') return dir;
      } catch {
        // not ours: keep climbing
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve(start, '..');
    dir = parent;
  }
}

/** The project's root folder (the one holding package.json). */
export const PROJECT_ROOT = findProjectRoot(__dirname);

/** The data folder: `datas/` unless ANALYSE_IMAGE_DATAS points elsewhere. */
export function dataDir(): string {
  return resolve(process.env.ANALYSE_IMAGE_DATAS ?? join(PROJECT_ROOT, 'datas'));
}

/** The saved-model folder: `modele/` unless ANALYSE_IMAGE_MODELE points elsewhere; `.cache/modele-quick/` in quick mode, so a quick run never replaces the real model. */
export function modelDir(): string {
  if (process.env.ANALYSE_IMAGE_MODELE) return resolve(process.env.ANALYSE_IMAGE_MODELE);
  return join(PROJECT_ROOT, ...(process.env.ANALYSE_IMAGE_QUICK === '1' ? ['.cache', 'modele-quick'] : ['modele']));
}

/**
 * The folder where the user typed `npm run <script>`: npm starts scripts at the project root and
 * says where it was typed in INIT_CWD. Only when npm runs this very script: the variables a process
 * inherits from another npm command (a test run spawning a CLI) say nothing about it.
 */
export function invocationDir(script: string): string {
  return process.env.npm_lifecycle_event === script && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();
}

/** True when `child` is `parent` or inside it (paths as given: resolve or realpath them first as needed). */
export function isInsideFolder(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

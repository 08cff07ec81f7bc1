/**
 * Preloaded into this project's tslab kernel (see scripts/setup/kernel.ts).
 * - The kernel works from the project root wherever Jupyter starts it: tslab takes its TypeScript
 *   rootDir and import base from the working directory, so notebooks import `./lib/...`, and the
 *   lab's paths (datas/, modele/, images/) are relative to the root, as in the course.
 * - tslab only loads imported TypeScript files named exactly (`./lib/backend`), not folders
 *   (`./lib/data` -> lib/data/index.ts): tsx's require hook lets Node load those.
 */
'use strict';
const path = require('node:path');
const root = path.resolve(__dirname, '..');
process.chdir(root);
require(require.resolve('tsx/cjs', { paths: [root] }));

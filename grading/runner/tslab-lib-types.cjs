/**
 * Prebuilt declarations of a notebook folder's `lib/`, for tslab kernels (loaded by tslab-preload.cjs).
 *
 * Why: tslab type-checks each cell together with the TypeScript SOURCE of every local file it
 * imports, then transpiles each of them: a cell importing the course's lib/ (48 files) spent 3.2 to
 * 3.8 s there, in every new kernel, so twice per graded submission. Against the declarations
 * (`tsc --emitDeclarationOnly` of the same files) the same cell takes 0.6 to 0.7 s, with the same
 * diagnostics for the cell (lib/ itself is type-checked by `tsc` in `npm test`). The code then runs
 * through Node's require hook for TypeScript (tsx), which already loaded lib/'s folders
 * (`./lib/data` -> lib/data/index.ts), so the kernel also keeps a single copy of each lib module.
 *
 * The declarations are keyed by a fingerprint of the sources (and of tslab's compiler): a lib/ that
 * changed, or another project's lib/, finds none and is compiled from source as before. They are
 * built by grading/runner/lib-types.ts (`npm install`, `npm start`, `npm run lab`, the grader).
 */
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

/** The project whose .cache/ holds the declarations (this file is grading/runner/ of it). */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
/** Where the declarations of each fingerprint live: <root>/<fingerprint>/lib/**.d.ts. */
const TYPES_ROOT = path.join(PROJECT_ROOT, '.cache', 'lib-types');
/** Written last into a fingerprint's folder: without it the folder is incomplete. */
const COMPLETE = 'complete.json';
/** Bump when the layout or the compiler options of the declarations change. */
const FORMAT = 1;

/** The TypeScript that the tslab installed for `fromDir` compiles cells with (its own fork of the compiler). */
function tslabTypescript(fromDir) {
  const tslabDir = path.dirname(require.resolve('tslab/package.json', { paths: [fromDir] }));
  return require(require.resolve('@tslab/typescript-for-tslab', { paths: [tslabDir] }));
}

/** The .ts sources under `libDir` (not .d.ts), relative, in a stable order. */
function sourceFiles(libDir) {
  const found = [];
  const walk = (dir, rel) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const relative = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), relative);
      else if (entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(relative);
    }
  };
  walk(libDir, '');
  return found.sort();
}

/** A hex SHA-256 of the sources' names and contents and of the compiler's version. */
function libFingerprint(libDir, compilerVersion) {
  const hash = createHash('sha256').update(`format ${FORMAT}\ntypescript ${compilerVersion}\n`);
  for (const file of sourceFiles(libDir)) hash.update(`${file}\0`).update(fs.readFileSync(path.join(libDir, file))).update('\0');
  return hash.digest('hex');
}

/** The folder holding the declarations of this fingerprint (a `lib/` inside it). */
function typesDirFor(fingerprint, typesRoot = TYPES_ROOT) {
  return path.join(typesRoot, fingerprint.slice(0, 20));
}

/**
 * Makes `ts` (tslab's compiler) see, for every .ts file under `libDir`, its prebuilt declaration
 * instead, when declarations of exactly these sources exist. Returns their folder, or undefined
 * (nothing changed). `needsRequireHook`: only when Node itself can load the .ts files at run time.
 */
function useLibTypes(ts, libDir, options = {}) {
  const { typesRoot = TYPES_ROOT, needsRequireHook = true } = options;
  if (needsRequireHook && !require.extensions['.ts']) return undefined;
  if (!ts.sys || ts.sys.__libTypes || !fs.existsSync(libDir)) return undefined;
  const typesDir = path.join(typesDirFor(libFingerprint(libDir, ts.version), typesRoot), 'lib');
  if (!fs.existsSync(path.join(typesDir, '..', COMPLETE))) return undefined;
  const prefix = libDir.endsWith(path.sep) ? libDir : libDir + path.sep;
  const sys = ts.sys;
  const { fileExists, readFile } = sys;
  const inLib = (file) => file.startsWith(prefix);
  const declaration = (file) => path.join(typesDir, file.slice(prefix.length));
  sys.fileExists = (file) => {
    if (!inLib(file)) return fileExists.call(sys, file);
    // The sources are hidden, so module resolution lands on the declaration beside them.
    if (/\.d\.ts$/.test(file)) return fileExists.call(sys, declaration(file));
    if (/\.tsx?$/.test(file)) return false;
    return fileExists.call(sys, file);
  };
  sys.readFile = (file, encoding) => (inLib(file) && /\.d\.ts$/.test(file) ? readFile.call(sys, declaration(file), encoding) : readFile.call(sys, file, encoding));
  sys.__libTypes = typesDir;
  return typesDir;
}

module.exports = { COMPLETE, TYPES_ROOT, libFingerprint, sourceFiles, tslabTypescript, typesDirFor, useLibTypes };

/**
 * Builds the declarations tslab kernels type-check lib/ against (see tslab-lib-types.cjs for why):
 * lib/'s sources compiled with tslab's own compiler and tslab's own options, declarations only,
 * into .cache/lib-types/<fingerprint>/, written to a temporary folder and renamed into place.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';

/** The runtime half, shared with the kernel's preload (plain CommonJS: it runs before any TypeScript loader). */
interface LibTypesRuntime {
  COMPLETE: string;
  TYPES_ROOT: string;
  libFingerprint(libDir: string, compilerVersion: string): string;
  sourceFiles(libDir: string): string[];
  tslabTypescript(fromDir: string): unknown;
  typesDirFor(fingerprint: string, typesRoot?: string): string;
  useLibTypes(ts: unknown, libDir: string, options?: { typesRoot?: string; needsRequireHook?: boolean }): string | undefined;
}
const runtime = require('./tslab-lib-types.cjs') as LibTypesRuntime;

/** Where the declarations are kept: .cache/lib-types/ of the project. */
export const LIB_TYPES_ROOT: string = runtime.TYPES_ROOT;

/** The subset of TypeScript's API used here (tslab's fork, @tslab/typescript-for-tslab, ships no types of its own we can import). */
type Ts = typeof import('typescript');

/** tslab's compiler: the TypeScript its kernels compile cells with. */
export function tslabTypescript(): Ts {
  return runtime.tslabTypescript(PROJECT_ROOT) as Ts;
}

/** What ensureLibTypes found or did. */
export interface LibTypes {
  /** The folder whose lib/ holds the declarations. */
  dir: string;
  /** True when they were built now, false when they were already there. */
  built: boolean;
  /** Declaration files in it. */
  files: number;
}

/** Makes sure the declarations of `libDir` as it is now exist under `typesRoot`; builds them (a few seconds) when not. */
export function ensureLibTypes(libDir: string = join(PROJECT_ROOT, 'lib'), typesRoot: string = runtime.TYPES_ROOT): LibTypes {
  const ts = tslabTypescript();
  const fingerprint = runtime.libFingerprint(libDir, ts.version);
  const dir = runtime.typesDirFor(fingerprint, typesRoot);
  try {
    const complete = JSON.parse(readFileSync(join(dir, runtime.COMPLETE), 'utf8')) as { files: number };
    return { dir, built: false, files: complete.files };
  } catch {
    // not built yet (or half-built by a process that died): build it below
  }
  const sources = runtime.sourceFiles(libDir).map((file) => join(libDir, file));
  const temporary = join(typesRoot, `.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(temporary, { recursive: true });
  try {
    const files = emitDeclarations(ts, libDir, sources, join(temporary, 'lib'));
    writeFileSync(join(temporary, runtime.COMPLETE), `${JSON.stringify({ libDir, fingerprint, typescript: ts.version, files, builtAt: new Date().toISOString() }, null, 2)}\n`);
    try {
      renameSync(temporary, dir);
    } catch (error) {
      // Another process put the same declarations in place first: theirs are as good.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    removeOutdated(typesRoot, libDir, dir);
    return { dir, built: true, files };
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}

/** Removes the declarations built earlier for `libDir`'s older contents (other folders' are kept). */
function removeOutdated(typesRoot: string, libDir: string, current: string): void {
  for (const name of readdirSync(typesRoot)) {
    const dir = join(typesRoot, name);
    if (dir === current || name.startsWith('.tmp-')) continue;
    try {
      if ((JSON.parse(readFileSync(join(dir, runtime.COMPLETE), 'utf8')) as { libDir?: string }).libDir !== libDir) continue;
    } catch {
      continue;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Compiles `sources` (under `libDir`) to declarations in `outDir` with tslab's options; throws on any compiler error. */
function emitDeclarations(ts: Ts, libDir: string, sources: string[], outDir: string): number {
  const cwd = dirname(libDir);
  // The options tslab's converter gives its watch program (tslab/dist/converter.js), declarations only.
  const options: import('typescript').CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2020,
    lib: ['lib.es2020.d.ts'],
    experimentalDecorators: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    typeRoots: (ts as unknown as { getDefaultTypeRoots(dir: string, host: { directoryExists: (path: string) => boolean }): string[] | undefined }).getDefaultTypeRoots(cwd, { directoryExists: ts.sys.directoryExists }),
    declaration: true,
    emitDeclarationOnly: true,
    rootDir: libDir,
    outDir,
  };
  const program = ts.createProgram(sources, options);
  let files = 0;
  const emitted = program.emit(undefined, (file, text) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    files++;
  });
  const errors = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    const shown = errors.slice(0, 5).map((d) => {
      const where = d.file ? `${relative(PROJECT_ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : '';
      return `  ${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    throw new Error(`Les déclarations de ${relative(PROJECT_ROOT, libDir) || libDir}/ pour le noyau tslab n'ont pas pu être produites (${errors.length} erreur(s) du compilateur de tslab) :\n${shown.join('\n')}\nCorrigez ces erreurs (npx tsc --noEmit -p . les montre aussi), puis relancez.`);
  }
  return files;
}

/** Makes tslab's compiler in this process read `libDir`'s declarations, when they are up to date (see tslab-lib-types.cjs). */
export function useLibTypesInProcess(libDir: string = join(PROJECT_ROOT, 'lib'), typesRoot: string = runtime.TYPES_ROOT): string | undefined {
  return runtime.useLibTypes(tslabTypescript(), libDir, { typesRoot, needsRequireHook: false });
}

/** ensureLibTypes for the project's lib/, saying in one French line what it did (the set-up and the commands that start kernels). */
export function ensureProjectLibTypes(say: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): LibTypes {
  const started = Date.now();
  const types = ensureLibTypes();
  if (types.built) say(`Déclarations de lib/ pour le noyau tslab : ${types.files} fichiers dans ${relative(PROJECT_ROOT, types.dir)}/ en ${((Date.now() - started) / 1000).toFixed(1)} s (chaque notebook démarre ainsi plus vite).`);
  return types;
}

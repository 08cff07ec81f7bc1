/**
 * Zip files read safely (yauzl) and written (yazl). Reading never lets an entry leave the
 * extraction folder (no `..`, no absolute path), never creates a symbolic link or a special file,
 * and refuses zip bombs before writing anything: too many entries, too many bytes once unpacked,
 * an entry (or the whole zip) that unpacks to far more than it weighs. The sizes a zip announces
 * are checked again while unpacking (yauzl's validateEntrySizes), so a lying header is caught too.
 * Every refusal is a French sentence naming the zip and the entry.
 */
import { closeSync, constants, createWriteStream, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';
import { temporaryPathFor } from '../../lib/io/atomic';
import { isInsideFolder } from '../../lib/paths';

/** How much one zip may unpack to. */
export interface ZipLimits {
  /** Entries (files and folders) in the zip. */
  maxEntries: number;
  /** Bytes of all entries once unpacked. */
  maxTotalBytes: number;
  /** Bytes of one entry once unpacked. */
  maxEntryBytes: number;
  /** Unpacked size over packed size, for an entry (or the whole zip) of at least `ratioMinBytes` unpacked. */
  maxRatio: number;
  /** Below this unpacked size, an entry's ratio is not checked (a small file of zeros packs to almost nothing). */
  ratioMinBytes: number;
}

/** The default limits: generous for a class (100 students with their models), far below what a zip bomb unpacks to. */
export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 20_000,
  maxTotalBytes: 4 * 1024 ** 3,
  maxEntryBytes: 1024 ** 3,
  maxRatio: 200,
  ratioMinBytes: 1024 ** 2,
};

/** A zip refused, or unreadable; the message (French) names the zip and, when there is one, the entry. */
export class ZipRefusedError extends Error {
  constructor(
    message: string,
    /** The zip, as shown to the user. */
    readonly zip: string,
    /** The entry at fault, when there is one. */
    readonly entry?: string,
  ) {
    super(message);
  }
}

/** What an extraction wrote. */
export interface Extracted {
  /** Files written, relative to the destination, `/`-separated. */
  files: string[];
  /** Bytes written. */
  bytes: number;
  /** Entries left out on purpose (macOS resource forks in `__MACOSX/`). */
  skipped: string[];
}

/** Bytes in French binary units, as file managers show them: 4 Go, 1,5 Mo. */
function size(bytes: number): string {
  const [unit, value] = bytes >= 1024 ** 3 ? ['Go', bytes / 1024 ** 3] : bytes >= 1024 ** 2 ? ['Mo', bytes / 1024 ** 2] : ['ko', bytes / 1024];
  return `${(value as number).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} ${unit}`;
}

/** The Unix file type bits of an entry, when the zip was made on a system that records them. */
function unixType(entry: yauzl.Entry): number {
  return (entry.externalFileAttributes >>> 16) & 0o170000;
}

/** Why an entry name cannot be unpacked, or undefined when it can (names already decoded, `\` turned into `/`). */
function unsafeName(name: string): string | undefined {
  if (name.includes('\0')) return 'un nom qui contient un caractère nul';
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return 'un chemin absolu';
  if (name.split('/').includes('..')) return 'un chemin qui sort du dossier d’extraction (..)';
  if (name.split('/').some((part) => Buffer.byteLength(part) > 255)) return 'un nom de plus de 255 octets';
  return undefined;
}

/** True for entries nobody wants unpacked: the AppleDouble files macOS's archiver adds. */
function isJunk(name: string): boolean {
  return name === '__MACOSX' || name.startsWith('__MACOSX/');
}

/** Opens a zip with names left undecoded (they are decoded and checked here, in French). */
async function openZip(path: string, shown: string): Promise<yauzl.ZipFile> {
  try {
    return await new Promise<yauzl.ZipFile>((done, fail) =>
      yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: false }, (error, zip) => (error ? fail(error) : done(zip))),
    );
  } catch (error) {
    throw new ZipRefusedError(`${shown} n’est pas un zip lisible (${(error as Error).message}).`, shown);
  }
}

/** Every entry of the central directory, names decoded (UTF-8 flag or CP437, Info-ZIP Unicode path) with `\` read as `/`. */
async function readEntries(zip: yauzl.ZipFile, shown: string): Promise<{ entry: yauzl.Entry; name: string }[]> {
  const entries: { entry: yauzl.Entry; name: string }[] = [];
  await new Promise<void>((done, fail) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      entries.push({ entry, name });
      zip.readEntry();
    });
    zip.on('end', () => done());
    zip.on('error', (error: Error) => fail(new ZipRefusedError(`${shown} est endommagé (${error.message}).`, shown)));
    zip.readEntry();
  });
  return entries;
}

/** Budget shared by several extractions (a class zip, then the zips students uploaded inside it). */
export interface ZipBudget {
  /** Bytes still allowed. */
  bytes: number;
  /** Entries still allowed. */
  entries: number;
}

/** A fresh budget from limits. */
export function zipBudget(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipBudget {
  return { bytes: limits.maxTotalBytes, entries: limits.maxEntries };
}

/**
 * Checks every entry of an open zip against the limits, before anything is written: names, types
 * (no link, no device), count, sizes and ratios. Throws a ZipRefusedError naming the first entry at fault.
 */
function checkEntries(entries: { entry: yauzl.Entry; name: string }[], zipBytes: number, shown: string, limits: ZipLimits, budget: ZipBudget): void {
  const maxEntries = Math.min(limits.maxEntries, budget.entries);
  if (entries.length > maxEntries) {
    throw new ZipRefusedError(`${shown} contient ${entries.length.toLocaleString('fr-FR')} entrées, plus que les ${maxEntries.toLocaleString('fr-FR')} acceptées (zip piégé ?) : refusé.`, shown);
  }
  const maxTotal = Math.min(limits.maxTotalBytes, budget.bytes);
  let total = 0;
  for (const { entry, name } of entries) {
    const problem = unsafeName(name);
    if (problem) throw new ZipRefusedError(`${shown} contient ${problem} : « ${name} ». Rien n’a été extrait.`, shown, name);
    const type = unixType(entry);
    const isDir = name.endsWith('/');
    if (type === 0o120000) throw new ZipRefusedError(`${shown} contient un lien symbolique : « ${name} ». Les liens ne sont jamais créés ; rien n’a été extrait.`, shown, name);
    if (type !== 0 && type !== 0o100000 && type !== 0o040000) throw new ZipRefusedError(`${shown} contient un fichier spécial (ni fichier ni dossier) : « ${name} ». Rien n’a été extrait.`, shown, name);
    if (isDir) continue;
    if (entry.isEncrypted()) throw new ZipRefusedError(`${shown} contient un fichier chiffré : « ${name} ». Déposez un zip sans mot de passe.`, shown, name);
    if (entry.uncompressedSize > limits.maxEntryBytes) {
      throw new ZipRefusedError(`${shown} : « ${name} » ferait ${size(entry.uncompressedSize)} une fois extrait, plus que les ${size(limits.maxEntryBytes)} acceptés par fichier (zip piégé ?) : refusé.`, shown, name);
    }
    if (entry.uncompressedSize >= limits.ratioMinBytes && entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)) {
      const ratio = Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize));
      throw new ZipRefusedError(`${shown} : « ${name} » se décompresse ${ratio.toLocaleString('fr-FR')} fois plus gros qu’il n’est compressé (au plus ${limits.maxRatio} acceptés : zip piégé ?) : refusé.`, shown, name);
    }
    total += entry.uncompressedSize;
    if (total > maxTotal) {
      throw new ZipRefusedError(`${shown} ferait plus de ${size(maxTotal)} une fois extrait (au moins jusqu’à « ${name} ») : refusé (zip piégé ?). Pour une très grande classe, décompressez le zip vous-même et donnez le dossier.`, shown, name);
    }
  }
  if (total >= limits.ratioMinBytes && total > limits.maxRatio * Math.max(1, zipBytes)) {
    throw new ZipRefusedError(`${shown} se décompresse en ${size(total)}, ${Math.round(total / Math.max(1, zipBytes)).toLocaleString('fr-FR')} fois sa taille (au plus ${limits.maxRatio} acceptés : zip piégé ?) : refusé.`, shown);
  }
}

/** Creates a folder chain under `root`, refusing to go through anything that is not a real folder. */
function makeFolders(root: string, target: string): void {
  let current = root;
  for (const part of relative(root, target).split(sep).filter(Boolean)) {
    current = join(current, part);
    let stat;
    try {
      stat = lstatSync(current);
    } catch {
      mkdirSync(current, { mode: 0o755 });
      continue;
    }
    if (!stat.isDirectory()) throw new Error(`${current} existe déjà et n’est pas un dossier`);
  }
}

/** Options of extractZip. */
export interface ExtractOptions {
  /** The zip's name in messages (default: its file name). */
  shownName?: string;
  limits?: ZipLimits;
  /** Shared with other extractions; decreased by what this one writes. */
  budget?: ZipBudget;
}

/**
 * Unpacks `zipPath` into `destDir` (created if needed; must not already hold the entries): checks
 * every entry first, then writes regular files and folders only, each file created new (O_EXCL,
 * O_NOFOLLOW), counting bytes as they arrive. The zip itself is only read. Throws ZipRefusedError.
 */
export async function extractZip(zipPath: string, destDir: string, options: ExtractOptions = {}): Promise<Extracted> {
  const shown = options.shownName ?? basename(zipPath);
  const limits = options.limits ?? DEFAULT_ZIP_LIMITS;
  const budget = options.budget ?? zipBudget(limits);
  const root = resolve(destDir);
  mkdirSync(root, { recursive: true });
  const zip = await openZip(zipPath, shown);
  try {
    const entries = await readEntries(zip, shown);
    checkEntries(entries, statSync(zipPath).size, shown, limits, budget);
    budget.entries -= entries.length;
    const result: Extracted = { files: [], bytes: 0, skipped: [] };
    for (const { entry, name } of entries) {
      if (isJunk(name)) {
        result.skipped.push(name);
        continue;
      }
      const target = resolve(root, ...name.split('/').filter(Boolean));
      if (target === root) continue; // "./"
      if (!isInsideFolder(target, root)) {
        throw new ZipRefusedError(`${shown} contient un chemin qui sort du dossier d’extraction : « ${name} ». Rien de plus n’a été extrait.`, shown, name);
      }
      try {
        if (name.endsWith('/')) {
          makeFolders(root, target);
          continue;
        }
        makeFolders(root, dirname(target));
        const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
        let written = 0;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            written += chunk.length;
            if (written > entry.uncompressedSize || result.bytes + written > budget.bytes) callback(new Error(`plus d’octets que les ${entry.uncompressedSize} annoncés`));
            else callback(null, chunk);
          },
        });
        const input = await new Promise<NodeJS.ReadableStream>((done, fail) => zip.openReadStream(entry, (error, stream) => (error ? fail(error) : done(stream))));
        await pipeline(input, counter, createWriteStream('', { fd, autoClose: true }));
        result.bytes += written;
        result.files.push(name);
      } catch (error) {
        if (error instanceof ZipRefusedError) throw error;
        const message = (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'deux entrées portent ce nom' : (error as Error).message;
        throw new ZipRefusedError(`${shown} : impossible d’extraire « ${name} » (${message}).`, shown, name);
      }
    }
    budget.bytes -= result.bytes;
    return result;
  } finally {
    zip.close();
  }
}

/** True when the file starts like a zip (local header, or the end record of an empty zip). */
export function looksLikeZip(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    return n === 4 && head[0] === 0x50 && head[1] === 0x4b && [0x0304, 0x0506, 0x0708].includes((head[2] << 8) | head[3]);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** One file to put in a zip: its path inside (`/`-separated) and its bytes. */
export interface ZipEntryInput {
  name: string;
  data: Buffer | string;
}

/** Writes a zip of the given entries (deflated, UTF-8 names), atomically: a temporary file renamed over `path`. */
export async function writeZip(path: string, entries: readonly ZipEntryInput[], mtime = new Date()): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const { name, data } of entries) zip.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), name, { mtime, mode: 0o100644 });
  zip.end();
  const temporary = temporaryPathFor(path);
  try {
    await pipeline(zip.outputStream, createWriteStream(temporary, { mode: 0o644 }));
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

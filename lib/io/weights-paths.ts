/**
 * The weights files a model.json names must be plain files of the model folder: a hostile
 * `weightsManifest` must not make us read a classmate's weights (`../../autre/modele/...`), a
 * system file (`/etc/...`), a link out of the folder, or a device or FIFO that never ends.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { io as tfio } from '@tensorflow/tfjs-core';

/** One group of a model.json's `weightsManifest`, once its shape is checked. */
export interface WeightsGroup {
  readonly paths: string[];
  readonly weights: tfio.WeightsManifestEntry[];
}

/** A weights file opened by `openWeightsFile`: to read with `readOpenedFile`, then close. */
export interface OpenedWeightsFile {
  /** The path as the model.json writes it. */
  readonly path: string;
  readonly fd: number;
  /** Its size from fstat on the open descriptor (not a second look-up that could see another file). */
  readonly bytes: number;
}

/** Names and advice the French messages use. */
export interface ManifestNames {
  /** The model.json as the user knows it (e.g. modele/modele.json). */
  readonly json: string;
  /** The model folder as the user knows it (e.g. modele). */
  readonly folder: string;
}

const AGAIN = 'Sauvegardez le modèle à nouveau (saveModel).';

/** The value as the JSON writes it: backslashes, NUL and quotes stay visible instead of garbling the message. */
function asWritten(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value).slice(1, -1);
  return JSON.stringify(value) ?? String(value);
}

function refused(names: ManifestNames, path: unknown, reason: string): Error {
  return new Error(
    `${names.json} : le chemin de poids « ${asWritten(path)} » ${reason} ; les poids doivent être des fichiers ` +
      `du dossier ${names.folder}/. ${AGAIN}`,
  );
}

function malformed(names: ManifestNames, detail: string): Error {
  return new Error(`${names.json} : « weightsManifest » mal formé (${detail}). ${AGAIN}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a model.json's `weightsManifest` is a list of { paths: string[], weights: tensor specs }; throws a French error otherwise. */
export function checkedManifest(manifest: unknown, names: ManifestNames): WeightsGroup[] {
  if (manifest === undefined || manifest === null) {
    throw new Error(`${names.json} n'a pas de « weightsManifest » : les poids du modèle ne sont pas décrits. ${AGAIN}`);
  }
  if (!Array.isArray(manifest)) throw malformed(names, 'une liste de groupes { paths, weights } est attendue');
  return manifest.map((group: unknown, g) => {
    const where = `groupe ${g + 1}`;
    if (!isRecord(group)) throw malformed(names, `le ${where} n'est pas un objet { paths, weights }`);
    if (!Array.isArray(group.paths)) throw malformed(names, `« paths » du ${where} doit être une liste de noms de fichiers`);
    if (!Array.isArray(group.weights)) throw malformed(names, `« weights » du ${where} doit être une liste de tenseurs`);
    for (const path of group.paths) checkWeightsPath(path, names);
    group.weights.forEach((spec: unknown, t) => {
      const valid =
        isRecord(spec) &&
        typeof spec.name === 'string' &&
        typeof spec.dtype === 'string' &&
        Array.isArray(spec.shape) &&
        spec.shape.every((n) => Number.isSafeInteger(n) && (n as number) >= 0) &&
        (spec.quantization === undefined || (isRecord(spec.quantization) && typeof spec.quantization.dtype === 'string'));
      if (!valid) {
        const label = isRecord(spec) && typeof spec.name === 'string' ? ` (${spec.name})` : '';
        throw malformed(names, `le tenseur ${t + 1}${label} du ${where} n'a pas de « name », « dtype » et « shape » (liste d'entiers positifs ou nuls) valides`);
      }
    });
    return { paths: group.paths as string[], weights: group.weights as tfio.WeightsManifestEntry[] };
  });
}

/**
 * Refuses a manifest path that is not a bare file name of the model folder. Sub-folders are refused
 * too: every writer (saveModel, tensorflowjs_converter, scripts/keras_to_tfjs.py) puts the weights
 * next to model.json, and a bare name leaves nothing to resolve, so no `..` or link in a middle
 * segment can lead out and the grader's size limit, which counts the folder's own files, sees them all.
 */
export function checkWeightsPath(path: unknown, names: ManifestNames): asserts path is string {
  if (typeof path !== 'string') throw refused(names, path, "n'est pas un nom de fichier (texte attendu)");
  if (path === '') throw refused(names, path, 'est vide');
  if (path.includes('\0')) throw refused(names, path, 'contient un caractère nul');
  if (path.includes('\\')) throw refused(names, path, 'contient une barre oblique inverse « \\ »');
  if (path.startsWith('/')) throw refused(names, path, 'est un chemin absolu et sort du dossier du modèle');
  if (path.split('/').includes('..')) throw refused(names, path, 'sort du dossier du modèle');
  if (path.includes('/')) throw refused(names, path, 'contient « / » : seul un nom de fichier du dossier est accepté, sans sous-dossier');
  if (path === '.') throw refused(names, path, 'ne nomme pas un fichier');
}

/** Why `stats` is not a regular file, in French (a link, a folder, a FIFO...), or undefined when it is one. */
export function notPlain(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isSymbolicLink()) return 'est un lien symbolique (un lien peut mener hors du dossier : il n’est pas suivi)';
  if (stats.isDirectory()) return 'est un dossier, pas un fichier';
  if (stats.isFIFO()) return 'est un tube nommé (FIFO), pas un fichier ordinaire';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'est un périphérique, pas un fichier ordinaire';
  if (stats.isSocket()) return 'est une socket, pas un fichier ordinaire';
  return "n'est pas un fichier ordinaire";
}

/**
 * Opens one weights file of `folder` (a path `checkWeightsPath` accepted) after checking it is a
 * regular file and not a link; the caller compares the sizes before reading and closes the descriptor.
 */
export function openWeightsFile(folder: string, path: string, names: ManifestNames): OpenedWeightsFile {
  checkWeightsPath(path, names);
  const file = join(folder, path);
  let before: Stats;
  try {
    before = lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${names.folder}/${path} introuvable : ${names.json} y attend les poids du modèle. ${AGAIN}`);
    }
    throw error;
  }
  // lstat first, so a device or FIFO is never even opened (opening some devices has effects).
  const reason = notPlain(before);
  if (reason) throw refused(names, path, reason);
  let fd: number;
  try {
    // O_NOFOLLOW and O_NONBLOCK: if the file was swapped for a link or a FIFO since lstat, open
    // fails or returns at once, and fstat on the descriptor below is the check that counts.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw refused(names, path, notPlain(lstatSync(file)) ?? 'est un lien symbolique');
    if (code === 'ENOENT') throw new Error(`${names.folder}/${path} introuvable : ${names.json} y attend les poids du modèle. ${AGAIN}`);
    throw error;
  }
  const stats = fstatSync(fd);
  const late = notPlain(stats);
  if (late) {
    closeSync(fd);
    throw refused(names, path, late);
  }
  return { path, fd, bytes: stats.size };
}

/** Reads exactly `bytes` from an open descriptor (never more, whatever the file has grown to); fails if it ends sooner. */
export function readOpenedFile(fd: number, bytes: number, shownName: string): Buffer {
  const buffer = Buffer.allocUnsafe(bytes);
  let offset = 0;
  while (offset < bytes) {
    const read = readSync(fd, buffer, offset, bytes - offset, offset);
    if (read === 0) throw new Error(`${shownName} a raccourci pendant la lecture (${offset} octets lus sur ${bytes}). ${AGAIN}`);
    offset += read;
  }
  return buffer;
}

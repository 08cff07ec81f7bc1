/**
 * `.keras` files: the zip Keras 3's `model.save("x.keras")` writes (`metadata.json`, `config.json`,
 * `model.weights.h5`), read in memory with yauzl (nothing is ever extracted to disk) and written
 * with yazl. Entries must be plain names of the archive's top level; each one's declared size is
 * bounded before it is inflated, and yauzl checks the inflated size against that declaration.
 */
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';
import { MAX_H5_BYTES } from './h5';

/** Largest `.keras` file read. */
export const MAX_KERAS_ZIP_BYTES = MAX_H5_BYTES + 64 * 1024 * 1024;
/** Largest config.json / metadata.json inside a `.keras`. */
export const MAX_KERAS_JSON_BYTES = 64 * 1024 * 1024;
/** Most entries in a `.keras` (Keras writes three, plus assets for a few layers). */
export const MAX_KERAS_ENTRIES = 1000;

/** Entry names of a `.keras`. */
export const KERAS_CONFIG = 'config.json';
export const KERAS_METADATA = 'metadata.json';
export const KERAS_WEIGHTS = 'model.weights.h5';

/** The three members of a `.keras` file, read. */
export interface KerasArchive {
  config: string;
  metadata?: string;
  weights: Uint8Array;
}

const LIMITS: Record<string, number> = { [KERAS_CONFIG]: MAX_KERAS_JSON_BYTES, [KERAS_METADATA]: 1024 * 1024, [KERAS_WEIGHTS]: MAX_H5_BYTES };

/** Why an entry name is refused, or undefined when it is a plain name (assets/ sub-folders allowed, never `..`). */
function badEntryName(entry: string): string | undefined {
  if (entry.includes('\0')) return 'contient un caractère nul';
  if (entry.includes('\\')) return 'contient une barre oblique inverse « \\ »';
  if (entry.startsWith('/') || /^[A-Za-z]:/.test(entry)) return 'est un chemin absolu';
  if (entry.split('/').includes('..')) return 'remonte hors de l’archive (« .. »)';
  return undefined;
}

function open(bytes: Uint8Array): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { lazyEntries: true, validateEntrySizes: true, decodeStrings: true, strictFileNames: true }, (error, zip) => (error || !zip ? reject(error) : resolve(zip))),
  );
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) return reject(error);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    }),
  );
}

/**
 * Reads a `.keras` archive held in `bytes` (named `name` in messages): config.json and
 * model.weights.h5 required, metadata.json optional, other entries ignored unread. Throws a French
 * error for a damaged zip, an entry name leaving the archive, or an entry declaring too many bytes.
 */
export async function readKerasArchive(bytes: Uint8Array, name: string): Promise<KerasArchive> {
  let zip: yauzl.ZipFile;
  try {
    zip = await open(bytes);
  } catch (error) {
    throw new Error(`${name} n'est pas une archive .keras lisible (zip attendu : ${(error as Error).message}). Enregistrez le modèle à nouveau (model.save("modele.keras")).`);
  }
  const found: Record<string, Buffer> = {};
  try {
    await new Promise<void>((resolve, reject) => {
      let count = 0;
      const fail = (message: string) => {
        zip.close();
        reject(new Error(message));
      };
      zip.on('error', (error: Error) => {
        const bad = /invalid relative path|absolute path|invalid characters/.exec(error.message);
        fail(bad ? `${name} contient une entrée au nom refusé (${error.message}) : une archive .keras ne doit contenir que des fichiers de son dossier.` : `${name} : archive zip endommagée (${error.message}).`);
      });
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        if (++count > MAX_KERAS_ENTRIES) return fail(`${name} contient plus de ${MAX_KERAS_ENTRIES} entrées : ce n'est pas un modèle Keras.`);
        const reason = badEntryName(entry.fileName);
        if (reason) return fail(`${name} : l'entrée « ${entry.fileName} » ${reason} ; une archive .keras ne doit contenir que des fichiers de son dossier.`);
        const limit = LIMITS[entry.fileName];
        if (limit === undefined || entry.fileName.endsWith('/')) return zip.readEntry();
        if (entry.uncompressedSize > limit) {
          return fail(`${name} : l'entrée « ${entry.fileName} » annonce ${entry.uncompressedSize} octets une fois décompressée, plus que les ${limit} permis : refusée sans être lue.`);
        }
        if (found[entry.fileName]) return fail(`${name} : l'entrée « ${entry.fileName} » y figure deux fois.`);
        readEntry(zip, entry).then(
          (data) => {
            found[entry.fileName] = data;
            zip.readEntry();
          },
          (error: Error) => fail(`${name} : l'entrée « ${entry.fileName} » ne se décompresse pas (${error.message}).`),
        );
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  for (const required of [KERAS_CONFIG, KERAS_WEIGHTS]) {
    if (!found[required]) throw new Error(`${name} n'a pas d'entrée « ${required} » : ce n'est pas un modèle enregistré par Keras 3 (model.save("modele.keras")).`);
  }
  return { config: found[KERAS_CONFIG].toString('utf8'), metadata: found[KERAS_METADATA]?.toString('utf8'), weights: new Uint8Array(found[KERAS_WEIGHTS]) };
}

/** The bytes of a `.keras` archive holding the three members, in Keras' order. */
export function writeKerasArchive(archive: KerasArchive): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const mtime = new Date(1980, 0, 1);
  zip.addBuffer(Buffer.from(archive.metadata ?? '{}', 'utf8'), KERAS_METADATA, { mtime });
  zip.addBuffer(Buffer.from(archive.config, 'utf8'), KERAS_CONFIG, { mtime });
  zip.addBuffer(Buffer.from(archive.weights), KERAS_WEIGHTS, { mtime, compress: false });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

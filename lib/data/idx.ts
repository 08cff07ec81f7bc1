/** Reader of the IDX format (the official MNIST and Fashion-MNIST files), plain or gzipped. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { basename } from 'node:path';
import { IMAGE_PIXELS } from './classes';
import type { LabelledImages } from './images';

/** An IDX array of unsigned bytes with its dimensions, e.g. [60000, 28, 28]. */
export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

/** Parses IDX bytes (already gunzipped); `name` is used in error messages. */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${name}: not an IDX file (bad magic number). Delete it and rerun \`npm install\` to rebuild the data.`);
  }
  if (bytes[2] !== 0x08) {
    throw new Error(`${name}: IDX element type 0x${bytes[2].toString(16)} is not supported (only unsigned bytes, 0x08).`);
  }
  const rank = bytes[3];
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) throw new Error(`${name}: truncated IDX header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual !== expected) {
    throw new Error(
      `${name}: IDX file is ${actual < expected ? 'truncated' : 'too long'} (header announces ${expected} values, file holds ${actual}). ` +
        'Delete it and rerun `npm install` to rebuild the data.',
    );
  }
  return { dims, data: bytes.subarray(headerLength) };
}

/** Reads an IDX file from disk; files ending in `.gz` are gunzipped first. */
export function readIdx(file: string): IdxArray {
  let bytes: Uint8Array = readFileSync(file);
  if (file.endsWith('.gz')) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new Error(`${file}: corrupt gzip data (${(error as Error).message}). Delete it and rerun \`npm install\`.`);
    }
  }
  return parseIdx(bytes, basename(file));
}

/** Reads a pair of IDX files (images [n,28,28] and labels [n]) into a labelled image set. */
export function readIdxPair(imagesFile: string, labelsFile: string): LabelledImages {
  const images = readIdx(imagesFile);
  const labels = readIdx(labelsFile);
  if (images.dims.length !== 3 || images.dims[1] * images.dims[2] !== IMAGE_PIXELS) {
    throw new Error(`${imagesFile}: expected images of shape [n, 28, 28], found [${images.dims.join(', ')}].`);
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new Error(`${labelsFile}: expected ${images.dims[0]} labels to match ${basename(imagesFile)}, found [${labels.dims.join(', ')}].`);
  }
  return { count: images.dims[0], labels: labels.data, pixels: images.data };
}

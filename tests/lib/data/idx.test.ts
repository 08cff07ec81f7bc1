import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseIdx, readIdx, readIdxPair } from '../../../lib/data/idx';
import { temporaryFolder } from '../../helpers/fixtures';

function idxBytes(dims: number[], fill: (i: number) => number): Buffer {
  const count = dims.reduce((a, b) => a * b, 1);
  const buffer = Buffer.alloc(4 + 4 * dims.length + count);
  buffer[2] = 0x08;
  buffer[3] = dims.length;
  dims.forEach((d, i) => buffer.writeUInt32BE(d, 4 + 4 * i));
  for (let i = 0; i < count; i++) buffer[4 + 4 * dims.length + i] = fill(i);
  return buffer;
}

describe('IDX reader', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  it('reads dimensions and bytes, plain or gzipped', () => {
    const bytes = idxBytes([3, 28, 28], (i) => i % 251);
    writeFileSync(join(dir, 'images'), bytes);
    writeFileSync(join(dir, 'images.gz'), gzipSync(bytes));
    for (const file of ['images', 'images.gz']) {
      const idx = readIdx(join(dir, file));
      expect(idx.dims).toEqual([3, 28, 28]);
      expect(idx.data.length).toBe(3 * 784);
      expect(idx.data[300]).toBe(300 % 251);
    }
  });

  it('pairs images with labels', () => {
    writeFileSync(join(dir, 'i'), idxBytes([2, 28, 28], () => 5));
    writeFileSync(join(dir, 'l'), idxBytes([2], (i) => i + 3));
    const set = readIdxPair(join(dir, 'i'), join(dir, 'l'));
    expect(set.count).toBe(2);
    expect(Array.from(set.labels)).toEqual([3, 4]);
  });

  it('rejects a label count that does not match the images', () => {
    writeFileSync(join(dir, 'i3'), idxBytes([3, 28, 28], () => 0));
    writeFileSync(join(dir, 'l2'), idxBytes([2], () => 0));
    expect(() => readIdxPair(join(dir, 'i3'), join(dir, 'l2'))).toThrow(/l2: expected 3 labels/);
  });

  it('detects truncation, a bad magic number and corrupt gzip', () => {
    const bytes = idxBytes([10], () => 1);
    expect(() => parseIdx(bytes.subarray(0, bytes.length - 2), 'labels')).toThrow(/labels: IDX file is truncated \(header announces 10 values, file holds 8\)/);
    expect(() => parseIdx(Buffer.from('PK\u0003\u0004'), 'zip')).toThrow(/zip: not an IDX file/);
    writeFileSync(join(dir, 'broken.gz'), Buffer.from('not gzip at all'));
    expect(() => readIdx(join(dir, 'broken.gz'))).toThrow(/broken\.gz: corrupt gzip data/);
  });
});

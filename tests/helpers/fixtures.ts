/** Small fixtures the tests make themselves: temporary folders and synthetic image sets. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabelledImages } from '../../lib/data/images';

/** A fresh temporary folder, removed by the returned cleanup function. */
export function temporaryFolder(prefix = 'analyse-image-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `count` deterministic images: image i has label i % 10 and pixel p = (i * 7 + p) % 256. */
export function syntheticImages(count: number): LabelledImages {
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * 784);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    for (let p = 0; p < 784; p++) pixels[i * 784 + p] = (i * 7 + p) % 256;
  }
  return { count, labels, pixels };
}

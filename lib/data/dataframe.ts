/** A danfojs DataFrame view of an image set, for exploring the data as the course does with pandas. */
import type { DataFrame } from 'danfojs-node';
import { loadNativeTf } from '../backend';
import { CSV_HEADER } from './csv';
import { IMAGE_PIXELS } from './classes';
import type { LabelledImages } from './images';

/**
 * A DataFrame with the course's columns (`label`, `pixel1` ... `pixel784`), built from the fast
 * loader's bytes; `rows` limits it to the first rows (a full 60 000-row frame is slow in danfojs).
 */
export function toDataFrame(set: LabelledImages, rows: number = set.count): DataFrame {
  loadNativeTf(); // danfojs loads tfjs-node: make sure it is the native one, configured.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const danfo = require('danfojs-node') as typeof import('danfojs-node');
  const count = Math.min(rows, set.count);
  const columns = CSV_HEADER.split(',');
  const data: number[][] = new Array(count);
  for (let r = 0; r < count; r++) {
    const row = new Array<number>(IMAGE_PIXELS + 1);
    row[0] = set.labels[r];
    const base = r * IMAGE_PIXELS;
    for (let p = 0; p < IMAGE_PIXELS; p++) row[p + 1] = set.pixels[base + p];
    data[r] = row;
  }
  return new danfo.DataFrame(data, { columns });
}

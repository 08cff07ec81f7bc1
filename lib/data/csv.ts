/** The course's CSV layout (Kaggle's Fashion-MNIST): `label,pixel1,...,pixel784`, one image per row. */
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { IMAGE_PIXELS } from './classes';
import type { LabelledImages } from './images';

/** The header line of the course's CSV files. */
export const CSV_HEADER = ['label', ...Array.from({ length: IMAGE_PIXELS }, (_, i) => `pixel${i + 1}`)].join(',');

const COMMA = 44;
const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const ZERO = 48;
const NINE = 57;
const CHUNK_BYTES = 1 << 22;

/**
 * Reads a course CSV straight into bytes, without a DataFrame: a single pass over the file in
 * 4 MB chunks, so memory holds only the result (one byte per pixel).
 */
export function readImageCsv(file: string, maxLabel = 9): LabelledImages {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `${file}: file not found. Run \`npm install\` (it builds the data sets in datas/).`
        : `${file}: cannot be read (${(error as Error).message}).`,
    );
  }
  try {
    const size = fstatSync(fd).size;
    // The shortest possible row is 785 one-digit values and their separators: an upper bound on rows.
    const maxRows = Math.ceil(size / (2 * (IMAGE_PIXELS + 1))) + 1;
    const labels = new Uint8Array(maxRows);
    const pixels = new Uint8Array(maxRows * IMAGE_PIXELS);
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);

    const fail = (line: number, what: string): never => {
      throw new Error(`${file}, line ${line}: ${what}. Delete the file and rerun \`npm install\` to rebuild it.`);
    };

    let inHeader = true;
    let headerText = '';
    let line = 1;
    let row = 0;
    let column = 0;
    let value = 0;
    let digits = 0;
    let pixelBase = 0;

    const commitValue = (): void => {
      if (digits === 0) fail(line, `empty value in column ${column + 1}`);
      if (value > 255) fail(line, `value ${value} in column ${column + 1} is not a pixel (0-255)`);
      if (column === 0) {
        if (value > maxLabel) fail(line, `label ${value} is not between 0 and ${maxLabel}`);
        if (row >= maxRows) fail(line, 'more rows than the file size allows');
        labels[row] = value;
        pixelBase = row * IMAGE_PIXELS;
      } else if (column <= IMAGE_PIXELS) {
        pixels[pixelBase + column - 1] = value;
      } else {
        fail(line, `more than ${IMAGE_PIXELS + 1} columns`);
      }
      value = 0;
      digits = 0;
    };

    let position = 0;
    for (;;) {
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, position);
      if (read === 0) break;
      position += read;
      let i = 0;
      if (inHeader) {
        const end = chunk.indexOf(NEWLINE, 0);
        const stop = end === -1 || end >= read ? read : end;
        headerText += chunk.toString('latin1', 0, stop);
        if (end === -1 || end >= read) continue;
        inHeader = false;
        if (headerText.replace(/\r$/, '') !== CSV_HEADER) {
          fail(1, `unexpected header (expected "label,pixel1,...,pixel${IMAGE_PIXELS}", found "${headerText.slice(0, 40)}...")`);
        }
        line = 2;
        i = end + 1;
      }
      for (; i < read; i++) {
        const c = chunk[i];
        if (c >= ZERO && c <= NINE) {
          value = value * 10 + (c - ZERO);
          digits++;
        } else if (c === COMMA) {
          commitValue();
          column++;
        } else if (c === NEWLINE) {
          if (column === 0 && digits === 0) {
            line++;
            continue; // blank line
          }
          commitValue();
          if (column !== IMAGE_PIXELS) fail(line, `${column + 1} columns instead of ${IMAGE_PIXELS + 1}`);
          row++;
          column = 0;
          line++;
        } else if (c !== CARRIAGE_RETURN) {
          fail(line, `unexpected character "${String.fromCharCode(c)}"`);
        }
      }
    }
    if (inHeader && headerText.length === 0) fail(1, 'the file is empty');
    if (column !== 0 || digits !== 0) {
      // Last row without a final newline: complete, or cut short by a truncated file.
      if (digits === 0 || column !== IMAGE_PIXELS) {
        fail(line, `the file ends in the middle of a row (${column + 1} columns instead of ${IMAGE_PIXELS + 1}): truncated file`);
      }
      commitValue();
      row++;
    }
    return { count: row, labels: labels.slice(0, row), pixels: pixels.slice(0, row * IMAGE_PIXELS) };
  } finally {
    closeSync(fd);
  }
}

/** Writes a labelled image set as a course CSV, atomically (a temporary file renamed into place). */
export function writeImageCsv(file: string, set: LabelledImages, onProgress?: (rowsDone: number) => void): void {
  const numbers = Array.from({ length: 256 }, (_, v) => Buffer.from(String(v), 'latin1'));
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let used = buffer.write(`${CSV_HEADER}\n`, 'latin1');
    const maxRowBytes = 4 * (IMAGE_PIXELS + 1);
    for (let row = 0; row < set.count; row++) {
      if (used + maxRowBytes > CHUNK_BYTES) {
        writeSync(fd, buffer, 0, used);
        used = 0;
        onProgress?.(row);
      }
      used += numbers[set.labels[row]].copy(buffer, used);
      const base = row * IMAGE_PIXELS;
      for (let p = 0; p < IMAGE_PIXELS; p++) {
        buffer[used++] = COMMA;
        used += numbers[set.pixels[base + p]].copy(buffer, used);
      }
      buffer[used++] = NEWLINE;
    }
    writeSync(fd, buffer, 0, used);
    closeSync(fd);
    renameSync(temporary, file);
    onProgress?.(set.count);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(temporary, { force: true });
    throw error;
  }
}

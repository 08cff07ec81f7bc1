/** Atomic file writes: write to a temporary file in the same folder, flush it, then rename over the target. */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A temporary path next to `file`, unique to this process. */
export function temporaryPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
}

/** Writes `data` to a temporary file next to `file` and flushes it to disk; returns the temporary path. */
export function writeTemporary(file: string, data: string | Uint8Array): string {
  const temporary = temporaryPathFor(file);
  const fd = openSync(temporary, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  return temporary;
}

/** Replaces `file` with `data` atomically: readers see the old content or the new one, never a mix. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const temporary = writeTemporary(file, data);
  try {
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

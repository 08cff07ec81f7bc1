/**
 * Photo preparation for the web app on worker threads: decoding and the course's exact grey and
 * Lanczos arithmetic cost about 10 ms of CPU for a 1-megapixel photo (ten times more for a phone's
 * 12 megapixels), which on the main thread would leave the other cores idle and every other
 * request waiting. Each worker holds two photos so that its thread computes one while libuv's
 * threads decode the other: one photo per worker left each worker idle half the time (88 against
 * 115-122 requests/s in bench:serve on a 2-core machine).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ImageReadError, preprocessPhoto, type PreprocessedPhoto, type PreprocessOptions } from '../lib/preprocess';

/** A photo to prepare, as sent to a worker. */
export interface WorkerRequest {
  id: number;
  bytes: ArrayBuffer;
  options: PreprocessOptions;
}

/** A worker's answer: the prepared photo, or the error (an ImageReadError keeps its file and reason). */
export type WorkerReply =
  | { id: number; photo: PreprocessedPhoto; error?: undefined }
  | { id: number; photo?: undefined; error: { imageRead: boolean; file?: string; reason?: string; message: string } };

interface Job {
  request: WorkerRequest;
  resolve: (photo: PreprocessedPhoto) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Photos sent to this worker and not answered yet, by request id. */
  jobs: Map<number, Job>;
}

/** Photos a worker holds at once: while one waits for its decoding (on libuv's threads), the worker computes another. */
const JOBS_PER_WORKER = 2;

/** Default number of workers: one per core the process may use. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

/** A fixed set of worker threads preparing photos, first come first served; size 0 prepares on the calling thread. */
export class PreprocessPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number = defaultWorkerCount()) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`workers: ${size} (a whole number, 0 for none, expected)`);
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(join(__dirname, 'preprocess-worker.cjs')), jobs: new Map() };
    slot.worker.on('message', (reply: WorkerReply) => this.finish(slot, reply));
    slot.worker.on('error', (error) => this.crash(slot, error));
    // A worker is idle most of the time: it must not keep the process alive on its own.
    slot.worker.unref();
    return slot;
  }

  /** Prepares one photo (file bytes) as `preprocessPhoto` does, on a free worker. */
  prepare(bytes: Buffer, options: PreprocessOptions = {}): Promise<PreprocessedPhoto> {
    if (this.closed) return Promise.reject(new Error('PreprocessPool is closed'));
    if (this.size === 0) return preprocessPhoto(bytes, options);
    return new Promise((resolve, reject) => {
      // A copy the worker owns: the request's buffer may be a slice of a larger one.
      const owned = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      this.waiting.push({ request: { id: this.nextId++, bytes: owned, options }, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      // The least busy worker, if one has room.
      const slot = this.slots.reduce<Slot | undefined>((best, candidate) => (candidate.jobs.size < (best?.jobs.size ?? JOBS_PER_WORKER) ? candidate : best), undefined);
      if (!slot) return;
      const job = this.waiting.shift()!;
      slot.jobs.set(job.request.id, job);
      slot.worker.ref();
      slot.worker.postMessage(job.request, [job.request.bytes]);
    }
  }

  private finish(slot: Slot, reply: WorkerReply): void {
    const job = slot.jobs.get(reply.id);
    slot.jobs.delete(reply.id);
    if (slot.jobs.size === 0) slot.worker.unref();
    if (job) {
      if (reply.error) {
        const { error } = reply;
        job.reject(error.imageRead ? new ImageReadError(error.file ?? '', error.reason ?? '') : new Error(error.message));
      } else {
        job.resolve(reply.photo);
      }
    }
    this.dispatch();
  }

  private crash(slot: Slot, error: Error): void {
    for (const job of slot.jobs.values()) job.reject(new Error(`le traitement de l'image a échoué (${error.message}).`));
    slot.jobs.clear();
    // Replace the dead worker so that the pool keeps its size.
    const index = this.slots.indexOf(slot);
    if (index >= 0 && !this.closed) this.slots[index] = this.spawn();
    this.dispatch();
  }

  /** Stops the workers; pending photos are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Error('PreprocessPool is closed'));
    await Promise.all(this.slots.map(async (slot) => {
      for (const job of slot.jobs.values()) job.reject(new Error('PreprocessPool is closed'));
      slot.jobs.clear();
      await slot.worker.terminate();
    }));
  }
}

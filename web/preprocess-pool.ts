/**
 * Photo preparation for the web app on worker threads: decoding and the course's exact grey and
 * Lanczos arithmetic cost about 20 ms of CPU for a 1-megapixel photo, which on the main thread
 * would leave the other cores idle and every other request waiting.
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
  job?: Job;
}

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
    const slot: Slot = { worker: new Worker(join(__dirname, 'preprocess-worker.cjs')) };
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
    for (const slot of this.slots) {
      if (this.waiting.length === 0) return;
      if (slot.job) continue;
      const job = this.waiting.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage(job.request, [job.request.bytes]);
    }
  }

  private finish(slot: Slot, reply: WorkerReply): void {
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    if (job && job.request.id === reply.id) {
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
    slot.job?.reject(new Error(`le traitement de l'image a échoué (${error.message}).`));
    slot.job = undefined;
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
      slot.job?.reject(new Error('PreprocessPool is closed'));
      await slot.worker.terminate();
    }));
  }
}

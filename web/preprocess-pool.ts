/**
 * Photo preparation for the web app on worker threads: decoding and the course's exact grey and
 * Lanczos arithmetic cost about 10 ms of CPU for a 1-megapixel photo (ten times more for a phone's
 * 12 megapixels), which on the main thread would leave the other cores idle and every other
 * request waiting. Each worker holds two photos so that its thread computes one while libuv's
 * threads decode the other: one photo per worker left each worker idle half the time (88 against
 * 115-122 requests/s in bench:serve on a 2-core machine).
 *
 * No photo holds a worker longer than the pool's time budget: past it, the worker is terminated
 * (the only way to stop JavaScript or WebAssembly that is still computing) and replaced, the photo
 * is refused with a PhotoTimeoutError, and the other photo that worker held is started again.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ImageReadError, PhotoTimeoutError, preprocessPhoto, type PreprocessedPhoto, type PreprocessOptions } from '../lib/preprocess';

/** A photo to prepare, as sent to a worker. */
export interface WorkerRequest {
  id: number;
  bytes: ArrayBuffer;
  options: PreprocessOptions;
}

/** A worker's answer: the prepared photo, or the error (an ImageReadError keeps its file and reason). */
export type WorkerReply =
  | { id: number; photo: PreprocessedPhoto; error?: undefined }
  | { id: number; photo?: undefined; error: { imageRead: boolean; timedOut?: boolean; file?: string; reason?: string; message: string } };

/** What a worker says besides its answers: it is loaded, or it starts the computing part of a photo. */
export type WorkerNotice = { ready: true } | { id: number; computing: true };

/** Options of a PreprocessPool. */
export interface PoolOptions {
  /** Longest time, in ms, one photo may keep a worker (decoding and preparation; with 0 workers, decoding only); Infinity for none. Default DEFAULT_PHOTO_TIMEOUT_MS. */
  photoTimeoutMs?: number;
}

/** Default time budget per photo: 2 s, where the heaviest photo accepted by default (40 megapixels) takes 0.5 to 1.4 s on a shared 2-core machine. */
export const DEFAULT_PHOTO_TIMEOUT_MS = 2000;

interface Job {
  id: number;
  /** The caller's bytes, kept until the photo is answered in case its worker is replaced before. */
  bytes: Buffer;
  options: PreprocessOptions;
  resolve: (photo: PreprocessedPhoto) => void;
  reject: (error: Error) => void;
  /** Time counted against the budget, up to `clockSince`. */
  spentMs: number;
  /** When the clock last started, while it runs. */
  clockSince?: number;
}

interface Slot {
  worker: Worker;
  /** Photos sent to this worker and not answered yet, by request id. */
  jobs: Map<number, Job>;
  /** The worker has loaded its code. */
  ready: boolean;
  /** The photo whose computing part the worker's thread is running, if any. */
  computing?: number;
  timer?: NodeJS.Timeout;
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
  private replacedCount = 0;
  /** The time budget per photo, in ms (Infinity: none). */
  readonly photoTimeoutMs: number;

  constructor(
    readonly size: number = defaultWorkerCount(),
    options: PoolOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`workers: ${size} (a whole number, 0 for none, expected)`);
    this.photoTimeoutMs = options.photoTimeoutMs ?? DEFAULT_PHOTO_TIMEOUT_MS;
    if (!(this.photoTimeoutMs > 0)) throw new RangeError(`photoTimeoutMs: ${this.photoTimeoutMs} (a positive number of milliseconds expected)`);
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** Workers terminated and replaced so far because a photo ran past the time budget. */
  get replaced(): number {
    return this.replacedCount;
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(join(__dirname, 'preprocess-worker.cjs')), jobs: new Map(), ready: false };
    slot.worker.on('message', (message: WorkerReply | WorkerNotice) => this.receive(slot, message));
    slot.worker.on('error', (error) => this.crash(slot, error));
    // A worker is idle most of the time: it must not keep the process alive on its own.
    slot.worker.unref();
    return slot;
  }

  /** Prepares one photo (file bytes) as `preprocessPhoto` does, on a free worker. */
  prepare(bytes: Buffer, options: PreprocessOptions = {}): Promise<PreprocessedPhoto> {
    if (this.closed) return Promise.reject(new Error('PreprocessPool is closed'));
    // libvips enforces the budget on its own work; the worker's clock below covers everything else.
    const withTimeout = Number.isFinite(this.photoTimeoutMs) ? { timeoutMs: this.photoTimeoutMs, ...options } : options;
    if (this.size === 0) return preprocessPhoto(bytes, withTimeout);
    return new Promise((resolve, reject) => {
      this.waiting.push({ id: this.nextId++, bytes, options: withTimeout, resolve, reject, spentMs: 0 });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      // The least busy worker with room, a loaded one first.
      const load = (slot: Slot) => slot.jobs.size * 2 + (slot.ready ? 0 : 1);
      const slot = this.slots.filter((candidate) => candidate.jobs.size < JOBS_PER_WORKER).sort((a, b) => load(a) - load(b))[0];
      if (!slot) return;
      const job = this.waiting.shift()!;
      slot.jobs.set(job.id, job);
      slot.worker.ref();
      // A copy the worker owns: the request's buffer may be a slice of a larger one.
      const { bytes } = job;
      const request: WorkerRequest = { id: job.id, bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, options: job.options };
      slot.worker.postMessage(request, [request.bytes]);
      this.clock(slot);
    }
  }

  private receive(slot: Slot, message: WorkerReply | WorkerNotice): void {
    // A replaced worker may still deliver messages it sent before it was stopped.
    if (!this.slots.includes(slot)) return;
    if ('ready' in message) slot.ready = true;
    else if ('computing' in message) slot.computing = message.id;
    else return this.finish(slot, message);
    this.clock(slot);
  }

  /**
   * Counts time against each photo's budget and times out the first that runs past it. A photo's
   * clock runs while its worker is loaded and not computing another photo: a photo waiting for
   * its worker's thread is not slow itself, and is not the one to refuse.
   */
  private clock(slot: Slot): void {
    if (!Number.isFinite(this.photoTimeoutMs)) return;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    const now = performance.now();
    let soonest = Infinity;
    for (const job of slot.jobs.values()) {
      if (job.clockSince !== undefined) job.spentMs += now - job.clockSince;
      const runs = slot.ready && (slot.computing === undefined || slot.computing === job.id);
      job.clockSince = runs ? now : undefined;
      if (job.spentMs >= this.photoTimeoutMs) return this.timeOut(slot, job);
      if (runs) soonest = Math.min(soonest, this.photoTimeoutMs - job.spentMs);
    }
    if (soonest === Infinity) return;
    slot.timer = setTimeout(() => this.clock(slot), Math.ceil(soonest));
    slot.timer.unref();
  }

  /** Terminates the worker of a photo past its budget, refuses that photo, and starts its other photos again on a new worker. */
  private timeOut(slot: Slot, late: Job): void {
    const index = this.slots.indexOf(slot);
    void slot.worker.terminate();
    this.replacedCount++;
    if (!this.closed) this.slots[index] = this.spawn();
    const others = [...slot.jobs.values()].filter((job) => job !== late);
    slot.jobs.clear();
    for (const job of others) {
      // Their work on the stopped worker is lost: a fresh budget for the fresh start.
      job.spentMs = 0;
      job.clockSince = undefined;
    }
    this.waiting.unshift(...others);
    const name = late.options.name ?? 'image envoyée';
    late.reject(new PhotoTimeoutError(name, this.photoTimeoutMs));
    this.dispatch();
  }

  private finish(slot: Slot, reply: WorkerReply): void {
    const job = slot.jobs.get(reply.id);
    slot.jobs.delete(reply.id);
    if (slot.computing === reply.id) slot.computing = undefined;
    if (slot.jobs.size === 0) slot.worker.unref();
    if (job) {
      if (reply.error) {
        const { error } = reply;
        if (error.imageRead) job.reject(new ImageReadError(error.file ?? '', error.reason ?? ''));
        else if (error.timedOut) job.reject(new PhotoTimeoutError(error.file ?? '', this.photoTimeoutMs));
        else job.reject(new Error(error.message));
      } else {
        job.resolve(reply.photo);
      }
    }
    this.clock(slot);
    this.dispatch();
  }

  private crash(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    clearTimeout(slot.timer);
    for (const job of slot.jobs.values()) job.reject(new Error(`le traitement de l'image a échoué (${error.message}).`));
    slot.jobs.clear();
    // Replace the dead worker so that the pool keeps its size.
    if (!this.closed) this.slots[index] = this.spawn();
    this.dispatch();
  }

  /** Stops the workers; pending photos are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Error('PreprocessPool is closed'));
    await Promise.all(this.slots.map(async (slot) => {
      clearTimeout(slot.timer);
      for (const job of slot.jobs.values()) job.reject(new Error('PreprocessPool is closed'));
      slot.jobs.clear();
      await slot.worker.terminate();
    }));
  }
}

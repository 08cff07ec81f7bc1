/** Body of a preprocessing worker thread: decodes and prepares one uploaded photo per message. */
import { parentPort } from 'node:worker_threads';
import { decodeImage, ImageReadError, PhotoTimeoutError, preprocessPixels, type PreprocessOptions } from '../lib/preprocess';
import type { WorkerNotice, WorkerReply, WorkerRequest } from './preprocess-pool';

parentPort?.on('message', async (request: WorkerRequest) => {
  try {
    const decoded = await decodeImage(Buffer.from(request.bytes), request.options as PreprocessOptions);
    // From here this thread is busy until the reply: the pool stops the clocks of the other photos
    // this worker holds, which are waiting for it, not slow themselves.
    parentPort!.postMessage({ id: request.id, computing: true } satisfies WorkerNotice);
    const photo = preprocessPixels(decoded);
    const reply: WorkerReply = { id: request.id, photo };
    // The pixel arrays move to the main thread instead of being copied.
    parentPort!.postMessage(reply, [photo.input.buffer, photo.display.buffer, photo.canvas.buffer] as ArrayBuffer[]);
  } catch (error) {
    const reply: WorkerReply =
      error instanceof ImageReadError
        ? { id: request.id, error: { imageRead: true, file: error.file, reason: error.reason, message: error.message } }
        : error instanceof PhotoTimeoutError
          ? { id: request.id, error: { imageRead: false, timedOut: true, file: error.file, message: error.message } }
          : { id: request.id, error: { imageRead: false, message: (error as Error).message ?? String(error) } };
    parentPort!.postMessage(reply);
  }
});

// Loading tsx and this module takes a moment: the pool starts the photos' clocks only once this arrives.
parentPort?.postMessage({ ready: true } satisfies WorkerNotice);

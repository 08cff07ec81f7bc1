/** Body of a preprocessing worker thread: decodes and prepares one uploaded photo per message. */
import { parentPort } from 'node:worker_threads';
import { ImageReadError, preprocessPhoto, type PreprocessOptions } from '../lib/preprocess';
import type { WorkerReply, WorkerRequest } from './preprocess-pool';

parentPort?.on('message', async (request: WorkerRequest) => {
  try {
    const photo = await preprocessPhoto(Buffer.from(request.bytes), request.options as PreprocessOptions);
    const reply: WorkerReply = { id: request.id, photo };
    // The pixel arrays move to the main thread instead of being copied.
    parentPort!.postMessage(reply, [photo.input.buffer, photo.display.buffer, photo.canvas.buffer] as ArrayBuffer[]);
  } catch (error) {
    const reply: WorkerReply =
      error instanceof ImageReadError
        ? { id: request.id, error: { imageRead: true, file: error.file, reason: error.reason, message: error.message } }
        : { id: request.id, error: { imageRead: false, message: (error as Error).message ?? String(error) } };
    parentPort!.postMessage(reply);
  }
});

/** A server on a free port with a small model the tests save themselves. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../lib/backend';
import { saveModel } from '../../lib/io';
import { buildModel } from '../../lib/models';
import { PROJECT_ROOT } from '../../lib/paths';
import { photosToTensor, preprocessPhoto } from '../../lib/preprocess';
import { startServer, type RunningServer, type ServerOptions } from '../../web/server';
import { temporaryFolder } from '../helpers/fixtures';

/** The sample photos shipped in images/. */
export const SAMPLE_PHOTOS = ['pantalon.jpg', 'bottes.png', 'baskets.webp', 'robe.png', 'sac.jpg', 'pull-transparent.png'].map((name) => join(PROJECT_ROOT, 'images', name));

/** An (untrained, seeded by chance) one-conv model saved to a temporary folder, and a server on it. */
export async function serverWithModel(options: ServerOptions = {}): Promise<{ running: RunningServer; model: tfTypes.LayersModel; cleanup: () => Promise<void> }> {
  const folder = temporaryFolder('analyse-image-web-');
  const model = buildModel('one-conv');
  await saveModel(model, folder.dir);
  const running = await startServer({ port: 0, modelDir: folder.dir, ...options });
  return { running, model, cleanup: async () => (await running.close(), folder.cleanup()) };
}

/** A server whose model folder is empty. */
export async function serverWithoutModel(): Promise<{ running: RunningServer; cleanup: () => Promise<void> }> {
  const folder = temporaryFolder('analyse-image-web-empty-');
  const running = await startServer({ port: 0, modelDir: folder.dir });
  return { running, cleanup: async () => (await running.close(), folder.cleanup()) };
}

/** The model's probabilities for a photo file, computed directly with lib/. */
export async function directProbabilities(model: tfTypes.LayersModel, file: string): Promise<number[]> {
  const tf = loadNativeTf();
  const photo = await preprocessPhoto(file);
  return Array.from(tf.tidy(() => (model.predict(photosToTensor(tf, [photo])) as tfTypes.Tensor).dataSync()));
}

/** POSTs bytes as the `field` of a multipart form. */
export function postImage(url: string, bytes: Buffer, filename = 'photo.png', field = 'image'): Promise<Response> {
  const form = new FormData();
  form.append(field, new Blob([bytes]), filename);
  return fetch(`${url}/api/predict`, { method: 'POST', body: form });
}

/** A sample photo's bytes. */
export function sampleBytes(index = 0): Buffer {
  return readFileSync(SAMPLE_PHOTOS[index]);
}

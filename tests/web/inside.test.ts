/** "Dans le réseau" on the real server: the page, and POST /api/inside for photos and raw drawings. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../lib/backend';
import { BUNDLE_PATH, bundleText } from '../../scripts/build-inside';
import { DIGIT_CLASSES, FASHION_CLASSES } from '../../lib/data';
import { saveKerasModel, saveModel } from '../../lib/io';
import { buildModel } from '../../lib/models';
import { preprocessPhoto } from '../../lib/preprocess';
import { startServer } from '../../web/server';
import { base64Float32, insideModelFor, readInsideBinary, type InsideAnswer } from '../../web/inside';
import { temporaryFolder } from '../helpers/fixtures';
import { directProbabilities, postImage, SAMPLE_PHOTOS, sampleBytes, serverWithModel, serverWithoutModel } from './helpers';

/** A drawing as the page makes it: black strokes on a white 280 x 280 canvas. */
async function drawingPng(): Promise<Buffer> {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="280" height="280"><rect width="280" height="280" fill="white"/><path d="M90 40 L190 40 M95 40 L80 250 M185 40 L200 250" stroke="black" stroke-width="24" stroke-linecap="round" fill="none"/></svg>';
  return sharp(Buffer.from(svg)).png().toBuffer();
}

function postInside(url: string, bytes: Buffer, filename: string, query = ''): Promise<Response> {
  const form = new FormData();
  form.append('image', new Blob([bytes]), filename);
  return fetch(`${url}/api/inside${query}`, { method: 'POST', body: form });
}

describe('"Dans le réseau" on the server', () => {
  let server: Awaited<ReturnType<typeof serverWithModel>>;
  beforeAll(async () => (server = await serverWithModel({ workers: 1 })));
  afterAll(() => server.cleanup());

  it('serves the page in French with one section per convolution, pooling and dense layer, and its script', async () => {
    const html = await (await fetch(`${server.running.url}/dans-le-reseau`)).text();
    expect(html).toContain('<a href="/dans-le-reseau" aria-current="page">Dans le réseau</a>');
    expect(html).toContain('Dessinez un vêtement');
    expect(html.match(/<section class="layer"/g)).toHaveLength(4);
    expect(html).toContain('Convolution : 32 filtres 3 x 3, 32 cartes de 26 x 26 (320 paramètres)');
    expect(html).toContain('Couche dense : 128 neurones, activation relu (692\u202f352 paramètres)');
    expect(html).toContain(JSON.stringify(FASHION_CLASSES));
    // Every other page links to it.
    expect(await (await fetch(server.running.url)).text()).toContain('href="/dans-le-reseau"');
    const script = await fetch(`${server.running.url}/static/inside.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(await script.text()).toContain('insideStats');
  });

  it('serves what the page computes with: TensorFlow.js, the bundled preprocessing, the model and its weights', async () => {
    const tfjs = await fetch(`${server.running.url}/static/tf.min.js`);
    expect(tfjs.status).toBe(200);
    expect((await tfjs.text()).length).toBeGreaterThan(1_000_000);
    const bundle = await (await fetch(`${server.running.url}/static/preprocess.js`)).text();
    expect(bundle).toBe(readFileSync(BUNDLE_PATH, 'utf8'));
    // Parsed here: Response.json() would build its arrays in another realm than the test's (jest's vm).
    const description = JSON.parse(await (await fetch(`${server.running.url}/dans-le-reseau/modele.json`)).text());
    expect(description.weightsManifest[0].paths).toEqual(['poids.bin']);
    const weights = Buffer.from(await (await fetch(`${server.running.url}/dans-le-reseau/poids.bin`)).arrayBuffer());
    expect(weights.length).toBe(693_962 * 4);
    // Loaded as the page loads it, the model predicts what the served one does.
    const tf = loadNativeTf();
    const copy = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: description.modelTopology, weightSpecs: description.weightsManifest[0].weights, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length) as ArrayBuffer }));
    const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 3);
    expect(Array.from((copy.predict(x) as tfTypes.Tensor).dataSync())).toEqual(Array.from((server.model.predict(x) as tfTypes.Tensor).dataSync()));
    x.dispose();
  });

  it('answers a photo with its 784 prepared values, every layer and the model’s probabilities', async () => {
    const png = await drawingPng();
    const response = await postInside(server.running.url, png, 'dessin.png');
    expect(response.status).toBe(200);
    expect(response.headers.get('server-timing')).toMatch(/^prepare;dur=[\d.]+, model;dur=[\d.]+$/);
    const answer = (await response.json()) as InsideAnswer;
    expect(Array.from(base64Float32(answer.input))).toEqual(Array.from((await preprocessPhoto(png)).input));
    expect(answer.layers.map((layer) => [layer.kind, layer.shape])).toEqual([['convolution', [26, 26, 32]], ['pooling', [13, 13, 32]], ['dense', [128]], ['dense', [10]]]);
    const conv = base64Float32(answer.layers[0].values);
    expect(conv).toHaveLength(26 * 26 * 32);
    expect(Math.max(...conv)).toBe(answer.layers[0].max);
    const expected = await directProbabilities(server.model, await writeTemporary(png));
    answer.probabilities.forEach((p, i) => expect(p).toBeCloseTo(expected[i], 6));
    expect(answer.label).toBe(FASHION_CLASSES[answer.classIndex]);
  });

  it('prepares a drawing sent as raw RGBA pixels exactly as the same picture sent as a PNG file, and answers it in binary', async () => {
    const png = await drawingPng();
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    const response = await fetch(`${server.running.url}/api/inside?format=binary&width=280&height=280`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: data });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    const binary = readInsideBinary(new Uint8Array(await response.arrayBuffer()));
    const asFile = (await (await postInside(server.running.url, png, 'dessin.png')).json()) as InsideAnswer;
    expect(Array.from(binary.input)).toEqual(Array.from(base64Float32(asFile.input)));
    binary.layers.forEach((layer, i) => expect(Array.from(layer.values)).toEqual(Array.from(base64Float32(asFile.layers[i].values))));
    expect(binary.probabilities).toEqual(asFile.probabilities);
  });

  it('refuses bad requests in French', async () => {
    const wrongSize = await fetch(`${server.running.url}/api/inside?width=280&height=280`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(100) });
    expect(wrongSize.status).toBe(400);
    expect(((await wrongSize.json()) as { error: string }).error).toBe('dessin de 280 x 280 pixels : 313600 octets RGBA attendus, 100 reçus.');
    const noSize = await fetch(`${server.running.url}/api/inside`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(4) });
    expect(((await noSize.json()) as { error: string }).error).toMatch(/il faut des entiers de 1 à 2048/);
    expect((await fetch(`${server.running.url}/api/inside`)).status).toBe(405);
    const notImage = await postInside(server.running.url, Buffer.from('pas une image'), 'notes.txt');
    expect(notImage.status).toBe(422);
    // A photo goes through exactly the photo route: same answer as /api/predict.
    const predict = (await (await postImage(server.running.url, sampleBytes(0), 'pantalon.jpg')).json()) as { probabilities: number[] };
    const inside = (await (await postInside(server.running.url, sampleBytes(0), 'pantalon.jpg')).json()) as InsideAnswer;
    inside.probabilities.forEach((p, i) => expect(p).toBeCloseTo(predict.probabilities[i], 6));
    expect(Array.from(base64Float32(inside.input))).toEqual(Array.from((await preprocessPhoto(SAMPLE_PHOTOS[0])).input));
  });
});

describe('the browser bundle of the preprocessing', () => {
  it('is what `npm run build:inside` builds from lib/preprocess today', async () => {
    expect(readFileSync(BUNDLE_PATH, 'utf8')).toBe(await bundleText());
  });

  it('gives the same 784 values as lib/preprocess, run without Node (no Buffer, no require)', async () => {
    const { runInNewContext } = await import('node:vm');
    const context: Record<string, unknown> = { atob: (text: string) => Buffer.from(text, 'base64').toString('latin1'), WebAssembly };
    runInNewContext(readFileSync(BUNDLE_PATH, 'utf8'), context);
    const { data, info } = await sharp(await drawingPng()).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const browser = (context.analyseImagePreprocess as { preprocessPixels(image: object): { input: Float32Array } }).preprocessPixels({ width: info.width, height: info.height, channels: 4, data: new Uint8Array(data) });
    expect(Array.from(browser.input)).toEqual(Array.from((await preprocessPhoto(await drawingPng())).input));
  });
});

describe('"Dans le réseau" with other models', () => {
  it('says there is no model, and the API answers 503', async () => {
    const empty = await serverWithoutModel();
    try {
      const html = await (await fetch(`${empty.running.url}/dans-le-reseau`)).text();
      expect(html).toContain('Pas de modèle entraîné');
      expect(html).toContain('window.INSIDE = null');
      const response = await fetch(`${empty.running.url}/api/inside?width=1&height=1`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(4) });
      expect(response.status).toBe(503);
    } finally {
      await empty.cleanup();
    }
  });

  it('never fails the server over a model it cannot open layer by layer: it says why', () => {
    expect(insideModelFor(undefined, '/x')).toEqual({});
    const { inside, problem } = insideModelFor({ layers: [], outputs: [] } as never, '/x');
    expect(inside).toBeUndefined();
    expect(problem).toMatch(/^le modèle ne peut pas être montré couche par couche : /);
  });

  it("serves a model saved the Keras way to the page, in TensorFlow.js' format, predicting the same", async () => {
    const folder = temporaryFolder('analyse-image-inside-keras-');
    const model = buildModel('one-conv');
    await saveKerasModel(model, folder.dir);
    const running = await startServer({ port: 0, modelDir: folder.dir, workers: 0 });
    try {
      const description = JSON.parse(await (await fetch(`${running.url}/dans-le-reseau/modele.json`)).text());
      const weights = Buffer.from(await (await fetch(`${running.url}/dans-le-reseau/poids.bin`)).arrayBuffer());
      expect(weights.length).toBe(693_962 * 4);
      const tf = loadNativeTf();
      const copy = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: description.modelTopology, weightSpecs: description.weightsManifest[0].weights, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length) as ArrayBuffer }));
      const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 5);
      const [ours, served] = [copy.predict(x) as tfTypes.Tensor, model.predict(x) as tfTypes.Tensor];
      Array.from(ours.dataSync()).forEach((p, i) => expect(Math.abs(p - served.dataSync()[i])).toBeLessThan(1e-6));
      tf.dispose([x, ours, served]);
    } finally {
      await running.close();
      folder.cleanup();
    }
  });

  it('names the digits for the MNIST digits model', async () => {
    const folder = temporaryFolder('analyse-image-inside-digits-');
    await saveModel(buildModel('mnist-digits'), folder.dir);
    const running = await startServer({ port: 0, modelDir: folder.dir, workers: 0 });
    try {
      const html = await (await fetch(`${running.url}/dans-le-reseau`)).text();
      expect(html).toContain('Dessinez un chiffre');
      expect(html).toContain(JSON.stringify(DIGIT_CLASSES));
      const answer = (await (await postInside(running.url, await drawingPng(), 'dessin.png')).json()) as InsideAnswer;
      expect(answer.layers.map((layer) => layer.shape)).toEqual([[24, 24, 32], [12, 12, 32], [8, 8, 64], [4, 4, 64], [10]]);
      expect(answer.label).toBe(DIGIT_CLASSES[answer.classIndex]);
    } finally {
      await running.close();
      folder.cleanup();
    }
  });
});

/** A file holding `bytes` (directProbabilities reads a path), removed at exit with its folder. */
async function writeTemporary(bytes: Buffer): Promise<string> {
  const folder = temporaryFolder('analyse-image-inside-png-');
  const file = join(folder.dir, 'dessin.png');
  writeFileSync(file, bytes);
  process.once('exit', folder.cleanup);
  return file;
}

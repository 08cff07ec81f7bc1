/** The web app's API and pages: predictions equal lib's, bad uploads get a clear 4xx, the server stays up. */
import { basename } from 'node:path';
import sharp from 'sharp';
import { FASHION_CLASSES } from '../../lib/data';
import { parseMultipart, multipartBoundary } from '../../web/multipart';
import { directProbabilities, postImage, SAMPLE_PHOTOS, sampleBytes, serverWithModel, serverWithoutModel } from './helpers';

type Answer = { classIndex: number; label: string; probabilities: number[]; error?: string };

describe('multipart reader', () => {
  it('reads fields and files, and refuses a body cut before its last boundary', () => {
    expect(multipartBoundary('multipart/form-data; boundary=----abc')).toBe('----abc');
    expect(multipartBoundary('application/json')).toBeUndefined();
    const body = Buffer.from('--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XX\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XX--\r\n', 'latin1');
    const parts = parseMultipart(body, 'XX');
    expect(parts.map((p) => [p.name, p.filename, p.contentType, p.data.toString('latin1')])).toEqual([
      ['a', undefined, undefined, '1'],
      ['image', 'p.png', 'image/png', '\x89PNG'],
    ]);
    expect(() => parseMultipart(body.subarray(0, 80), 'XX')).toThrow(/tronqué|en-têtes/);
  });
});

describe('web app with a model', () => {
  let server: Awaited<ReturnType<typeof serverWithModel>>;
  beforeAll(async () => (server = await serverWithModel({ maxUploadBytes: 10 * 1024 * 1024, maxPixels: 40e6 })));
  afterAll(async () => server.cleanup());

  it('GET /api/health says the model is loaded', async () => {
    const health = await (await fetch(`${server.running.url}/api/health`)).json();
    expect(health).toMatchObject({ status: 'ok', model: 'chargé' });
  });

  it.each(SAMPLE_PHOTOS.map((file) => [basename(file), file]))('POST /api/predict %s: the probabilities lib/ computes', async (_name, file) => {
    const response = await postImage(server.running.url, sampleBytes(SAMPLE_PHOTOS.indexOf(file)), basename(file));
    expect(response.status).toBe(200);
    const answer = (await response.json()) as Answer;
    const expected = await directProbabilities(server.model, file);
    expect(answer.probabilities).toHaveLength(10);
    answer.probabilities.forEach((p, i) => expect(p).toBeCloseTo(expected[i], 5));
    expect(answer.classIndex).toBe(expected.indexOf(Math.max(...expected)));
    expect(answer.label).toBe(FASHION_CLASSES[answer.classIndex]);
  });

  it('answers 50 concurrent predictions, each one right', async () => {
    const expected = await Promise.all(SAMPLE_PHOTOS.map((file) => directProbabilities(server.model, file)));
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const response = await postImage(server.running.url, sampleBytes(i % SAMPLE_PHOTOS.length));
        return { i, status: response.status, answer: (await response.json()) as Answer };
      }),
    );
    for (const { i, status, answer } of answers) {
      expect(status).toBe(200);
      answer.probabilities.forEach((p, k) => expect(p).toBeCloseTo(expected[i % SAMPLE_PHOTOS.length][k], 5));
    }
  }, 60_000);

  it('with ?details=1 also gives the 28x28 input as a PNG and the chart', async () => {
    const response = await fetch(`${server.running.url}/api/predict?details=1`, { method: 'POST', body: formWith(sampleBytes()) });
    const answer = await response.json();
    expect(answer.inputPng).toMatch(/^data:image\/png;base64,/);
    const meta = await sharp(Buffer.from(answer.inputPng.split(',')[1], 'base64')).metadata();
    expect([meta.width, meta.height]).toEqual([28, 28]);
    expect(answer.figure.data[0].type).toBe('bar');
  });

  describe('bad uploads: a 4xx answer with a French message, and the server stays up', () => {
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ['an empty file', () => postImage(server.running.url, Buffer.alloc(0), 'vide.png'), 400, /vide/],
      ['a text file', () => postImage(server.running.url, Buffer.from('ceci n’est pas une image'), 'notes.txt'), 422, /n'est pas une image reconnue/],
      ['a truncated JPEG', () => postImage(server.running.url, sampleBytes(0).subarray(0, 4000), 'coupee.jpg'), 422, /abîmé ou incomplet/],
      ['a 50-megapixel image', async () => postImage(server.running.url, await sharp({ create: { width: 10000, height: 5000, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toBuffer(), 'geante.png'), 413, /trop grande.*50 mégapixels/],
      ['a 20 MB file', () => postImage(server.running.url, Buffer.alloc(20 * 1024 * 1024, 7), 'lourde.png'), 413, /trop volumineux : 10 Mo au plus/],
      ['a wrong content type', () => fetch(`${server.running.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: sampleBytes(1) }), 415, /multipart\/form-data/],
      ['no image field', () => postImage(server.running.url, sampleBytes(1), 'p.png', 'photo'), 400, /champ « image » est absent.*photo/],
      ['a GET on the API', () => fetch(`${server.running.url}/api/predict`), 405, /POST/],
    ];
    it.each(cases)('%s', async (_name, send, status, message) => {
      const response = await send();
      expect(response.status).toBe(status);
      expect(((await response.json()) as Answer).error).toMatch(message);
      const after = await postImage(server.running.url, sampleBytes(1), 'bottes.png');
      expect(after.status).toBe(200);
    }, 30_000);
  });

  it('serves the three pages in French, plotly.js from the project, and the test figures of the model', async () => {
    const home = await (await fetch(server.running.url, { headers: { accept: 'text/html' } })).text();
    expect(home).toContain('Classer une image');
    expect(home).not.toContain('Pas de modèle entraîné');
    const plotly = await fetch(`${server.running.url}/static/plotly.min.js`);
    expect(plotly.status).toBe(200);
    expect((await plotly.text()).length).toBeGreaterThan(1_000_000);
    const data = await (await fetch(`${server.running.url}/donnees`)).text();
    expect(data).toMatch(/60\u202f?.?000 images d'apprentissage/);
    expect((await fetch(`${server.running.url}/donnees/exemples.png`)).headers.get('content-type')).toBe('image/png');
    const modelPage = await (await fetch(`${server.running.url}/modele`)).text();
    const evaluation = await server.running.predictor.evaluate();
    expect(evaluation.confusion.flat().reduce((a, b) => a + b, 0)).toBe(10000);
    expect(modelPage).toContain('Total params: 693');
    expect(modelPage).toContain(evaluation.accuracy.toLocaleString('fr-FR', { maximumFractionDigits: 4 }));
  }, 60_000);
});

describe('web app without a model', () => {
  let server: Awaited<ReturnType<typeof serverWithoutModel>>;
  beforeAll(async () => (server = await serverWithoutModel()));
  afterAll(async () => server.cleanup());

  it('starts, and its pages and API say there is no model and how to train one', async () => {
    const health = await (await fetch(`${server.running.url}/api/health`)).json();
    expect(health).toMatchObject({ status: 'ok', model: 'absent' });
    expect(health.message).toMatch(/npm run lab/);
    const predict = await postImage(server.running.url, sampleBytes());
    expect(predict.status).toBe(503);
    expect(((await predict.json()) as Answer).error).toMatch(/pas de modèle entraîné.*npm run lab/);
    expect(await (await fetch(server.running.url)).text()).toContain('Pas de modèle entraîné');
    const modelPage = await fetch(`${server.running.url}/modele`);
    expect(modelPage.status).toBe(503);
    expect(await modelPage.text()).toMatch(/modele\.json/);
  });
});

function formWith(bytes: Buffer): FormData {
  const form = new FormData();
  form.append('image', new Blob([bytes]), 'photo.jpg');
  return form;
}

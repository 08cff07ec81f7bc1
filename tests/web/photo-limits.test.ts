/**
 * Uploads that would hold a preparation worker for seconds (issue 14): shapes no garment photo has
 * are refused from their header, and a photo past the time budget is refused while its worker is
 * replaced; photos sent alongside and right after are classified as usual. Real server, real uploads.
 */
import sharp from 'sharp';
import { pngFromPixels } from '../lib/preprocess/images';
import { directProbabilities, postImage, SAMPLE_PHOTOS, sampleBytes, serverWithModel } from './helpers';

type Answer = { classIndex: number; label: string; probabilities: number[]; error?: string };

const LONG_SIDE = 39_000_000;

/** Like the instructor's file: one pixel across, mostly white, a dark band in the middle. */
function linePng(width: number, height: number): Buffer {
  const data = new Uint8Array(width * height).fill(255);
  data.fill(60, Math.floor(data.length * 0.49), Math.floor(data.length * 0.51));
  return pngFromPixels({ width, height, channels: 1, data });
}

/** A legitimate but heavy photo: 40 megapixels (the default limit), a dark garment on transparency, so that every pixel is laid over white. */
function heavyCutOutPng(): Buffer {
  const width = 7000;
  const height = 5700;
  const data = new Uint8Array(width * height * 4);
  const garment = new Uint8Array(2800 * 4);
  for (let i = 0; i < garment.length; i += 4) garment.set([30, 40, 70, 255], i);
  for (let y = 1000; y < 4700; y++) data.set(garment, (y * width + 2100) * 4);
  return pngFromPixels({ width, height, channels: 4, data }, 1);
}

async function timed(send: () => Promise<Response>): Promise<{ status: number; answer: Answer; seconds: number }> {
  const started = performance.now();
  const response = await send();
  const answer = (await response.json()) as Answer;
  return { status: response.status, answer, seconds: (performance.now() - started) / 1000 };
}

/** A number as the French messages print it (narrow no-break spaces between thousands). */
const french = (digits: string) => digits.replace(/ /g, '[\\s\\u202f\\u00a0]');

describe('images 39 000 000 times longer than wide', () => {
  let server: Awaited<ReturnType<typeof serverWithModel>>;
  beforeAll(async () => (server = await serverWithModel({ workers: 2 })));
  afterAll(async () => server.cleanup());

  it('are refused in French within 2 s each, from their header; the trousers sent alongside and right after are classified', async () => {
    const tall = linePng(1, LONG_SIDE);
    const wide = linePng(LONG_SIDE, 1);
    // Small files, as the instructor's (76 KB): the pixel and upload limits let them through.
    expect(tall.length).toBeLessThan(100 * 1024);
    expect(wide.length).toBeLessThan(100 * 1024);
    expect(await sharp(tall).metadata()).toMatchObject({ format: 'png', width: 1, height: LONG_SIDE });
    expect(await sharp(wide).metadata()).toMatchObject({ format: 'png', width: LONG_SIDE, height: 1 });
    const expected = await directProbabilities(server.model, SAMPLE_PHOTOS[0]);

    const [high, broad, alongside] = await Promise.all([
      timed(() => postImage(server.running.url, tall, 'haute.png')),
      timed(() => postImage(server.running.url, wide, 'large.png')),
      timed(() => postImage(server.running.url, sampleBytes(0), 'pantalon.jpg')),
    ]);
    const after = await timed(() => postImage(server.running.url, sampleBytes(0), 'pantalon.jpg'));

    expect([high.status, broad.status, alongside.status, after.status]).toEqual([422, 422, 200, 200]);
    const size = french('39 000 000');
    expect(high.answer.error).toMatch(new RegExp(`« haute\\.png » : l'image fait 1 x ${size} pixels : elle est ${size} fois plus haute que large, la limite est de 20 fois\\. Envoyez une photo cadrée sur le vêtement`));
    expect(broad.answer.error).toMatch(new RegExp(`« large\\.png » : l'image fait ${size} x 1 pixels : elle est ${size} fois plus large que haute, la limite est de 20 fois\\.`));
    expect(high.seconds).toBeLessThan(2);
    expect(broad.seconds).toBeLessThan(2);
    for (const { answer } of [alongside, after]) answer.probabilities.forEach((p, i) => expect(p).toBeCloseTo(expected[i], 5));
    // Refused before decoding: no worker had to be stopped.
    expect(server.running.pool.replaced).toBe(0);
  }, 30_000);

  it('the page shows the API’s French message for a refused upload', async () => {
    const home = await (await fetch(server.running.url, { headers: { accept: 'text/html' } })).text();
    expect(home).toContain("status.textContent = 'Erreur : ' + answer.error");
  });
});

describe('a photo past the time budget', () => {
  let server: Awaited<ReturnType<typeof serverWithModel>>;
  // One worker, so that the photos after the slow one are served by its replacement. 150 ms: the
  // heavy photo takes 0.5 to 1.4 s on a shared 2-core machine, the trousers 10 to 50 ms.
  beforeAll(async () => (server = await serverWithModel({ workers: 1, photoTimeoutMs: 150 })));
  afterAll(async () => server.cleanup());

  it('is refused in French and its worker replaced; the trousers sent at the same time and right after are classified', async () => {
    const heavy = heavyCutOutPng();
    const expected = await directProbabilities(server.model, SAMPLE_PHOTOS[0]);
    // The worker is up before the clock matters: the first request then measures the photo, not the start-up.
    expect((await postImage(server.running.url, sampleBytes(0))).status).toBe(200);

    const [slow, alongside] = await Promise.all([
      timed(() => postImage(server.running.url, heavy, 'detouree.png')),
      timed(() => postImage(server.running.url, sampleBytes(0), 'pantalon.jpg')),
    ]);
    const after = await timed(() => postImage(server.running.url, sampleBytes(0), 'pantalon.jpg'));

    expect([slow.status, alongside.status, after.status]).toEqual([422, 200, 200]);
    expect(slow.answer.error).toMatch(/^Impossible de préparer l'image « detouree\.png » en moins de 150 ms, la limite de temps par photo : envoyez une photo plus petite/);
    expect(slow.seconds).toBeLessThan(2);
    for (const { answer } of [alongside, after]) answer.probabilities.forEach((p, i) => expect(p).toBeCloseTo(expected[i], 5));
    expect(server.running.pool.replaced).toBe(1);
  }, 30_000);
});

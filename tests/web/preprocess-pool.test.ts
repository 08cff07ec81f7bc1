import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { ImageReadError, PhotoTimeoutError, preprocessPhoto } from '../../lib/preprocess';
import { PreprocessPool } from '../../web/preprocess-pool';
import { pngFromPixels } from '../lib/preprocess/images';

const IMAGES = join(PROJECT_ROOT, 'images');

describe('photo preparation on worker threads', () => {
  const pool = new PreprocessPool(2);
  afterAll(() => pool.close());

  it('gives exactly what preprocessPhoto gives on the main thread, for each sample photo at once', async () => {
    const files = readdirSync(IMAGES).filter((file) => /\.(png|jpe?g|webp|gif)$/i.test(file));
    expect(files.length).toBeGreaterThan(3);
    const bytes = files.map((file) => readFileSync(join(IMAGES, file)));
    const [inWorkers, onMain] = await Promise.all([Promise.all(bytes.map((b) => pool.prepare(b))), Promise.all(bytes.map((b) => preprocessPhoto(b)))]);
    inWorkers.forEach((photo, i) => {
      expect(Array.from(photo.input)).toEqual(Array.from(onMain[i].input));
      expect(Array.from(photo.display)).toEqual(Array.from(onMain[i].display));
      expect(photo.resized).toEqual(onMain[i].resized);
      expect([photo.width, photo.height]).toEqual([onMain[i].width, onMain[i].height]);
    });
  });

  it('keeps the French ImageReadError of a bad photo (file and reason), and the pool goes on', async () => {
    const failure = pool.prepare(Buffer.from('pas une image'), { name: 'notes.txt' });
    await expect(failure).rejects.toBeInstanceOf(ImageReadError);
    await expect(failure).rejects.toMatchObject({ file: 'notes.txt', message: expect.stringContaining("Impossible de lire l'image « notes.txt »") });
    const photo = await pool.prepare(readFileSync(join(IMAGES, 'robe.png')));
    expect(photo.input.length).toBe(784);
  });

  it('matches each answer to its photo when one worker holds several at once (good and bad mixed)', async () => {
    const single = new PreprocessPool(1);
    const robe = readFileSync(join(IMAGES, 'robe.png'));
    const pantalon = readFileSync(join(IMAGES, 'pantalon.jpg'));
    const [robeAlone, pantalonAlone] = await Promise.all([preprocessPhoto(robe), preprocessPhoto(pantalon)]);
    const inputs = [robe, Buffer.from('abîmé'), pantalon, robe, Buffer.alloc(0), pantalon];
    const results = await Promise.allSettled(inputs.map((bytes, i) => single.prepare(bytes, { name: `photo-${i}` })));
    await single.close();
    const summary = results.map((r) => (r.status === 'fulfilled' ? Array.from(r.value.input) : (r.reason as ImageReadError).file));
    expect(summary).toEqual([Array.from(robeAlone.input), 'photo-1', Array.from(pantalonAlone.input), Array.from(robeAlone.input), 'photo-4', Array.from(pantalonAlone.input)]);
  });

  it('refuses a photo past the time budget, replaces its worker, and starts the photo that worker also held again', async () => {
    // 40 megapixels of half transparency, each pixel laid over white: 0.5 to 1.4 s on a shared 2-core machine, the trousers 10 to 50 ms.
    const width = 7000;
    const height = 5700;
    const heavy = pngFromPixels({ width, height, channels: 4, data: new Uint8Array(width * height * 4).fill(128) }, 1);
    const pantalon = readFileSync(join(IMAGES, 'pantalon.jpg'));
    const expected = await preprocessPhoto(pantalon);
    const single = new PreprocessPool(1, { photoTimeoutMs: 150 });
    try {
      await single.prepare(pantalon);
      // The worker holds both heavy photos, the trousers wait: the second heavy one is started again on the new worker.
      const results = await Promise.allSettled([single.prepare(heavy, { name: 'a.png' }), single.prepare(heavy, { name: 'b.png' }), single.prepare(pantalon)]);
      expect(results.map((r) => (r.status === 'fulfilled' ? Array.from(r.value.input) : r.reason))).toEqual([
        expect.any(PhotoTimeoutError),
        expect.any(PhotoTimeoutError),
        Array.from(expected.input),
      ]);
      expect(results.slice(0, 2).map((r) => (r as PromiseRejectedResult).reason.file)).toEqual(['a.png', 'b.png']);
      expect(single.replaced).toBe(2);
      expect(Array.from((await single.prepare(pantalon)).input)).toEqual(Array.from(expected.input));
    } finally {
      await single.close();
    }
  }, 30_000);

  it('with 0 workers, prepares on the calling thread; a closed pool refuses work', async () => {
    const inline = new PreprocessPool(0);
    expect((await inline.prepare(readFileSync(join(IMAGES, 'robe.png')))).input.length).toBe(784);
    await inline.close();
    await expect(inline.prepare(Buffer.alloc(1))).rejects.toThrow(/closed/);
    expect(() => new PreprocessPool(-1)).toThrow(/workers: -1/);
    expect(() => new PreprocessPool(1, { photoTimeoutMs: 0 })).toThrow(/photoTimeoutMs: 0/);
  });
});

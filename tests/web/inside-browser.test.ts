/**
 * "Dans le réseau" in a real browser (Chromium driven by playwright-core): strokes drawn with the
 * mouse, a finger (touch events) and the keyboard change the feature maps and the probabilities;
 * the drawn picture reaches the model unchanged (the page's 784 input values are the server's
 * preprocessing of the canvas' own pixels, and the probabilities the model's own for them); a
 * dropped photo goes the same way; screenshots in reports/web/. Skipped without Chromium (a failure in CI).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { chromium, type FileChooser, type Page } from 'playwright-core';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../lib/backend';
import { DIGIT_CLASSES, FASHION_CLASSES } from '../../lib/data';
import { saveModel } from '../../lib/io';
import { buildModel } from '../../lib/models';
import { PROJECT_ROOT } from '../../lib/paths';
import { photosToTensor, preprocessPhoto } from '../../lib/preprocess';
import { startServer } from '../../web/server';
import { temporaryFolder } from '../helpers/fixtures';
import { CHROMIUM, CHROMIUM_ARGS, needsChromium } from '../helpers/tools';
import { SAMPLE_PHOTOS, serverWithModel } from './helpers';

interface Last {
  input: number[];
  probabilities: number[];
  classIndex: number;
  label: string;
  layerSums: number[];
}

const SCREENSHOTS = join(PROJECT_ROOT, 'reports', 'web');

/** Waits until no request is in flight and no change is waiting, then returns what the page last drew. */
async function settled(page: Page, after = 0): Promise<Last> {
  await page.waitForFunction((count) => {
    const stats = (window as unknown as { insideStats: { busy: boolean; updates: unknown[] } }).insideStats;
    return stats && !stats.busy && stats.updates.length > count;
  }, after, { timeout: 20_000 });
  return page.evaluate(() => (window as unknown as { insideStats: { last: Last } }).insideStats.last);
}

async function updateCount(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { insideStats: { updates: unknown[] } }).insideStats.updates.length);
}

/** The drawing canvas' own pixels, as a PNG made here (not the one the page sent). */
async function canvasPng(page: Page): Promise<Buffer> {
  // As base64: an array of 313 600 numbers takes Playwright seconds to carry.
  const rgba = await page.evaluate(() => {
    const canvas = document.getElementById('drawing') as HTMLCanvasElement;
    const bytes = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let text = '';
    for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
    return btoa(text);
  });
  return sharp(Buffer.from(rgba, 'base64'), { raw: { width: 280, height: 280, channels: 4 } }).png().toBuffer();
}

/** The 28 x 28 picture the page shows as "what the model sees", grey levels. */
async function shownInput(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const canvas = document.getElementById('input') as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, 28, 28).data;
    return Array.from({ length: 784 }, (_, i) => data[4 * i]);
  });
}

function modelProbabilities(model: tfTypes.LayersModel, input: Float32Array): number[] {
  const tf = loadNativeTf();
  return Array.from(tf.tidy(() => (model.predict(photosToTensor(tf, [{ input } as never])) as tfTypes.Tensor).dataSync()));
}

/** A mouse stroke through `points` (CSS pixels inside the drawing area). */
async function stroke(page: Page, points: [number, number][]): Promise<void> {
  const box = (await page.locator('#drawing').boundingBox())!;
  await page.mouse.move(box.x + points[0][0], box.y + points[0][1]);
  await page.mouse.down();
  for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 6 });
  await page.mouse.up();
}

needsChromium().describe('"Dans le réseau" in Chromium', () => {
  it('updates every layer as one draws (mouse, touch, keyboard), with the very input the server prepares', async () => {
    const server = await serverWithModel();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const context = await browser.newContext({ viewport: { width: 1200, height: 1000 }, hasTouch: true, locale: 'fr-FR' });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // File choosers are intercepted from the start (listening just before the key can come too late).
      const choosers: FileChooser[] = [];
      page.on('filechooser', (chooser) => choosers.push(chooser));
      await page.goto(`${server.running.url}/dans-le-reseau`);
      expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe('Dans le réseau');
      // The empty drawing first (computed by the server while TensorFlow.js loads), then the page
      // computes in the browser: the bundled preprocessing and TensorFlow.js on the served model.
      await page.waitForFunction(() => (window as unknown as { insideStats: { backend?: string } }).insideStats.backend, undefined, { timeout: 30_000 });
      expect(await page.locator('#engine').textContent()).toMatch(/^Calcul : dans votre navigateur \(TensorFlow\.js, (cpu|webgl), [\d.]+ ms par image\)\.$/);
      const blank = await settled(page);
      expect(blank.input.every((value) => value === 0)).toBe(true);
      expect(await page.locator('#probabilities li').count()).toBe(10);
      expect(await page.locator('#probabilities li .name').allTextContents()).toEqual([...FASHION_CLASSES]);
      expect(await page.locator('#layers .layer').count()).toBe(4);

      // Mouse strokes: a pair of trousers, roughly.
      let count = await updateCount(page);
      await stroke(page, [[90, 40], [190, 40]]);
      await stroke(page, [[95, 40], [80, 250]]);
      await stroke(page, [[185, 40], [200, 250]]);
      const drawn = await settled(page, count);
      expect(drawn.input.some((value) => value > 0.5)).toBe(true);
      // Convolution, pooling and hidden dense layers all changed (the output's sum stays 1), and so did the probabilities.
      drawn.layerSums.slice(0, -1).forEach((sum, i) => expect(sum).not.toBeCloseTo(blank.layerSums[i], 4));
      expect(drawn.probabilities).not.toEqual(blank.probabilities);
      expect(drawn.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);

      // The drawn picture reaches the model unchanged: the server's preprocessing of the canvas' own
      // pixels gives the same 784 values as the page's, and the model's own probabilities for them.
      const expected = await preprocessPhoto(await canvasPng(page));
      expect(drawn.input).toEqual(Array.from(expected.input));
      modelProbabilities(server.model, expected.input).forEach((p, i) => expect(drawn.probabilities[i]).toBeCloseTo(p, 6));
      expect(await shownInput(page)).toEqual(Array.from(expected.display));
      expect(await page.locator('#verdict').textContent()).toMatch(/^Selon moi l'image est : .+ \(\d+,\d %\)$/);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'dans-le-reseau.png'), fullPage: true });

      // A finger: touch events become the same strokes.
      count = await updateCount(page);
      const cdp = await context.newCDPSession(page);
      const box = (await page.locator('#drawing').boundingBox())!;
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: box.x + 140, y: box.y + 60 }] });
      for (let y = 70; y <= 240; y += 10) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: box.x + 140, y: box.y + y }] });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      const touched = await settled(page, count);
      expect(touched.input).not.toEqual(drawn.input);
      expect(touched.input).toEqual(Array.from((await preprocessPhoto(await canvasPng(page))).input));

      // The clear button empties the drawing and the model's input.
      count = await updateCount(page);
      await page.click('#clear');
      expect((await settled(page, count)).input.every((value) => value === 0)).toBe(true);

      // The keyboard: focus the area, Space puts the pen down, arrows draw, Space lifts it, Delete clears.
      await page.focus('#drawing');
      expect(await page.locator('#pen-state').textContent()).toMatch(/^Crayon levé en \(140, 140\)/);
      count = await updateCount(page);
      await page.keyboard.press('Space');
      for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowUp');
      for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Space');
      expect(await page.locator('#pen-state').textContent()).toMatch(/^Crayon levé en \(200, 60\)/);
      const typed = await settled(page, count);
      expect(typed.input.filter((value) => value > 0.5).length).toBeGreaterThan(10);
      expect(typed.input).toEqual(Array.from((await preprocessPhoto(await canvasPng(page))).input));
      count = await updateCount(page);
      await page.keyboard.press('Delete');
      expect((await settled(page, count)).input.every((value) => value === 0)).toBe(true);
      // An example drawn by a button (keyboard users reach it with Tab).
      count = await updateCount(page);
      await page.click('button.example >> nth=0');
      expect((await settled(page, count)).input.some((value) => value > 0.5)).toBe(true);

      // A photo, chosen from the keyboard (the button opens the file chooser), goes through the same
      // preprocessing as on "Classer une image".
      count = await updateCount(page);
      await page.focus('#choose');
      await page.keyboard.press('Enter');
      for (let waited = 0; choosers.length === 0 && waited < 10_000; waited += 50) await page.waitForTimeout(50);
      expect(choosers).toHaveLength(1);
      await choosers[0].setFiles(SAMPLE_PHOTOS[0]);
      const photo = await settled(page, count);
      expect(photo.input).toEqual(Array.from((await preprocessPhoto(SAMPLE_PHOTOS[0])).input));
      expect(await page.locator('#status').textContent()).toContain('pantalon.jpg');

      // Every update was measured, drawings computed in the browser, photos on the server.
      const updates = await page.evaluate(() => (window as unknown as { insideStats: { updates: { latency: number; kind: string; where: string }[] } }).insideStats.updates);
      expect(updates.every((update) => update.latency > 0 && update.latency < 5000)).toBe(true);
      expect(new Set(updates.slice(1).map((update) => `${update.kind} ${update.where}`))).toEqual(new Set(['dessin navigateur', 'photo serveur']));

      // With ?calcul=serveur, the drawing goes to the server as raw pixels: the same 784 values again.
      await page.goto(`${server.running.url}/dans-le-reseau?calcul=serveur`);
      await settled(page);
      expect(await page.locator('#engine').textContent()).toBe('Calcul : sur le serveur.');
      count = await updateCount(page);
      await stroke(page, [[60, 200], [220, 80]]);
      const onServer = await settled(page, count);
      const prepared = await preprocessPhoto(await canvasPng(page));
      expect(onServer.input).toEqual(Array.from(prepared.input));
      modelProbabilities(server.model, prepared.input).forEach((p, i) => expect(onServer.probabilities[i]).toBeCloseTo(p, 6));
      expect(await page.evaluate(() => (window as unknown as { insideStats: { updates: { where: string }[] } }).insideStats.updates.map((u) => u.where))).not.toContain('navigateur');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.cleanup();
    }
  }, 120_000);

  it('shows digits for the MNIST digits model', async () => {
    const folder = temporaryFolder('analyse-image-inside-digits-');
    await saveModel(buildModel('mnist-digits'), folder.dir);
    const running = await startServer({ port: 0, modelDir: folder.dir, workers: 1 });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
      await page.goto(`${running.url}/dans-le-reseau`);
      await settled(page);
      expect(await page.locator('#probabilities li .name').allTextContents()).toEqual([...DIGIT_CLASSES]);
      // Two convolutions and two poolings, then the output layer.
      expect(await page.locator('#layers .layer').evaluateAll((sections) => sections.map((s) => (s as HTMLElement).dataset.kind))).toEqual(['convolution', 'pooling', 'convolution', 'pooling', 'dense']);
      expect(await page.locator('main').textContent()).toContain('Dessinez un chiffre');
      const count = await updateCount(page);
      await page.click('button.example >> text=un 7');
      const seven = await settled(page, count);
      expect(DIGIT_CLASSES).toContain(seven.label);
      await page.screenshot({ path: join(SCREENSHOTS, 'dans-le-reseau-chiffres.png'), fullPage: true });
    } finally {
      await browser.close();
      await running.close();
      folder.cleanup();
    }
  }, 90_000);
});

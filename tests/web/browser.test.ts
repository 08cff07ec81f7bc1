/**
 * The web app in a real browser: Chromium (Debian's, driven by playwright-core) uploads a photo,
 * reads the verdict the page shows, and saves a screenshot to reports/web/. `npm run check:web`.
 * Skipped, with a message, where Chromium is not installed; a failure in CI (tests/helpers/tools.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { FASHION_CLASSES } from '../../lib/data';
import { PROJECT_ROOT } from '../../lib/paths';
import { CHROMIUM, CHROMIUM_ARGS, needsChromium } from '../helpers/tools';
import { postImage, SAMPLE_PHOTOS, sampleBytes, serverWithModel } from './helpers';

needsChromium().describe('the web app in Chromium', () => {
  it('uploads a photo and shows the verdict, the model input and the chart', async () => {
    const server = await serverWithModel();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1100 } });
      await page.goto(server.running.url);
      await page.setInputFiles('#file', SAMPLE_PHOTOS[0]);
      const verdict = page.locator('#verdict');
      await verdict.waitFor({ state: 'visible', timeout: 20_000 });
      const text = (await verdict.textContent()) ?? '';
      // The page says what the API says for the same photo, in French with a decimal comma.
      const answer = (await (await postImage(server.running.url, sampleBytes(0), 'pantalon.jpg')).json()) as { label: string; classIndex: number; probabilities: number[] };
      const percent = (answer.probabilities[answer.classIndex] * 100).toLocaleString('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      expect(text).toBe(`Selon moi l'image est : ${answer.label} (${percent} %)`);
      expect(FASHION_CLASSES).toContain(answer.label);
      // The 28x28 input is drawn, and plotly drew the ten bars.
      expect(await page.locator('#input-image').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(28);
      await page.locator('#probabilities .main-svg').first().waitFor({ timeout: 10_000 });
      expect(await page.locator('#probabilities .bars .point').count()).toBe(10);
      const folder = join(PROJECT_ROOT, 'reports', 'web');
      mkdirSync(folder, { recursive: true });
      await page.screenshot({ path: join(folder, 'classer-une-image.png'), fullPage: true });

      // A file that is not an image: the page shows the server's French message.
      await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('pas une image') });
      await page.locator('#status.error').waitFor({ timeout: 10_000 });
      expect(await page.locator('#status').textContent()).toMatch(/^Erreur : Impossible de lire l'image « notes\.txt »/);
    } finally {
      await browser.close();
      await server.cleanup();
    }
  }, 90_000);
});

/**
 * `npm run bench:inside [-- --arch one-conv|four-conv|mnist-digits] [--model DIR] [--strokes N]`:
 * stroke-to-update latency (p50, p95) of the "Dans le réseau" page, from the pointer event to the
 * frame where every layer is redrawn, in headless Chromium against the server started as
 * `npm run serve` starts it (its own process), for both designs: computed in the browser (the
 * page's default: bundled preprocessing and TensorFlow.js) and on the server (?calcul=serveur).
 * Two cases each: a single dot drawn on an idle page, and the updates during continuous strokes
 * (changes made while one is computed wait for the next one); with the time from the start of the
 * computation to the frame, and its preparing and model parts. Budget: 50 ms.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { MODEL_JSON, saveModel } from '../lib/io';
import { buildModel, MODEL_NAMES, type ModelName } from '../lib/models';
import { modelDir, PROJECT_ROOT } from '../lib/paths';
import { CHROMIUM, CHROMIUM_ARGS } from '../tests/helpers/tools';
import { temporaryFolder } from '../tests/helpers/fixtures';

const BUDGET_MS = 50;

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function row(title: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const cell = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(1)).padStart(8);
  return `${title.padEnd(50)}${cell(percentile(sorted, 50))}${cell(percentile(sorted, 95))}${cell(sorted[sorted.length - 1])}${String(sorted.length).padStart(7)}`;
}

interface Update {
  latency: number;
  roundTrip: number;
  server: { prepareMs: number; modelMs: number };
}

async function updates(page: Page): Promise<Update[]> {
  return page.evaluate(() => (window as unknown as { insideStats: { updates: Update[] } }).insideStats.updates.slice());
}

async function settle(page: Page): Promise<void> {
  await page.waitForFunction(() => !(window as unknown as { insideStats: { busy: boolean } }).insideStats.busy, undefined, { timeout: 30_000 });
}

/** Single dots on an idle page, then continuous strokes (the mouse moving every 8 ms, as fast as a hand). */
async function measure(page: Page, strokes: number): Promise<{ isolated: Update[]; continuous: Update[] }> {
  const box = (await page.locator('#drawing').boundingBox())!;
  // Warm-up: the first pictures pay for the workers', TensorFlow's or the browser's first calls.
  for (let i = 0; i < 5; i++) {
    await page.mouse.click(box.x + 40 + 40 * i, box.y + 140);
    await settle(page);
  }
  let before = (await updates(page)).length;
  for (let i = 0; i < 30; i++) {
    await page.mouse.click(box.x + 30 + ((i * 37) % 220), box.y + 30 + ((i * 53) % 220));
    await settle(page);
    if (i % 10 === 9) {
      await page.click('#clear');
      await settle(page);
    }
  }
  const isolated = (await updates(page)).slice(before);
  await page.click('#clear');
  await settle(page);
  before = (await updates(page)).length;
  for (let s = 0; s < strokes; s++) {
    const y = 30 + ((s * 41) % 220);
    await page.mouse.move(box.x + 20, box.y + y);
    await page.mouse.down();
    for (let x = 20; x <= 260; x += 8) {
      await page.mouse.move(box.x + x, box.y + y + Math.round(20 * Math.sin(x / 30)));
      await new Promise((resolve) => setTimeout(resolve, 8));
    }
    await page.mouse.up();
    await settle(page);
    if (s % 4 === 3) {
      await page.click('#clear');
      await settle(page);
    }
  }
  return { isolated, continuous: (await updates(page)).slice(before) };
}

async function main(): Promise<void> {
  if (!CHROMIUM) throw new Error('Chromium est introuvable (/usr/bin/chromium) : apt-get install chromium');
  const strokes = Number(option('--strokes') ?? 12);
  const arch = option('--arch') as ModelName | undefined;
  if (arch && !MODEL_NAMES.includes(arch)) throw new Error(`--arch : ${arch} inconnu (${MODEL_NAMES.join(', ')})`);
  let folder = option('--model');
  let scratch: ReturnType<typeof temporaryFolder> | undefined;
  if (!folder && !arch && existsSync(join(modelDir(), MODEL_JSON))) folder = modelDir();
  if (!folder) {
    scratch = temporaryFolder('analyse-image-bench-inside-');
    await saveModel(buildModel(arch ?? 'one-conv'), scratch.dir);
    folder = scratch.dir;
  }
  const port = await freePort();
  const server = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['web/cli.ts', '--port', String(port), '--model', folder], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  const url = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`${url}/api/health`).then((r) => r.ok, () => false)) break;
      if (i > 300) throw new Error('le serveur ne démarre pas');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const results: { title: string; isolated: Update[]; continuous: Update[] }[] = [];
    let layers = 0;
    for (const mode of ['navigateur', 'serveur'] as const) {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      await page.goto(`${url}/dans-le-reseau${mode === 'serveur' ? '?calcul=serveur' : ''}`);
      if (mode === 'navigateur') {
        await page.waitForFunction(() => (window as unknown as { insideStats: { backend?: string } }).insideStats.backend, undefined, { timeout: 60_000 });
      }
      await settle(page);
      layers = await page.locator('#layers .layer').count();
      const engine = (await page.locator('#engine').textContent()) ?? '';
      results.push({ title: engine.replace(/^Calcul : /, '').replace(/\.$/, ''), ...(await measure(page, strokes)) });
      await page.close();
    }

    console.log(`Dans le réseau : modèle ${folder.replace(`${PROJECT_ROOT}/`, '')}${arch ? ` (${arch})` : ''}, ${layers} couches affichées, Chromium headless`);
    console.log(`${'(ms)'.padEnd(50)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'max'.padStart(8)}${'n'.padStart(7)}`);
    for (const result of results) {
      console.log(result.title);
      console.log(row('  trait -> mise à jour, point isolé', result.isolated.map((u) => u.latency)));
      console.log(row('  trait -> mise à jour, pendant un trait', result.continuous.map((u) => u.latency)));
      const all = [...result.isolated, ...result.continuous];
      console.log(row('    dont calcul -> affichage', all.map((u) => u.roundTrip)));
      console.log(row('    dont préparation du dessin', all.map((u) => u.server.prepareMs)));
      console.log(row('    dont modèle, toutes les couches', all.map((u) => u.server.modelMs)));
    }
    for (const result of results) {
      const p95 = percentile([...result.continuous.map((u) => u.latency)].sort((a, b) => a - b), 95);
      console.log(`Budget ${BUDGET_MS} ms, ${result.title} : p95 pendant un trait ${p95.toFixed(1)} ms, ${p95 <= BUDGET_MS ? 'tenu' : 'DÉPASSÉ'}.`);
    }
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    scratch?.cleanup();
  }
}

main().catch((error: Error) => {
  console.error(`bench:inside : ${error.message}`);
  process.exit(1);
});

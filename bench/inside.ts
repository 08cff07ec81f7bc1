/**
 * `npm run bench:inside [-- --arch one-conv|four-conv|mnist-digits] [--model DIR] [--strokes N]`:
 * stroke-to-update latency (p50, p95) of the "Dans le réseau" page, from the pointer event to the
 * frame where every layer is redrawn, in headless Chromium against the server started as
 * `npm run serve` starts it (its own process). Two cases: a single dot drawn on an idle page, and
 * the updates during continuous strokes (changes made while a request is in flight wait for the
 * next one). Also the server's share (preparing the picture, running the model), and what the
 * other design would cost: the same model run in the browser by TensorFlow.js (cpu and webgl
 * backends, the model alone, without the preprocessing). Budget: 50 ms.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { MODEL_JSON, MODEL_WEIGHTS, readModelArtifacts, saveModel } from '../lib/io';
import { tfjsTopology } from '../lib/io/keras3';
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

/** The model of the served folder, run in the page by TensorFlow.js (from node_modules, no CDN) with one output per layer. */
async function browserModelTimes(page: Page, folder: string, backend: 'cpu' | 'webgl', runs: number): Promise<number[] | string> {
  const artifacts = readModelArtifacts(folder);
  const description = JSON.parse(readFileSync(join(folder, MODEL_JSON), 'utf8'));
  description.modelTopology = tfjsTopology(artifacts.modelTopology);
  await page.route('**/bench/tf.min.js', (route) => route.fulfill({ path: join(PROJECT_ROOT, 'node_modules', '@tensorflow', 'tfjs', 'dist', 'tf.min.js'), contentType: 'text/javascript' }));
  await page.route('**/bench/model/modele.json', (route) => route.fulfill({ body: JSON.stringify(description), contentType: 'application/json' }));
  await page.route(`**/bench/model/${MODEL_WEIGHTS}`, (route) => route.fulfill({ path: join(folder, MODEL_WEIGHTS), contentType: 'application/octet-stream' }));
  if (!(await page.evaluate(() => 'tf' in window))) await page.addScriptTag({ url: '/bench/tf.min.js' });
  return page.evaluate(async ({ backend, runs }) => {
    const tf = (window as any).tf;
    if (!(await tf.setBackend(backend))) return `backend ${backend} indisponible`;
    await tf.ready();
    const model = await tf.loadLayersModel('/bench/model/modele.json');
    const shown = model.layers.filter((layer: any) => /Conv2D|Pooling2D|Dense/.test(layer.getClassName()));
    const probe = tf.model({ inputs: model.inputs, outputs: shown.map((layer: any) => layer.output) });
    const times: number[] = [];
    for (let i = 0; i < runs + 3; i++) {
      const x = tf.randomUniform([1, 28, 28, 1]);
      const started = performance.now();
      const outputs = probe.predict(x);
        await Promise.all(outputs.map((y: any) => y.data()));
      if (i >= 3) times.push(performance.now() - started);
      tf.dispose([x, ...outputs]);
    }
    return times;
  }, { backend, runs });
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
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    await page.goto(`${url}/dans-le-reseau`);
    await settle(page);
    const box = (await page.locator('#drawing').boundingBox())!;
    const layers = await page.locator('#layers .layer').count();
    // Warm-up: the first pictures pay for the workers' and TensorFlow's start.
    for (let i = 0; i < 5; i++) {
      await page.mouse.click(box.x + 40 + 40 * i, box.y + 140);
      await settle(page);
    }

    // A single dot on an idle page, again and again.
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

    // Continuous strokes: the mouse moves every few milliseconds, as fast as a hand.
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
    const continuous = (await updates(page)).slice(before);

    const cpuTimes = await browserModelTimes(page, folder, 'cpu', 40);
    // A page of its own (a backend once set stays for the page); any page of the server's origin does.
    const webglPage = await browser.newPage();
    await webglPage.goto(`${url}/api/health`);
    const webglTimes = await browserModelTimes(webglPage, folder, 'webgl', 20).catch((error: Error) => error.message);

    console.log(`Dans le réseau : modèle ${folder.replace(`${PROJECT_ROOT}/`, '')}${arch ? ` (${arch})` : ''}, ${layers} couches affichées, Chromium headless`);
    console.log(`${'(ms)'.padEnd(50)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'max'.padStart(8)}${'n'.padStart(7)}`);
    console.log(row('trait -> mise à jour, point isolé', isolated.map((u) => u.latency)));
    console.log(row('trait -> mise à jour, pendant un trait', continuous.map((u) => u.latency)));
    const all = [...isolated, ...continuous];
    console.log(row('  dont aller-retour (envoi -> affichage)', all.map((u) => u.roundTrip)));
    console.log(row('  dont serveur : préparation du dessin', all.map((u) => u.server.prepareMs)));
    console.log(row('  dont serveur : modèle, toutes les couches', all.map((u) => u.server.modelMs)));
    const browserRow = (name: string, times: number[] | string) => (typeof times === 'string' ? `${name.padEnd(50)}${times}` : row(name, times));
    console.log(browserRow('autre choix : modèle dans le navigateur (tfjs cpu)', cpuTimes));
    console.log(browserRow('autre choix : modèle dans le navigateur (tfjs webgl)', webglTimes));
    const p95 = percentile([...continuous.map((u) => u.latency)].sort((a, b) => a - b), 95);
    console.log(`\nBudget ${BUDGET_MS} ms par mise à jour : p95 pendant un trait ${p95.toFixed(1)} ms, ${p95 <= BUDGET_MS ? 'tenu' : 'DÉPASSÉ'}.`);
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

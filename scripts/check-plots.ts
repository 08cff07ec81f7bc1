/**
 * `npm run check:plots`: proves that an executed notebook's plots render where people look at them,
 * and fails when one does not:
 *  1. the HTML of `jupyter nbconvert --to html`, opened in headless Chromium with the network cut:
 *     every plot picture must load;
 *  2. JupyterLab (the project's .venv, as `npm start` sets it up) opened on the same saved notebook:
 *     every plotly output must be drawn by the plotly extension (an interactive chart), not left blank.
 * Screenshots of both are saved for a human to look at.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { basename, join, relative, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../lib/paths';
import { executedCopyPath } from './notebook-list';
import { ensurePythonEnv, VENV_DIR } from './python-env';
import { writeKernelSpec } from './setup/kernel';

const HELP = `npm run check:plots [-- --notebook FICHIER.ipynb] [--out DOSSIER]

Vérifie que les graphiques d'un notebook exécuté s'affichent : dans le HTML de
« jupyter nbconvert --to html » ouvert sans réseau, et dans JupyterLab. Enregistre des captures.
Par défaut : reports/lab/classification.ipynb, sinon reports/lab/quick/classification.ipynb
(faites d'abord « npm run lab » ou « npm run lab -- --quick »). Sortie : reports/plots/.
Chromium est nécessaire (Debian : apt-get install chromium).`;

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function chromiumPath(): string | undefined {
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((path) => existsSync(path));
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Counts the outputs that carry a plot: plotly JSON, and PNG pictures. */
function expectedPlots(notebookPath: string): { plotly: number; png: number } {
  const notebook = JSON.parse(readFileSync(notebookPath, 'utf8')) as { cells: { outputs?: { data?: Record<string, unknown> }[] }[] };
  let plotly = 0;
  let png = 0;
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      if (output.data?.['application/vnd.plotly.v1+json']) plotly++;
      if (output.data?.['image/png']) png++;
    }
  }
  return { plotly, png };
}

/** Blocks every request that would leave this machine: the pages must render offline. */
async function offline(page: Page, allowedOrigin?: string): Promise<string[]> {
  const blocked: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:') || (allowedOrigin && url.startsWith(allowedOrigin))) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  return blocked;
}

async function checkNbconvert(browser: Browser, python: string, notebookPath: string, out: string, expected: number): Promise<string[]> {
  const converted = spawnSync(python, ['-m', 'jupyter', 'nbconvert', '--to', 'html', '--output-dir', out, notebookPath], { encoding: 'utf8' });
  if (converted.status !== 0) return [`nbconvert failed: ${converted.stderr.trim().split('\n').pop()}`];
  const html = join(out, `${basename(notebookPath, '.ipynb')}.html`);
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const blocked = await offline(page);
  await page.goto(`file://${html}`, { waitUntil: 'load' });
  const images = await page.$$eval('img', (all) => all.map((img) => ({ ok: (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0, png: (img as HTMLImageElement).src.startsWith('data:image/png') })));
  const drawn = images.filter((i) => i.ok && i.png).length;
  await page.screenshot({ path: join(out, 'nbconvert.png'), fullPage: true });
  await page.close();
  const problems: string[] = [];
  if (drawn < expected) problems.push(`nbconvert HTML: ${drawn} of ${expected} plot pictures drawn`);
  console.log(`  nbconvert HTML (offline): ${drawn}/${expected} pictures drawn -> ${relative(PROJECT_ROOT, html)}`);
  if (blocked.length) console.log(`    (blocked, as without network: ${[...new Set(blocked.map((url) => new URL(url).host))].join(', ')})`);
  return problems;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`JupyterLab did not answer on ${url} within ${timeoutMs / 1000} s`);
}

async function checkJupyterLab(browser: Browser, python: string, notebookPath: string, out: string, expected: number): Promise<string[]> {
  const port = await freePort();
  const root = resolve(notebookPath, '..');
  // Our own settings for this check: every cell rendered at once (no virtual scrolling), no news pop-up.
  const settings = mkdtempSync(join(tmpdir(), 'analyse-image-lab-settings-'));
  mkdirSync(join(settings, '@jupyterlab', 'notebook-extension'), { recursive: true });
  mkdirSync(join(settings, '@jupyterlab', 'apputils-extension'), { recursive: true });
  writeFileSync(join(settings, '@jupyterlab', 'notebook-extension', 'tracker.jupyterlab-settings'), JSON.stringify({ windowingMode: 'none' }));
  writeFileSync(join(settings, '@jupyterlab', 'apputils-extension', 'notification.jupyterlab-settings'), JSON.stringify({ fetchNews: 'false' }));
  const lab: ChildProcess = spawn(
    python,
    ['-m', 'jupyter', 'lab', '--no-browser', `--port=${port}`, '--ServerApp.ip=127.0.0.1', "--IdentityProvider.token=''", "--ServerApp.password=''", `--ServerApp.root_dir=${root}`, `--LabApp.user_settings_dir=${settings}`, ...(process.getuid?.() === 0 ? ['--allow-root'] : [])],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, JUPYTER_PATH: join(VENV_DIR, 'share', 'jupyter') } },
  );
  let log = '';
  lab.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  try {
    const origin = `http://127.0.0.1:${port}`;
    await waitForHttp(`${origin}/api/status`, 60_000);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await offline(page, origin);
    await page.goto(`${origin}/lab/tree/${encodeURIComponent(basename(notebookPath))}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.jp-OutputArea-output', { timeout: 90_000 });
    // jupyterlab-plotly shows a figure's PNG first and draws the interactive chart when the pointer
    // enters it: hover each one and wait for plotly's SVG.
    await page.waitForSelector('.jp-RenderedPlotly', { timeout: 60_000 });
    const outputs = await page.$$('.jp-RenderedPlotly');
    let drawn = 0;
    for (const output of outputs) {
      await output.evaluate((element) => element.scrollIntoView({ block: 'center' }));
      await output.hover().catch(() => undefined);
      const svg = await output.waitForSelector('.plot-container .main-svg', { timeout: 20_000 }).catch(() => null);
      if (svg) drawn++;
    }
    const plots = await page.$$('.js-plotly-plot');
    // The screenshot shows the training curves (the first charts of the notebook).
    if (plots.length > 0) await plots[0].evaluate((element) => element.scrollIntoView({ block: 'start' }));
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(out, 'jupyterlab.png') });
    await page.close();
    console.log(`  JupyterLab: ${drawn}/${expected} interactive plotly charts drawn (${outputs.length} plotly outputs) -> ${relative(PROJECT_ROOT, join(out, 'jupyterlab.png'))}`);
    return drawn < expected ? [`JupyterLab: ${drawn} of ${expected} plotly charts drawn`] : [];
  } catch (error) {
    return [`JupyterLab: ${(error as Error).message}\n${log.split('\n').slice(-5).join('\n')}`];
  } finally {
    lab.kill('SIGTERM');
    rmSync(settings, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  const notebookPath = resolve(
    option('--notebook') ??
      [executedCopyPath('classification', false), executedCopyPath('classification', true)].find(existsSync) ??
      '',
  );
  if (!existsSync(notebookPath)) {
    console.error('Aucun notebook exécuté : lancez `npm run lab -- --quick` (ou `npm run lab`) puis recommencez.');
    process.exit(2);
  }
  const executable = chromiumPath();
  if (!executable) {
    console.error('Chromium est introuvable : installez-le (Debian : `apt-get install chromium`) puis recommencez.');
    process.exit(2);
  }
  const out = resolve(option('--out') ?? join(PROJECT_ROOT, 'reports', 'plots'));
  mkdirSync(out, { recursive: true });
  const python = ensurePythonEnv({ 'jupyterlab>=4,<5': 'jupyterlab', plotly: 'plotly' });
  writeKernelSpec(join(VENV_DIR, 'share', 'jupyter', 'kernels'));
  const expected = expectedPlots(notebookPath);
  console.log(`check:plots ${relative(PROJECT_ROOT, notebookPath)}: ${expected.png} PNG pictures, ${expected.plotly} plotly charts`);
  const browser = await chromium.launch({ executablePath: executable, args: CHROMIUM_ARGS });
  const problems: string[] = [];
  try {
    problems.push(...(await checkNbconvert(browser, python, notebookPath, out, expected.png)));
    problems.push(...(await checkJupyterLab(browser, python, notebookPath, out, expected.plotly)));
  } finally {
    await browser.close();
  }
  if (problems.length) {
    console.error(`\nPlots not rendered:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('\nAll plots rendered.');
}

main().catch((error: Error) => {
  console.error(`check:plots: ${error.message}`);
  process.exit(2);
});

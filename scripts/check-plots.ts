/**
 * `npm run check:plots`: proves that an executed notebook's plots render where people look at them,
 * at their size from the first paint, and fails when one does not:
 *  1. the HTML of `jupyter nbconvert --to html`, opened in headless Chromium with the network cut,
 *     at two page widths: every plot picture must load, never wider than its output area, in the
 *     proportions of the size its output carries;
 *  2. JupyterLab (the project's .venv, as `npm start` sets it up, lib/plot's extension included)
 *     opened on the same saved notebook, untrusted and trusted, at two window widths: each plotly
 *     output's box is measured before the pointer enters it (the PNG) and after (the interactive
 *     chart). A box that changes by more than 2 px (a jump of the page below) or is wider than its
 *     output area (an overflow) fails; so does a chart that does not follow a window resized after
 *     it was drawn.
 * Screenshots (before and after hover, each width) are saved in reports/plots/ for a human to look at.
 * `--control` runs JupyterLab without lib/plot's extension (jupyterlab-plotly alone): it is expected
 * to fail, and shows what the check catches.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { basename, join, relative, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../lib/paths';
import { installPlotsExtension, PLOTS_EXTENSION } from '../lib/plot/jupyterlab';
import { CHROMIUM, CHROMIUM_ARGS } from '../tests/helpers/tools';
import { executedCopyPath } from './notebook-list';
import { ensurePythonEnv, VENV_DIR } from './python-env';
import { writeKernelSpec } from './setup/kernel';

const HELP = `npm run check:plots [-- --notebook FICHIER.ipynb] [--out DOSSIER] [--control]

Vérifie que les graphiques d'un notebook exécuté s'affichent à leur taille dès le premier affichage :
dans le HTML de « jupyter nbconvert --to html » ouvert sans réseau, et dans JupyterLab (notebook
de confiance ou non), à deux largeurs. Chaque graphique est mesuré avant et après le passage de la
souris (image, puis graphique interactif) : échec s'il change de taille de plus de 2 px ou s'il
dépasse de sa zone de sortie. Enregistre des captures dans reports/plots/.
Par défaut : reports/lab/classification.ipynb, sinon reports/lab/quick/classification.ipynb
(faites d'abord « npm run lab » ou « npm run lab -- --quick »).
--control : JupyterLab sans l'extension de lib/plot (jupyterlab-plotly seul), pour comparer ; échoue.
Chromium est nécessaire (Debian : apt-get install chromium).`;

/** JupyterLab's windows: a wide screen and a narrow one (file browser open: output areas of about 760 and 500 px). */
const WIDTHS = [1400, 1000] as const;
/** nbconvert's page is wider for the same window (no side bar): output areas of about 890 and 490 px. */
const NBCONVERT_WIDTHS = [1000, 600] as const;
const HEIGHT = 900;
/** A box may move by this much (sub-pixel rounding) without being a jump. */
const TOLERANCE = 2;

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
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

/** A plot output of the notebook: its kind and the CSS size its metadata gives the PNG. */
interface PlotOutput {
  plotly: boolean;
  title: string;
  size?: { width: number; height: number };
}

/** The outputs that carry a plot (plotly JSON and/or PNG), in notebook order. */
function plotOutputs(notebookPath: string): PlotOutput[] {
  type Output = { data?: Record<string, unknown>; metadata?: Record<string, { width?: number; height?: number } | undefined> };
  const notebook = JSON.parse(readFileSync(notebookPath, 'utf8')) as { cells: { outputs?: Output[] }[] };
  const found: PlotOutput[] = [];
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      if (!output.data?.['image/png'] && !output.data?.['application/vnd.plotly.v1+json']) continue;
      const meta = output.metadata?.['image/png'];
      const text = output.data['text/plain'];
      found.push({
        plotly: Boolean(output.data['application/vnd.plotly.v1+json']),
        title: (Array.isArray(text) ? text.join('') : String(text ?? '')).trim(),
        size: meta?.width && meta?.height ? { width: meta.width, height: meta.height } : undefined,
      });
    }
  }
  return found;
}

/** What lib/plot's JupyterLab extension computes: the figure's size, no wider than the area, same proportions. */
function fitBox(size: { width: number; height: number }, available: number): { width: number; height: number } {
  const width = Math.min(size.width, Math.floor(available));
  return { width, height: Math.round((size.height * width) / size.width) };
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

interface Box {
  width: number;
  height: number;
}

const size = (box: Box): string => `${Math.round(box.width)} x ${Math.round(box.height)}`;
const differs = (a: Box, b: Box): boolean => Math.abs(a.width - b.width) > TOLERANCE || Math.abs(a.height - b.height) > TOLERANCE;

async function checkNbconvert(browser: Browser, python: string, notebookPath: string, out: string, outputs: PlotOutput[]): Promise<string[]> {
  const converted = spawnSync(python, ['-m', 'jupyter', 'nbconvert', '--to', 'html', '--output-dir', out, notebookPath], { encoding: 'utf8' });
  if (converted.status !== 0) return [`nbconvert a échoué : ${converted.stderr.trim().split('\n').pop()}`];
  const html = join(out, `${basename(notebookPath, '.ipynb')}.html`);
  const problems: string[] = [];
  console.log(`  HTML de nbconvert (hors ligne) -> ${relative(PROJECT_ROOT, html)}`);
  for (const width of NBCONVERT_WIDTHS) {
    const page = await browser.newPage({ viewport: { width, height: HEIGHT } });
    const blocked = await offline(page);
    await page.goto(`file://${html}`, { waitUntil: 'load' });
    const images = await page.$$eval('.jp-RenderedImage img', (all) =>
      all.map((element) => {
        const img = element as HTMLImageElement;
        const area = img.closest('.jp-OutputArea-output')!.getBoundingClientRect();
        const box = img.getBoundingClientRect();
        return { ok: img.complete && img.naturalWidth > 0 && img.src.startsWith('data:image/png'), width: box.width, height: box.height, right: box.right, areaWidth: area.width, areaRight: area.right };
      }),
    );
    await page.screenshot({ path: join(out, `nbconvert-${width}.png`), fullPage: true });
    await page.close();
    const drawn = images.filter((image) => image.ok).length;
    if (drawn < outputs.length) problems.push(`nbconvert ${width} px : ${drawn} images de graphique affichées sur ${outputs.length}`);
    const lines: string[] = [];
    images.forEach((image, i) => {
      const meta = outputs[i]?.size;
      const want = meta ? fitBox(meta, image.areaWidth) : undefined;
      const overflow = image.right > image.areaRight + 1;
      if (overflow) problems.push(`nbconvert ${width} px, image ${i + 1} : ${size(image)} dépasse de sa zone (${Math.round(image.areaWidth)} px)`);
      if (want && differs(image, want)) problems.push(`nbconvert ${width} px, image ${i + 1} : ${size(image)} au lieu de ${size(want)}`);
      lines.push(`${size(image)}${overflow ? ' (DÉPASSE)' : ''}`);
    });
    console.log(`    fenêtre ${width} px, zone ${Math.round(images[0]?.areaWidth ?? 0)} px : ${drawn}/${outputs.length} images (${lines.join(' ; ')}) -> nbconvert-${width}.png`);
    if (blocked.length) console.log(`      (bloqué, comme sans réseau : ${[...new Set(blocked.map((url) => new URL(url).host))].join(', ')})`);
  }
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
  throw new Error(`JupyterLab ne répond pas sur ${url} après ${timeoutMs / 1000} s`);
}

/** One plotly output's boxes: the output area's width, what is shown (PNG or chart), and the output's own height. */
interface Measure {
  area: number;
  shown: Box & { kind: string; right: number; areaRight: number };
  output: Box;
}

/** Measures every plotly output of the page (`.jp-RenderedPlotly`), in notebook order. */
function measurePlotly(page: Page): Promise<Measure[]> {
  return page.$$eval('.jp-RenderedPlotly', (all) =>
    all.map((node) => {
      const area = node.closest('.jp-OutputArea-output')!.getBoundingClientRect();
      // No function declared in here: tsx would wrap it in a helper the page does not have.
      const img = node.querySelector('img.plot-img');
      const chart = node.querySelector('.svg-container');
      const container = node.querySelector('.plot-container');
      const target = chart && container && getComputedStyle(container).display !== 'none' ? chart : img;
      const box = (target ?? node).getBoundingClientRect();
      const own = node.getBoundingClientRect();
      return {
        area: area.width,
        shown: { kind: target === img ? 'image' : 'graphique', width: box.width, height: box.height, right: box.right, areaRight: area.right },
        output: { width: own.width, height: own.height },
      };
    }),
  );
}

/** The trust flag the server gives the notebook's code cells (what JupyterLab renders outputs with). */
async function serverTrust(origin: string, name: string): Promise<boolean> {
  const model = (await (await fetch(`${origin}/api/contents/${encodeURIComponent(name)}?content=1`)).json()) as { content: { cells: { cell_type: string; metadata: { trusted?: boolean } }[] } };
  return model.content.cells.filter((cell) => cell.cell_type === 'code').every((cell) => cell.metadata.trusted === true);
}

interface LabPass {
  file: string;
  trusted: boolean;
  width: number;
}

async function checkPass(browser: Browser, origin: string, pass: LabPass, outputs: PlotOutput[], out: string): Promise<string[]> {
  const plotly = outputs.filter((output) => output.plotly);
  const label = `JupyterLab ${pass.trusted ? 'de confiance' : 'sans confiance'} ${pass.width} px`;
  const problems: string[] = [];
  const page = await browser.newPage({ viewport: { width: pass.width, height: HEIGHT } });
  try {
    await offline(page, origin);
    // A workspace of its own, reset: JupyterLab would otherwise reopen the previous pass's notebook beside this one.
    await page.goto(`${origin}/lab/workspaces/check-${pass.trusted ? 'confiance' : 'sans-confiance'}-${pass.width}/tree/${encodeURIComponent(pass.file)}?reset`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.jp-OutputArea-output', { timeout: 90_000 });
    await page.waitForFunction((count) => document.querySelectorAll('.jp-RenderedPlotly').length >= count, plotly.length, { timeout: 60_000 });
    // Every PNG decoded (the box is known before that, but the screenshot should show the pictures).
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.jp-RenderedPlotly img.plot-img')).every((img) => (img as HTMLImageElement).complete), undefined, { timeout: 30_000 });
    const outputsOnPage = await page.$$('.jp-RenderedPlotly');
    const first = outputsOnPage[0];
    const shot = async (name: string) => {
      await first?.evaluate((element) => element.scrollIntoView({ block: 'start' }));
      await page.waitForTimeout(400);
      await page.screenshot({ path: join(out, name) });
    };
    const before = await measurePlotly(page);
    await shot(`jupyterlab-${pass.width}${pass.trusted ? '-confiance' : ''}-avant.png`);

    // jupyterlab-plotly draws the interactive chart when the pointer enters the PNG.
    let drawn = 0;
    for (const output of outputsOnPage) {
      await output.evaluate((element) => element.scrollIntoView({ block: 'center' }));
      await output.hover().catch(() => undefined);
      const svg = await output.waitForSelector('.plot-container .main-svg', { timeout: 20_000 }).catch(() => null);
      if (svg) drawn++;
    }
    await page.mouse.move(0, 0);
    // plotly redraws once after its first paint and resizes after 100 ms.
    await page.waitForTimeout(800);
    const after = await measurePlotly(page);
    await shot(`jupyterlab-${pass.width}${pass.trusted ? '-confiance' : ''}-apres.png`);

    if (drawn < plotly.length) problems.push(`${label} : ${drawn} graphiques interactifs dessinés sur ${plotly.length}`);
    const lines: string[] = [];
    before.forEach((b, i) => {
      const a = after[i];
      const name = `${label}, ${plotly[i]?.title || `graphique ${i + 1}`}`;
      const jump = differs(b.shown, a.shown) || differs(b.output, a.output);
      if (jump) problems.push(`${name} : saut au passage de la souris, ${b.shown.kind} ${size(b.shown)} puis ${a.shown.kind} ${size(a.shown)} (sortie ${size(b.output)} puis ${size(a.output)})`);
      for (const [when, m] of [['avant', b], ['après', a]] as const) {
        if (m.shown.right > m.shown.areaRight + 1) problems.push(`${name} : ${m.shown.kind} ${size(m.shown)} ${when} le survol, plus large que sa zone de sortie (${Math.round(m.area)} px)`);
      }
      lines.push(`      ${String(i + 1).padStart(2)}. ${plotly[i]?.title ?? ''} : ${b.shown.kind} ${size(b.shown)} -> ${a.shown.kind} ${size(a.shown)}${jump ? '  SAUT' : ''}`);
    });
    console.log(`    ${label} (zone de sortie ${Math.round(before[0]?.area ?? 0)} px) : ${drawn}/${plotly.length} graphiques interactifs`);
    console.log(lines.join('\n'));

    // The charts are drawn: a window resized now (wide <-> narrow) must resize them too.
    const other = WIDTHS.find((width) => width !== pass.width)!;
    await page.setViewportSize({ width: other, height: HEIGHT });
    await page.waitForTimeout(1200);
    const resized = await measurePlotly(page);
    const wrong = resized.flatMap((m, i) => {
      const meta = plotly[i]?.size;
      const want = meta ? fitBox(meta, m.area) : undefined;
      const overflow = m.shown.right > m.shown.areaRight + 1;
      return overflow || (want && differs(m.shown, want)) ? [`${plotly[i]?.title ?? i + 1} : ${size(m.shown)}${want ? ` au lieu de ${size(want)}` : ''}${overflow ? ', dépasse' : ''}`] : [];
    });
    if (wrong.length) problems.push(`${label}, fenêtre passée à ${other} px après le survol : ${wrong.join(' ; ')}`);
    console.log(`      fenêtre passée à ${other} px (zone ${Math.round(resized[0]?.area ?? 0)} px) : ${wrong.length ? `${wrong.length} graphiques faux` : `les ${resized.length} graphiques suivent (${[...new Set(resized.map((m) => size(m.shown)))].join(', ')})`}`);
  } catch (error) {
    problems.push(`${label} : ${(error as Error).message.split('\n')[0]}`);
  } finally {
    await page.close();
  }
  return problems;
}

async function checkJupyterLab(browser: Browser, python: string, notebookPath: string, out: string, outputs: PlotOutput[], control: boolean): Promise<string[]> {
  const port = await freePort();
  const work = mkdtempSync(join(tmpdir(), 'analyse-image-check-plots-'));
  // Copies in a folder of our own: one signed (trusted), one not. Their contents differ by a metadata
  // field, since a signature covers the content and would trust an identical copy too.
  const root = join(work, 'notebooks');
  mkdirSync(root);
  const notary = [`--NotebookNotary.db_file=${join(work, 'signatures.db')}`, `--NotebookNotary.secret_file=${join(work, 'secret')}`];
  const notebook = JSON.parse(readFileSync(notebookPath, 'utf8')) as { metadata: Record<string, unknown> };
  for (const trusted of [false, true]) {
    writeFileSync(join(root, `${trusted ? 'confiance' : 'sans-confiance'}.ipynb`), JSON.stringify({ ...notebook, metadata: { ...notebook.metadata, analyse_image_check: trusted ? 'trusted' : 'untrusted' } }));
  }
  const signed = spawnSync(python, ['-m', 'jupyter', 'trust', ...notary, join(root, 'confiance.ipynb')], { encoding: 'utf8' });
  if (signed.status !== 0) return [`jupyter trust a échoué : ${signed.stderr.trim().split('\n').pop()}`];
  // Our own settings for this check: every cell rendered at once (no virtual scrolling), no news pop-up;
  // in --control, lib/plot's extension disabled (page_config of a config folder of our own).
  const settings = join(work, 'settings');
  mkdirSync(join(settings, '@jupyterlab', 'notebook-extension'), { recursive: true });
  mkdirSync(join(settings, '@jupyterlab', 'apputils-extension'), { recursive: true });
  writeFileSync(join(settings, '@jupyterlab', 'notebook-extension', 'tracker.jupyterlab-settings'), JSON.stringify({ windowingMode: 'none' }));
  writeFileSync(join(settings, '@jupyterlab', 'apputils-extension', 'notification.jupyterlab-settings'), JSON.stringify({ fetchNews: 'false' }));
  const config = join(work, 'config');
  mkdirSync(join(config, 'labconfig'), { recursive: true });
  if (control) writeFileSync(join(config, 'labconfig', 'page_config.json'), JSON.stringify({ disabledExtensions: { [PLOTS_EXTENSION]: true } }));
  const lab: ChildProcess = spawn(
    python,
    ['-m', 'jupyter', 'lab', '--no-browser', `--port=${port}`, '--ServerApp.ip=127.0.0.1', "--IdentityProvider.token=''", "--ServerApp.password=''", `--ServerApp.root_dir=${root}`, `--LabApp.user_settings_dir=${settings}`, ...notary, ...(process.getuid?.() === 0 ? ['--allow-root'] : [])],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, JUPYTER_PATH: join(VENV_DIR, 'share', 'jupyter'), JUPYTER_CONFIG_DIR: config } },
  );
  let log = '';
  lab.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const problems: string[] = [];
  try {
    const origin = `http://127.0.0.1:${port}`;
    await waitForHttp(`${origin}/api/status`, 60_000);
    console.log(`  JupyterLab (${control ? "témoin : jupyterlab-plotly seul, sans l'extension de lib/plot" : `jupyterlab-plotly et l'extension ${PLOTS_EXTENSION}`})`);
    for (const trusted of [false, true]) {
      const file = `${trusted ? 'confiance' : 'sans-confiance'}.ipynb`;
      if ((await serverTrust(origin, file)) !== trusted) problems.push(`${file} : le serveur ne le voit pas ${trusted ? 'de confiance' : 'sans confiance'}`);
      for (const width of WIDTHS) problems.push(...(await checkPass(browser, origin, { file, trusted, width }, outputs, out)));
    }
  } catch (error) {
    problems.push(`JupyterLab : ${(error as Error).message}\n${log.split('\n').slice(-5).join('\n')}`);
  } finally {
    lab.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
  return problems;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  const control = process.argv.includes('--control');
  const notebookPath = resolve(option('--notebook') ?? [executedCopyPath('classification', false), executedCopyPath('classification', true)].find(existsSync) ?? '');
  if (!existsSync(notebookPath)) {
    console.error('Aucun notebook exécuté : lancez `npm run lab -- --quick` (ou `npm run lab`) puis recommencez.');
    process.exit(2);
  }
  if (!CHROMIUM) {
    console.error('Chromium est introuvable : installez-le (Debian : `apt-get install chromium`) puis recommencez.');
    process.exit(2);
  }
  const out = resolve(option('--out') ?? join(PROJECT_ROOT, 'reports', 'plots', ...(control ? ['temoin'] : [])));
  mkdirSync(out, { recursive: true });
  const python = ensurePythonEnv({ 'jupyterlab>=4,<5': 'jupyterlab', plotly: 'plotly' });
  writeKernelSpec(join(VENV_DIR, 'share', 'jupyter', 'kernels'));
  // As `npm start` does; --control disables it in this check's own configuration only.
  installPlotsExtension(VENV_DIR);
  const outputs = plotOutputs(notebookPath);
  console.log(`check:plots ${relative(PROJECT_ROOT, notebookPath)} : ${outputs.length} images de graphique, dont ${outputs.filter((o) => o.plotly).length} graphiques plotly`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const problems: string[] = [];
  try {
    problems.push(...(await checkNbconvert(browser, python, notebookPath, out, outputs)));
    problems.push(...(await checkJupyterLab(browser, python, notebookPath, out, outputs, control)));
  } finally {
    await browser.close();
  }
  console.log(`  Captures : ${relative(PROJECT_ROOT, out)}/`);
  if (problems.length) {
    console.error(`\nGraphiques mal affichés (${problems.length}) :\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('\nTous les graphiques sont affichés à leur taille, sans saut ni débordement.');
}

main().catch((error: Error) => {
  console.error(`check:plots : ${error.message}`);
  process.exit(2);
});

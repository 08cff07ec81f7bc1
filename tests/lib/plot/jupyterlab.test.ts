import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { lineFigure, mimeBundle } from '../../../lib/plot';
import { installPlotsExtension, PLOTS_EXTENSION, PLOTS_EXTENSION_SOURCE, plotsExtensionDir } from '../../../lib/plot/jupyterlab';
import { CHROMIUM, CHROMIUM_ARGS, needsChromium } from '../../helpers/tools';

const extension = require('../../../lib/plot/jupyterlab/sized-plotly.js') as {
  cssSize(metadata: unknown): { width: number; height: number } | null;
  fitBox(size: { width: number; height: number }, available: number): { width: number; height: number };
  NAME: string;
};

describe('the JupyterLab extension files', () => {
  let prefix: string;
  beforeEach(() => {
    prefix = mkdtempSync(join(tmpdir(), 'plots-extension-'));
  });
  afterEach(() => rmSync(prefix, { recursive: true, force: true }));

  it('installs a prebuilt extension JupyterLab loads: package.json naming a hashed entry point with the source', () => {
    const first = installPlotsExtension(prefix);
    expect(first.dir).toBe(join(prefix, 'share', 'jupyter', 'labextensions', PLOTS_EXTENSION));
    expect(first.changed).toBe(true);
    const pkg = JSON.parse(readFileSync(join(first.dir, 'package.json'), 'utf8'));
    expect(pkg.name).toBe(PLOTS_EXTENSION);
    expect(pkg.name).toBe(extension.NAME);
    expect(pkg.jupyterlab._build).toEqual({ load: first.load, extension: './extension' });
    expect(first.load).toMatch(/^static\/remoteEntry\.[0-9a-f]{16}\.js$/);
    expect(readFileSync(join(first.dir, first.load)).equals(readFileSync(PLOTS_EXTENSION_SOURCE))).toBe(true);
  });

  it('is idempotent and removes the entry points of earlier versions', () => {
    const first = installPlotsExtension(prefix);
    expect(installPlotsExtension(prefix).changed).toBe(false);
    writeFileSync(join(first.dir, 'static', 'remoteEntry.0123456789abcdef.js'), 'old');
    const again = installPlotsExtension(prefix);
    expect(again.changed).toBe(true);
    expect(readdirSync(join(first.dir, 'static'))).toEqual([again.load.replace('static/', '')]);
  });

  it('rewrites a damaged package.json', () => {
    const dir = plotsExtensionDir(prefix);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{}');
    expect(installPlotsExtension(prefix).changed).toBe(true);
    expect(existsSync(join(dir, 'install.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).jupyterlab._build.extension).toBe('./extension');
  });
});

describe('the box of a figure', () => {
  it("is the output's CSS size, no wider than the output area, in the same proportions", () => {
    const size = extension.cssSize({ 'image/png': { width: 700, height: 400 } })!;
    expect(size).toEqual({ width: 700, height: 400 });
    expect(extension.fitBox(size, 968)).toEqual({ width: 700, height: 400 });
    expect(extension.fitBox(size, 568)).toEqual({ width: 568, height: 325 });
    expect(extension.fitBox(size, 567.6)).toEqual({ width: 567, height: 324 });
    // Not measured yet (detached): the full size.
    expect(extension.fitBox(size, 0)).toEqual({ width: 700, height: 400 });
  });

  it('is left to jupyterlab-plotly for outputs without a size (plotly.py, older notebooks)', () => {
    expect(extension.cssSize({})).toBeNull();
    expect(extension.cssSize(undefined)).toBeNull();
    expect(extension.cssSize({ 'image/png': { width: 700 } })).toBeNull();
  });
});

/**
 * A stand-in for jupyterlab-plotly 7.1's module (its RenderedPlotly, rendererFactory and Plotly, same
 * DOM and calls as its bundle: a bare <img> first, the chart drawn at the layout's size on mouseenter,
 * its own screenshot written into the output with setData). The real one needs all of JupyterLab:
 * `npm run check:plots` checks the extension there.
 */
const STAND_IN = `
(() => {
  const Plotly = {
    react(gd, data, layout) {
      let container = gd.querySelector('.plot-container');
      if (!container) {
        container = document.createElement('div');
        container.className = 'plot-container';
        container.innerHTML = '<div class="svg-container"></div>';
        gd.appendChild(container);
      }
      const svg = container.firstChild;
      svg.style.width = (layout.width || gd.clientWidth) + 'px';
      svg.style.height = layout.height + 'px';
      gd.layout = layout;
      gd.data = data;
      gd.on = () => undefined;
      window.reacts = (window.reacts || 0) + 1;
      return Promise.resolve(gd);
    },
    relayout(gd, update) { return Plotly.react(gd, gd.data, Object.assign({}, gd.layout, update)); },
    redraw(gd) { return Promise.resolve(gd); },
    Plots: { resize() { return Promise.resolve(); } },
    toImage() { return Promise.resolve('data:image/png;base64,c2NyZWVuc2hvdA=='); },
  };
  class RenderedPlotly {
    constructor(options) {
      this.node = document.createElement('div');
      this.node.classList.add('jp-RenderedPlotly');
      this._mimeType = options.mimeType;
      this._img_el = document.createElement('img');
      this._img_el.className = 'plot-img';
      this.node.appendChild(this._img_el);
      this._img_el.addEventListener('mouseenter', () => this.createGraph(this._model));
    }
    renderModel(model) {
      if (this.hasGraphElement()) return Promise.resolve();
      this._model = model;
      const png = model.data['image/png'];
      if (png != null) { this.updateImage(png); return Promise.resolve(); }
      return this.createGraph(model);
    }
    hasGraphElement() { return this.node.querySelector('.plot-container') !== null; }
    updateImage(png) { this._img_el.src = 'data:image/png;base64,' + png; this._img_el.style.display = 'block'; }
    createGraph(model) {
      const { data, layout, config } = model.data[this._mimeType];
      if (!layout.height) layout.height = 360;
      RenderedPlotly.Plotly = Plotly;
      return Plotly.react(this.node, data, layout, config).then((gd) => {
        this._img_el.style.display = 'none';
        return Plotly.toImage(gd).then((url) => model.setData({ data: Object.assign({}, model.data, { 'image/png': url.split(',')[1] }) }));
      });
    }
    dispose() {}
  }
  RenderedPlotly.Plotly = null;
  const rendererFactory = { safe: true, mimeTypes: ['application/vnd.plotly.v1+json'], createRenderer: (options) => new RenderedPlotly(options) };
  const module = { RenderedPlotly, rendererFactory, default: [{ id: '@jupyterlab/plotly-extension:factory', rendererFactory, rank: 2 }] };
  window._JUPYTERLAB = { 'jupyterlab-plotly': { init() {}, get: () => Promise.resolve(() => module) } };
  window.standIn = module;
})();
`;

needsChromium().describe('the extension in Chromium (jupyterlab-plotly stand-in)', () => {
  it('draws the PNG and then the chart in the same box, follows the width, keeps the PNG, redraws updates', async () => {
    const figure = lineFigure({ title: 'Erreur', series: [{ name: 'Apprentissage', y: [0.5, 0.3, 0.25] }] });
    const bundle = await mimeBundle(figure);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.setContent('<body style="margin:0"><div id="area" style="width:568px"></div><div id="below">suite</div></body>');
      await page.addScriptTag({ content: STAND_IN });
      await page.addScriptTag({ content: readFileSync(PLOTS_EXTENSION_SOURCE, 'utf8') });
      const result = await page.evaluate(async (output) => {
        const w = window as unknown as Record<string, any>;
        const module = (await w._JUPYTERLAB['analyse-image-plots'].get('./extension'))();
        module.default[0].activate();
        const frames = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
        const rect = (element: Element | null) => {
          const box = element!.getBoundingClientRect();
          return [Math.round(box.width), Math.round(box.height)];
        };
        const mime = 'application/vnd.plotly.v1+json';
        let written = 0;
        const model = (data: Record<string, unknown>, metadata: Record<string, unknown>) => ({ data, metadata, trusted: false, setData: () => written++ });
        const area = document.getElementById('area')!;
        const renderer = w.standIn.rendererFactory.createRenderer({ mimeType: mime });
        area.appendChild(renderer.node);
        await renderer.renderModel(model(output.data, output.metadata));
        // Before the PNG decodes, its box is already known (width/height attributes).
        const beforeDecode = rect(renderer.node);
        await new Promise((resolve) => (renderer._img_el.complete ? resolve(null) : (renderer._img_el.onload = resolve)));
        const png = rect(renderer._img_el);
        const belowBefore = document.getElementById('below')!.getBoundingClientRect().top;
        renderer._img_el.dispatchEvent(new MouseEvent('mouseenter'));
        await frames();
        await new Promise((resolve) => setTimeout(resolve, 50));
        const chart = rect(renderer.node.querySelector('.svg-container'));
        const belowAfter = document.getElementById('below')!.getBoundingClientRect().top;
        area.style.width = '1000px';
        await frames();
        await new Promise((resolve) => setTimeout(resolve, 50));
        const wide = rect(renderer.node.querySelector('.svg-container'));
        const reactsBefore = w.reacts;
        const next = JSON.parse(JSON.stringify(output.data));
        next[mime].data[0].y = [0.5, 0.3, 0.25, 0.2];
        await renderer.renderModel(model(next, output.metadata));
        const redrawn = w.reacts > reactsBefore && renderer.node.data[0].y.length === 4;
        // An output without a size (plotly.py's): jupyterlab-plotly's own behaviour, screenshot included.
        const foreign = w.standIn.rendererFactory.createRenderer({ mimeType: mime });
        area.appendChild(foreign.node);
        await foreign.renderModel(model(output.data, {}));
        await new Promise((resolve) => (foreign._img_el.complete ? resolve(null) : (foreign._img_el.onload = resolve)));
        const foreignPng = rect(foreign._img_el);
        return { beforeDecode, png, chart, wide, jump: belowAfter - belowBefore, written, redrawn, foreignPng };
      }, bundle);
      expect(result.beforeDecode).toEqual([568, 325]);
      expect(result.png).toEqual([568, 325]);
      expect(result.chart).toEqual([568, 325]);
      expect(Math.abs(result.jump)).toBeLessThan(1); // the PNG is 324.6 px high, the chart 325
      expect(result.wide).toEqual([700, 400]);
      expect(result.redrawn).toBe(true);
      // The notebook keeps the kernel's PNG: our renderer never called setData; the foreign output did not either (no hover).
      expect(result.written).toBe(0);
      expect(result.foreignPng).toEqual([1400, 800]);
    } finally {
      await browser.close();
    }
  }, 30_000);
});

/**
 * A small SVG renderer for the figures of ./figures.ts: the static picture shown where no JavaScript
 * runs (nbconvert HTML, GitHub). It draws exactly what the lab's specs use, from the same JSON as
 * plotly, so the two pictures say the same thing even if they differ in details.
 */
import type { Axis, BarTrace, Figure, HeatmapTrace, ScatterTrace } from './figures';
import { formatNumber, PALETTE, separators } from './figures';
import { escapeXml, FONT_FAMILY, textWidth, wrapText } from './text';

const PAD = 12;
const TICK_GAP = 7;
const TEXT_COLOR = '#222222';
const MUTED = '#555555';

/** Rounds coordinates: the SVG stays small and diffs stay readable. */
function n(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Places a text's baseline so that its capitals and digits are centred on `y` (librsvg's dominant-baseline support is partial). */
function centredBaseline(y: number, size: number): number {
  return y + size * 0.36;
}

function decimalsOf(step: number): number {
  for (let d = 0; d < 10; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6) return d;
  return 10;
}

/** Round tick values covering [min, max] (first and last ticks enclose the data), at most `maxTicks` of them. */
export function niceTicks(min: number, max: number, maxTicks = 8): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const half = Math.abs(min) * 0.1 || 1;
    min -= half;
    max += half;
  }
  const span = max - min;
  const magnitude = 10 ** Math.floor(Math.log10(span / 2));
  let best: { ticks: number[]; score: number } | undefined;
  for (const exponent of [magnitude / 10, magnitude, magnitude * 10]) {
    for (const mantissa of [1, 2, 2.5, 5]) {
      const step = mantissa * exponent;
      const decimals = decimalsOf(step);
      const low = Math.floor(min / step + 1e-9);
      const high = Math.ceil(max / step - 1e-9);
      const count = high - low + 1;
      if (count < 3 || count > maxTicks) continue;
      // Least wasted room, about 6 ticks, and 2.5 only when it saves a lot (it adds a decimal).
      const score = ((high - low) * step) / span + 0.05 * Math.abs(count - 6) + (mantissa === 2.5 ? 0.15 : 0);
      if (!best || score < best.score - 1e-9) {
        best = { ticks: Array.from({ length: count }, (_, k) => Number(((low + k) * step).toFixed(decimals))), score };
      }
    }
  }
  return best?.ticks ?? [min, max];
}

/** A title on one line, a little smaller if needed; else on two lines; else smaller still, the rest cut with an ellipsis. */
function fitTitle(title: string, base: number, maxWidth: number): { size: number; lines: string[] } {
  if (!title) return { size: base, lines: [] };
  for (let size = base; size >= Math.min(base, 14); size--) if (textWidth(title, size, true) <= maxWidth) return { size, lines: [title] };
  for (let size = Math.min(base, 15); size >= 11; size--) {
    const lines = wrapText(title, size, maxWidth, true);
    if (lines.length <= 2 && lines.every((line) => textWidth(line, size, true) <= maxWidth)) return { size, lines };
  }
  const [first, ...rest] = wrapText(title, 11, maxWidth, true);
  let second = rest.join(' ');
  while (second && textWidth(`${second}…`, 11, true) > maxWidth) second = second.slice(0, -1);
  return { size: 11, lines: second ? [first, `${second.trimEnd()}…`] : [first] };
}

interface CategoryScale {
  kind: 'category';
  labels: string[];
  reversed: boolean;
}

interface LinearScale {
  kind: 'linear';
  min: number;
  max: number;
  ticks: number[];
  labels: string[];
}

type Scale = CategoryScale | LinearScale;

function tickLabels(ticks: number[], spec: Axis | undefined, seps: string): string[] {
  const steps = ticks.slice(1).map((tick, i) => tick - ticks[i]);
  const decimals = spec?.tickformat === 'd' ? 0 : Math.max(0, ...steps.map(decimalsOf), ...ticks.map(decimalsOf));
  return ticks.map((tick) => formatNumber(tick, { decimals: Math.min(decimals, 6), separators: seps }) + (spec?.ticksuffix ?? ''));
}

/** A numeric axis over `values`: explicit range, or the data padded and widened to round ticks when `snap`. */
function linearScale(values: number[], spec: Axis | undefined, seps: string, options: { includeZero?: boolean; pad?: number; snap?: boolean }): LinearScale {
  let min: number;
  let max: number;
  if (spec?.range) {
    [min, max] = spec.range;
  } else {
    const finite = values.filter(Number.isFinite);
    min = finite.length ? Math.min(...finite) : 0;
    max = finite.length ? Math.max(...finite) : 1;
    if (options.includeZero) {
      min = Math.min(0, min);
      max = Math.max(0, max);
    }
    const span = max - min || Math.abs(max) || 1;
    const pad = options.pad ?? 0.05;
    if (!(options.includeZero && min === 0)) min -= span * pad;
    if (!(options.includeZero && max === 0)) max += span * pad;
    if (max - min < 1e-12) max = min + 1;
  }
  let ticks: number[];
  if (spec?.dtick) {
    const start = spec.tick0 ?? 0;
    const first = Math.ceil((min - start) / spec.dtick - 1e-9);
    ticks = [];
    for (let k = first; start + k * spec.dtick <= max + 1e-9; k++) ticks.push(start + k * spec.dtick);
  } else {
    ticks = niceTicks(min, max);
    if (options.snap && !spec?.range) {
      min = ticks[0];
      max = ticks[ticks.length - 1];
    } else {
      ticks = ticks.filter((tick) => tick >= min - 1e-9 && tick <= max + 1e-9);
    }
  }
  if (spec?.tickformat === 'd') ticks = ticks.filter(Number.isInteger);
  return { kind: 'linear', min, max, ticks, labels: tickLabels(ticks, spec, seps) };
}

function categoryScale(values: (string | number)[], spec: Axis | undefined): CategoryScale {
  const labels: string[] = [];
  for (const value of values.map(String)) if (!labels.includes(value)) labels.push(value);
  return { kind: 'category', labels, reversed: spec?.autorange === 'reversed' };
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Maps values of one axis to pixels within the plot rectangle. */
class Mapper {
  constructor(
    readonly scale: Scale,
    readonly start: number,
    readonly length: number,
    readonly vertical: boolean,
  ) {}

  get band(): number {
    return this.scale.kind === 'category' ? this.length / Math.max(1, this.scale.labels.length) : 0;
  }

  /** Pixel of a numeric value, or of a category's centre. */
  at(value: number | string): number {
    if (this.scale.kind === 'category') {
      const index = this.scale.labels.indexOf(String(value));
      const fromStart = this.vertical !== this.scale.reversed ? this.scale.labels.length - 1 - index : index;
      return this.start + this.band * (fromStart + 0.5);
    }
    const t = (Number(value) - this.scale.min) / (this.scale.max - this.scale.min || 1);
    return this.vertical ? this.start + this.length * (1 - t) : this.start + this.length * t;
  }
}

interface XTickLayout {
  mode: 'flat' | 'wrapped' | 'rotated';
  lines: string[][];
  angle: number;
  height: number;
  /** How far rotated labels reach left of their tick. */
  leftReach: number;
}

function layoutXTicks(labels: string[], band: number, categorical: boolean, spec: Axis | undefined, size: number): XTickLayout {
  const flat = { mode: 'flat' as const, lines: labels.map((label) => [label]), angle: 0, height: size, leftReach: 0 };
  if (!categorical || labels.length === 0) return flat;
  const widest = Math.max(...labels.map((label) => textWidth(label, size)));
  const forced = typeof spec?.tickangle === 'number' && spec.tickangle !== 0;
  if (!forced && widest <= band - 6) return flat;
  if (!forced) {
    const wrapped = labels.map((label) => wrapText(label, size, band - 6));
    const fits = wrapped.every((lines) => lines.length <= 2 && lines.every((line) => textWidth(line, size) <= band - 6));
    if (fits) return { mode: 'wrapped', lines: wrapped, angle: 0, height: size * (1 + 1.2 * (Math.max(...wrapped.map((l) => l.length)) - 1)), leftReach: 0 };
  }
  const angle = forced ? Math.abs(spec!.tickangle as number) : 40;
  const radians = (angle * Math.PI) / 180;
  return {
    mode: 'rotated',
    lines: labels.map((label) => [label]),
    angle,
    height: widest * Math.sin(radians) + size * Math.cos(radians),
    leftReach: widest * Math.cos(radians),
  };
}

interface LegendItem {
  name: string;
  color: string;
  kind: 'line' | 'box';
}

function legendItems(figure: Figure): LegendItem[] {
  const shown = figure.layout.showlegend ?? figure.data.filter((trace) => trace.type !== 'heatmap').length > 1;
  if (!shown) return [];
  return figure.data.flatMap((trace, i): LegendItem[] => {
    if (trace.type === 'heatmap' || !trace.name) return [];
    return [{ name: trace.name, color: traceColor(trace, i), kind: trace.type === 'scatter' ? 'line' : 'box' }];
  });
}

function traceColor(trace: ScatterTrace | BarTrace, index: number): string {
  const fallback = PALETTE[index % PALETTE.length];
  if (trace.type === 'scatter') return trace.line?.color ?? trace.marker?.color ?? fallback;
  const color = trace.marker?.color;
  return (Array.isArray(color) ? color[0] : color) ?? fallback;
}

function legendRows(items: LegendItem[], size: number, maxWidth: number): { item: LegendItem; x: number }[][] {
  const rows: { item: LegendItem; x: number }[][] = [];
  let row: { item: LegendItem; x: number }[] = [];
  let x = 0;
  for (const item of items) {
    const width = 28 + textWidth(item.name, size);
    if (row.length && x + width > maxWidth) {
      rows.push(row);
      row = [];
      x = 0;
    }
    row.push({ item, x });
    x += width + 18;
  }
  if (row.length) rows.push(row);
  return rows;
}

function hexToRgb(color: string): [number, number, number] {
  const hex = color.replace('#', '');
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
  return [0, 2, 4].map((k) => parseInt(full.slice(k, k + 2), 16)) as [number, number, number];
}

/** The colour of a value in [0, 1] on a plotly colour scale. */
export function colorAt(scale: [number, string][], t: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  let i = 0;
  while (i < scale.length - 2 && clamped > scale[i + 1][0]) i++;
  const [t0, c0] = scale[i];
  const [t1, c1] = scale[Math.min(i + 1, scale.length - 1)];
  const f = t1 === t0 ? 0 : (clamped - t0) / (t1 - t0);
  const a = hexToRgb(c0);
  const b = hexToRgb(c1);
  return '#' + a.map((v, k) => Math.round(v + (b[k] - v) * f).toString(16).padStart(2, '0')).join('');
}

/** Relative luminance (0 black, 1 white) to pick a readable text colour over a cell. */
function luminance(color: string): number {
  const [r, g, b] = hexToRgb(color).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function text(x: number, y: number, content: string, attributes: Record<string, string | number> = {}): string {
  const extra = Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${typeof value === 'number' ? n(value) : escapeXml(value)}"`)
    .join('');
  return `<text x="${n(x)}" y="${n(y)}"${extra}>${escapeXml(content)}</text>`;
}

/** Renders a figure as a standalone SVG document of `width` x `height` CSS pixels. */
export function renderSvg(figure: Figure, size: { width?: number; height?: number } = {}): string {
  const { layout } = figure;
  const width = size.width ?? layout.width ?? 700;
  const height = size.height ?? layout.height ?? 400;
  const fontSize = layout.font?.size ?? 13;
  const seps = layout.separators ?? separators();
  const parts: string[] = [];

  const heatmap = figure.data.find((trace): trace is HeatmapTrace => trace.type === 'heatmap');
  const bars = figure.data.filter((trace): trace is BarTrace => trace.type === 'bar');
  const scatters = figure.data.filter((trace): trace is ScatterTrace => trace.type === 'scatter');
  const horizontal = bars.length > 0 && bars.every((trace) => trace.orientation === 'h');

  const { size: titleSize, lines: titleLines } = fitTitle(layout.title?.text ?? '', layout.title?.font?.size ?? 18, width - 2 * PAD);
  let top = PAD + (titleLines.length ? titleLines.length * titleSize * 1.2 + 8 : 0);

  let xScale: Scale;
  let yScale: Scale;
  if (heatmap) {
    xScale = categoryScale(heatmap.x, layout.xaxis);
    yScale = categoryScale(heatmap.y, layout.yaxis);
  } else if (bars.length) {
    const categories = bars.flatMap((trace) => (horizontal ? trace.y : trace.x));
    const values = bars.flatMap((trace) => (horizontal ? trace.x : trace.y).map(Number));
    const valueScale = linearScale(values, horizontal ? layout.xaxis : layout.yaxis, seps, { includeZero: true, snap: true });
    xScale = horizontal ? valueScale : categoryScale(categories, layout.xaxis);
    yScale = horizontal ? categoryScale(categories, layout.yaxis) : valueScale;
  } else {
    xScale = linearScale(scatters.flatMap((trace) => trace.x), layout.xaxis, seps, { pad: 0.04 });
    yScale = linearScale(scatters.flatMap((trace) => trace.y), layout.yaxis, seps, { snap: true });
  }
  const xTitle = layout.xaxis?.title?.text;
  const yTitle = layout.yaxis?.title?.text;

  const legend = legendItems(figure);
  const legendLayout = legendRows(legend, fontSize, width - 2 * PAD);
  top += legendLayout.length * (fontSize + 9) + (legendLayout.length ? 6 : 0);

  // Colour bar of a heatmap: its range and room on the right.
  const zValues = heatmap ? heatmap.z.flat().filter(Number.isFinite) : [];
  const zMin = heatmap?.zmin ?? (zValues.length ? Math.min(...zValues) : 0);
  const zMax = heatmap?.zmax ?? (zValues.length ? Math.max(...zValues) : 1);
  const colorTicks = heatmap ? niceTicks(zMin, zMax, 11).filter((tick) => tick >= zMin - 1e-9 && tick <= zMax + 1e-9) : [];
  const colorLabels = heatmap ? tickLabels(colorTicks, undefined, seps) : [];
  const colorbarThickness = heatmap?.colorbar?.thickness ?? 14;
  const colorbarRoom = heatmap && heatmap.showscale !== false ? 18 + colorbarThickness + 6 + Math.max(0, ...colorLabels.map((label) => textWidth(label, fontSize - 1))) : 0;

  const yLabelWidth = Math.max(0, ...yScale.labels.map((label) => textWidth(label, fontSize)));
  const yTitleRoom = yTitle ? fontSize * 1.1 + 10 : 0;
  const xTitleRoom = xTitle ? fontSize * 1.1 + 12 : 0;
  const lastXLabel = xScale.kind === 'linear' ? xScale.labels[xScale.labels.length - 1] ?? '' : '';

  const extra = { left: 0, right: 0, top: 0 };
  let plot: Rect = { x: 0, y: 0, w: 0, h: 0 };
  let xTicks: XTickLayout = layoutXTicks([], 0, false, undefined, fontSize);
  let xMap = new Mapper(xScale, 0, 1, false);
  let yMap = new Mapper(yScale, 0, 1, true);
  // Margins depend on the plot's size (rotated labels, labels past the bars): settle them in a few passes.
  for (let pass = 0; pass < 4; pass++) {
    const left = PAD + yTitleRoom + yLabelWidth + TICK_GAP + extra.left;
    const right = PAD + Math.max(colorbarRoom, textWidth(lastXLabel, fontSize) / 2) + extra.right;
    const plotW = Math.max(40, width - left - right);
    const categories = xScale.kind === 'category' ? xScale.labels.length : 0;
    xTicks = layoutXTicks(xScale.labels, categories ? plotW / categories : plotW, xScale.kind === 'category', layout.xaxis, fontSize);
    const bottom = PAD + xTitleRoom + TICK_GAP + 2 + xTicks.height;
    const plotTop = top + extra.top;
    plot = { x: left, y: plotTop, w: plotW, h: Math.max(40, height - plotTop - bottom) };
    if (heatmap && layout.yaxis?.scaleanchor === 'x' && xScale.kind === 'category' && yScale.kind === 'category') {
      // Square cells, the plot centred in the room it had (plotly's constrain: 'domain').
      const cell = Math.min(plot.w / Math.max(1, xScale.labels.length), plot.h / Math.max(1, yScale.labels.length));
      const w = cell * xScale.labels.length;
      const h = cell * yScale.labels.length;
      plot = { x: plot.x + (plot.w - w) / 2, y: plot.y, w, h };
    }
    xMap = new Mapper(xScale, plot.x, plot.w, false);
    yMap = new Mapper(yScale, plot.y, plot.h, true);

    let changed = false;
    const need = (key: 'left' | 'right' | 'top', amount: number) => {
      if (amount > extra[key] + 0.5) {
        extra[key] = amount;
        changed = true;
      }
    };
    if (xTicks.mode === 'rotated' && xScale.kind === 'category') {
      // Rotated labels hang down-left from their tick: the first ones may leave the picture.
      const cos = Math.cos((xTicks.angle * Math.PI) / 180);
      const leftmost = Math.min(...xScale.labels.map((label) => xMap.at(label) + fontSize * 0.3 - textWidth(label, fontSize) * cos));
      need('left', extra.left + PAD - leftmost);
    }
    for (const trace of bars) {
      if (trace.textposition !== 'outside' || !trace.text) continue;
      trace.text.forEach((label, i) => {
        if (horizontal) {
          const end = xMap.at(Number(trace.x[i])) + 5 + textWidth(label, fontSize - 1);
          need('right', extra.right + end - (width - PAD));
        } else {
          const labelTop = yMap.at(Number(trace.y[i])) - 5 - fontSize;
          need('top', extra.top + top - labelTop);
        }
      });
    }
    if (!changed) break;
  }

  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  titleLines.forEach((line, i) => parts.push(text(width / 2, PAD + titleSize * (0.95 + 1.2 * i), line, { 'text-anchor': 'middle', 'font-size': titleSize, 'font-weight': 'bold' })));

  // Legend, left-aligned with the plot, above it.
  const legendTop = PAD + (titleLines.length ? titleLines.length * titleSize * 1.2 + 8 : 0);
  const legendLeft = Math.min(plot.x, width - PAD - Math.max(0, ...legendLayout.map((row) => row[row.length - 1].x + 28 + textWidth(row[row.length - 1].item.name, fontSize))));
  legendLayout.forEach((row, r) => {
    const cy = legendTop + r * (fontSize + 9) + fontSize / 2 + 2;
    for (const { item, x } of row) {
      const lx = Math.max(PAD, legendLeft) + x;
      if (item.kind === 'line') {
        parts.push(`<line x1="${n(lx)}" y1="${n(cy)}" x2="${n(lx + 22)}" y2="${n(cy)}" stroke="${item.color}" stroke-width="2.5"/>`);
        parts.push(`<circle cx="${n(lx + 11)}" cy="${n(cy)}" r="3.5" fill="${item.color}" stroke="white" stroke-width="1"/>`);
      } else {
        parts.push(`<rect x="${n(lx + 4)}" y="${n(cy - 6)}" width="14" height="12" rx="2" fill="${item.color}"/>`);
      }
      parts.push(text(lx + 28, centredBaseline(cy, fontSize), item.name, { 'font-size': fontSize }));
    }
  });

  // Grid lines of numeric axes, under everything.
  const gridColor = (spec: Axis | undefined) => spec?.gridcolor ?? '#e6e6e6';
  if (xScale.kind === 'linear' && layout.xaxis?.showgrid !== false) {
    for (const tick of xScale.ticks) parts.push(`<line x1="${n(xMap.at(tick))}" y1="${n(plot.y)}" x2="${n(xMap.at(tick))}" y2="${n(plot.y + plot.h)}" stroke="${gridColor(layout.xaxis)}" stroke-width="1"/>`);
  }
  if (yScale.kind === 'linear' && layout.yaxis?.showgrid !== false) {
    for (const tick of yScale.ticks) parts.push(`<line x1="${n(plot.x)}" y1="${n(yMap.at(tick))}" x2="${n(plot.x + plot.w)}" y2="${n(yMap.at(tick))}" stroke="${gridColor(layout.yaxis)}" stroke-width="1"/>`);
  }

  if (heatmap) parts.push(...heatmapParts(heatmap, plot, xMap, yMap, fontSize, { zMin, zMax, colorTicks, colorLabels, thickness: colorbarThickness }));
  parts.push(...barParts(bars, xMap, yMap, horizontal, layout, fontSize));
  if (scatters.length) {
    const clip = 'plot-area';
    parts.push(`<clipPath id="${clip}"><rect x="${n(plot.x - 6)}" y="${n(plot.y - 6)}" width="${n(plot.w + 12)}" height="${n(plot.h + 12)}"/></clipPath>`);
    parts.push(`<g clip-path="url(#${clip})">${scatters.map((trace, i) => scatterParts(trace, i, xMap, yMap)).join('')}</g>`);
  }

  const lineColor = (spec: Axis | undefined) => spec?.linecolor ?? '#888888';
  if (layout.xaxis?.showline !== false && !heatmap) parts.push(`<line x1="${n(plot.x)}" y1="${n(plot.y + plot.h)}" x2="${n(plot.x + plot.w)}" y2="${n(plot.y + plot.h)}" stroke="${lineColor(layout.xaxis)}" stroke-width="1"/>`);
  if (layout.yaxis?.showline !== false && !heatmap) parts.push(`<line x1="${n(plot.x)}" y1="${n(plot.y)}" x2="${n(plot.x)}" y2="${n(plot.y + plot.h)}" stroke="${lineColor(layout.yaxis)}" stroke-width="1"/>`);

  const xLabelTop = plot.y + plot.h + TICK_GAP;
  xScale.labels.forEach((label, i) => {
    const cx = xScale.kind === 'linear' ? xMap.at(xScale.ticks[i]) : xMap.at(label);
    if (xTicks.mode === 'rotated') {
      const y = xLabelTop + fontSize * 0.8;
      parts.push(text(cx + fontSize * 0.3, y, label, { 'font-size': fontSize, 'text-anchor': 'end', transform: `rotate(${-xTicks.angle} ${n(cx + fontSize * 0.3)} ${n(y)})` }));
    } else {
      xTicks.lines[i].forEach((line, k) => parts.push(text(cx, xLabelTop + fontSize * (0.85 + 1.2 * k), line, { 'font-size': fontSize, 'text-anchor': 'middle' })));
    }
  });
  yScale.labels.forEach((label, i) => {
    const cy = yScale.kind === 'linear' ? yMap.at(yScale.ticks[i]) : yMap.at(label);
    parts.push(text(plot.x - TICK_GAP, centredBaseline(cy, fontSize), label, { 'font-size': fontSize, 'text-anchor': 'end' }));
  });

  const axisTitleSize = fontSize + 1;
  if (xTitle) parts.push(text(plot.x + plot.w / 2, height - PAD - 2, xTitle, { 'font-size': axisTitleSize, 'text-anchor': 'middle', fill: MUTED }));
  if (yTitle) {
    const x = PAD + axisTitleSize * 0.8;
    const y = plot.y + plot.h / 2;
    parts.push(text(x, y, yTitle, { 'font-size': axisTitleSize, 'text-anchor': 'middle', fill: MUTED, transform: `rotate(-90 ${n(x)} ${n(y)})` }));
  }

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}" fill="${TEXT_COLOR}">${parts.join('')}</svg>`;
}

function scatterParts(trace: ScatterTrace, index: number, xMap: Mapper, yMap: Mapper): string {
  const color = traceColor(trace, index);
  const all = trace.x.map((x, i) => [xMap.at(x), yMap.at(trace.y[i])] as const);
  const finite = ([x, y]: readonly [number, number]) => Number.isFinite(x) && Number.isFinite(y);
  const points = all.filter(finite);
  let out = '';
  if (trace.mode !== 'markers') {
    const dash = trace.line?.dash === 'dash' ? ' stroke-dasharray="8 5"' : trace.line?.dash === 'dot' ? ' stroke-dasharray="2 4"' : '';
    // A missing value (NaN loss of a diverging run) breaks the line, as in plotly (JSON null).
    const runs: (readonly [number, number])[][] = [[]];
    for (const point of all) if (finite(point)) runs[runs.length - 1].push(point);
    else if (runs[runs.length - 1].length) runs.push([]);
    for (const run of runs.filter((r) => r.length > 1)) {
      out += `<polyline fill="none" stroke="${color}" stroke-width="${trace.line?.width ?? 2}" stroke-linejoin="round" stroke-linecap="round"${dash} points="${run.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}"/>`;
    }
  }
  if (trace.mode !== 'lines') {
    const radius = (trace.marker?.size ?? 7) / 2;
    for (const [x, y] of points) out += `<circle cx="${n(x)}" cy="${n(y)}" r="${radius}" fill="${color}" stroke="white" stroke-width="1"/>`;
  }
  return out;
}

function barParts(bars: BarTrace[], xMap: Mapper, yMap: Mapper, horizontal: boolean, layout: Figure['layout'], fontSize: number): string[] {
  const parts: string[] = [];
  const labels: string[] = [];
  const categoryMap = horizontal ? yMap : xMap;
  const valueMap = horizontal ? xMap : yMap;
  const band = categoryMap.band;
  const slot = (band * (1 - (layout.bargap ?? 0.2))) / Math.max(1, bars.length);
  const thickness = slot * (1 - (layout.bargroupgap ?? 0));
  const zero = valueMap.at(0);
  bars.forEach((trace, g) => {
    const categories = horizontal ? trace.y : trace.x;
    const values = (horizontal ? trace.x : trace.y).map(Number);
    values.forEach((value, i) => {
      if (!Number.isFinite(value)) return;
      const colors = trace.marker?.color;
      const color = (Array.isArray(colors) ? colors[i] : colors) ?? traceColor(trace, g);
      // Groups are laid out along increasing pixels, so the first series comes first to the eye (top or left).
      const offset = -(slot * bars.length) / 2 + slot * g + (slot - thickness) / 2;
      const centre = categoryMap.at(categories[i]);
      const end = valueMap.at(value);
      if (horizontal) {
        parts.push(`<rect x="${n(Math.min(zero, end))}" y="${n(centre + offset)}" width="${n(Math.abs(end - zero))}" height="${n(thickness)}" fill="${color}"/>`);
      } else {
        parts.push(`<rect x="${n(centre + offset)}" y="${n(Math.min(zero, end))}" width="${n(thickness)}" height="${n(Math.abs(end - zero))}" fill="${color}"/>`);
      }
      const label = trace.textposition === 'outside' ? trace.text?.[i] : undefined;
      if (label) {
        const size = Math.max(8, Math.min(fontSize - 1, horizontal ? thickness * 0.9 : fontSize - 1));
        labels.push(
          horizontal
            ? text(Math.max(zero, end) + 5, centredBaseline(centre + offset + thickness / 2, size), label, { 'font-size': size })
            : text(centre + offset + thickness / 2, Math.min(zero, end) - 5, label, { 'font-size': size, 'text-anchor': 'middle' }),
        );
      }
    });
  });
  return [...parts, ...labels];
}

function heatmapParts(
  trace: HeatmapTrace,
  plot: Rect,
  xMap: Mapper,
  yMap: Mapper,
  fontSize: number,
  bar: { zMin: number; zMax: number; colorTicks: number[]; colorLabels: string[]; thickness: number },
): string[] {
  const parts: string[] = [];
  const cellW = xMap.band;
  const cellH = yMap.band;
  const gapX = trace.xgap ?? 0;
  const gapY = trace.ygap ?? 0;
  const t = (value: number) => (value - bar.zMin) / (bar.zMax - bar.zMin || 1);
  const annotations: string[] = [];
  trace.z.forEach((row, r) =>
    row.forEach((value, c) => {
      const cx = xMap.at(trace.x[c]);
      const cy = yMap.at(trace.y[r]);
      const color = colorAt(trace.colorscale, t(value));
      parts.push(`<rect x="${n(cx - cellW / 2 + gapX / 2)}" y="${n(cy - cellH / 2 + gapY / 2)}" width="${n(cellW - gapX)}" height="${n(cellH - gapY)}" fill="${color}"/>`);
      const label = trace.texttemplate ? trace.text?.[r]?.[c] : undefined;
      if (label) {
        const size = Math.max(7, Math.min(fontSize, cellH * 0.45, (cellW - 6) / Math.max(0.01, textWidth(label, 1))));
        annotations.push(text(cx, centredBaseline(cy, size), label, { 'font-size': size, 'text-anchor': 'middle', fill: luminance(color) < 0.35 ? 'white' : '#222222' }));
      }
    }),
  );
  parts.push(...annotations);
  if (trace.showscale !== false) {
    const x = plot.x + plot.w + 18;
    const stops = trace.colorscale.map(([offset, color]) => `<stop offset="${offset}" stop-color="${color}"/>`).join('');
    parts.push(`<defs><linearGradient id="colour-scale" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`);
    parts.push(`<rect x="${n(x)}" y="${n(plot.y)}" width="${bar.thickness}" height="${n(plot.h)}" fill="url(#colour-scale)"/>`);
    bar.colorTicks.forEach((tick, i) => {
      const y = plot.y + plot.h * (1 - t(tick));
      parts.push(`<line x1="${n(x + bar.thickness)}" y1="${n(y)}" x2="${n(x + bar.thickness + 4)}" y2="${n(y)}" stroke="#888888"/>`);
      parts.push(text(x + bar.thickness + 6, centredBaseline(y, fontSize - 1), bar.colorLabels[i], { 'font-size': fontSize - 1 }));
    });
  }
  return parts;
}

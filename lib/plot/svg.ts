/** A small SVG renderer for the figures of figures.ts: the static picture shown where no JavaScript runs. */
import type { Figure, Trace } from './figures';

const FONT = 'DejaVu Sans, Arial, Helvetica, sans-serif';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Approximate width of a text in pixels (DejaVu Sans averages ~0.58 em). */
function textWidth(text: string, size: number): number {
  return text.length * size * 0.58;
}

/** Round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    min -= 1;
    max += 1;
  }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toFixed(10)));
  return ticks;
}

function formatTick(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

function interpolateColor(scale: [number, string][], t: number): string {
  const clamped = Math.min(1, Math.max(0, t));
  let i = 0;
  while (i < scale.length - 2 && clamped > scale[i + 1][0]) i++;
  const [t0, c0] = scale[i];
  const [t1, c1] = scale[i + 1];
  const f = t1 === t0 ? 0 : (clamped - t0) / (t1 - t0);
  const rgb = (hex: string) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  const a = rgb(c0);
  const b = rgb(c1);
  return `rgb(${a.map((v, k) => Math.round(v + (b[k] - v) * f)).join(',')})`;
}

function luminance(color: string): number {
  const [r, g, b] = color.match(/\d+/g)!.map(Number);
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

interface Axis {
  categories?: string[];
  min: number;
  max: number;
  ticks: number[];
}

function numericAxis(values: number[], includeZero: boolean, range?: [number, number]): Axis {
  if (range) return { min: range[0], max: range[1], ticks: niceTicks(range[0], range[1]) };
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (includeZero) {
    min = Math.min(0, min);
    max = Math.max(0, max);
  } else {
    const pad = (max - min) * 0.05 || Math.abs(max) * 0.05 || 1;
    min -= pad;
    max += pad;
  }
  const ticks = niceTicks(min, max);
  return { min: ticks[0], max: ticks[ticks.length - 1], ticks };
}

/** Renders a figure as a standalone SVG document. */
export function renderSvg(figure: Figure, size: { width?: number; height?: number } = {}): string {
  const width = size.width ?? figure.layout.width ?? 700;
  const height = size.height ?? figure.layout.height ?? 400;
  const traces = figure.data;
  const heatmap = traces.find((t) => t.type === 'heatmap');
  const bars = traces.filter((t) => t.type === 'bar');
  const horizontal = bars.length > 0 && bars[0].orientation === 'h';
  const parts: string[] = [];
  const title = figure.layout.title?.text ?? '';
  const showLegend = !heatmap && traces.filter((t) => t.name).length > 1;

  // Axes: categorical for bars' categories and heatmaps, numeric otherwise.
  let xAxis: Axis;
  let yAxis: Axis;
  if (heatmap) {
    xAxis = { categories: (heatmap.x ?? []).map(String), min: 0, max: 0, ticks: [] };
    yAxis = { categories: (heatmap.y ?? []).map(String), min: 0, max: 0, ticks: [] };
  } else if (bars.length) {
    const categories = ((horizontal ? bars[0].y : bars[0].x) ?? []).map(String);
    const values = bars.flatMap((t) => ((horizontal ? t.x : t.y) ?? []).map(Number));
    const valueAxis = numericAxis(values, true);
    xAxis = horizontal ? valueAxis : { categories, min: 0, max: 0, ticks: [] };
    yAxis = horizontal ? { categories, min: 0, max: 0, ticks: [] } : valueAxis;
  } else {
    xAxis = numericAxis(traces.flatMap((t) => (t.x ?? []).map(Number)), false);
    yAxis = numericAxis(traces.flatMap((t) => (t.y ?? []).map(Number)), false, figure.layout.yaxis?.range);
  }

  const fontSize = 13;
  const yLabels = yAxis.categories ?? yAxis.ticks.map(formatTick);
  const xLabels = xAxis.categories ?? xAxis.ticks.map(formatTick);
  const longestX = Math.max(...xLabels.map((l) => textWidth(l, fontSize)), 0);
  const rotateX = Boolean(xAxis.categories) && longestX > (width - 200) / Math.max(1, xLabels.length) - 6;
  const margin = {
    left: 24 + Math.max(...yLabels.map((l) => textWidth(l, fontSize)), 20) + (figure.layout.yaxis?.title ? 22 : 0),
    right: heatmap ? 90 : 24,
    top: 44 + (showLegend ? 24 : 0),
    bottom: 30 + (rotateX ? longestX * 0.62 + 6 : fontSize) + (figure.layout.xaxis?.title ? 24 : 0),
  };
  const plot = { x: margin.left, y: margin.top, w: Math.max(50, width - margin.left - margin.right), h: Math.max(50, height - margin.top - margin.bottom) };

  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (title) parts.push(`<text x="${width / 2}" y="26" text-anchor="middle" font-size="18" font-weight="bold">${escapeXml(title)}</text>`);

  const band = (axis: Axis, length: number) => length / Math.max(1, axis.categories!.length);
  const xPos = (v: number) => plot.x + ((v - xAxis.min) / (xAxis.max - xAxis.min || 1)) * plot.w;
  const yPos = (v: number) => plot.y + plot.h - ((v - yAxis.min) / (yAxis.max - yAxis.min || 1)) * plot.h;

  // Grid and tick labels.
  if (xAxis.categories) {
    const step = band(xAxis, plot.w);
    xAxis.categories.forEach((label, i) => {
      const cx = plot.x + step * (i + 0.5);
      const y = plot.y + plot.h + 16;
      parts.push(
        rotateX
          ? `<text x="${cx}" y="${y}" font-size="${fontSize}" text-anchor="end" transform="rotate(-40 ${cx} ${y})">${escapeXml(label)}</text>`
          : `<text x="${cx}" y="${y}" font-size="${fontSize}" text-anchor="middle">${escapeXml(label)}</text>`,
      );
    });
  } else {
    for (const tick of xAxis.ticks) {
      const x = xPos(tick);
      parts.push(`<line x1="${x}" y1="${plot.y}" x2="${x}" y2="${plot.y + plot.h}" stroke="#e5e5e5"/>`);
      parts.push(`<text x="${x}" y="${plot.y + plot.h + 18}" font-size="${fontSize}" text-anchor="middle">${formatTick(tick)}</text>`);
    }
  }
  if (yAxis.categories) {
    const step = band(yAxis, plot.h);
    yAxis.categories.forEach((label, i) => {
      parts.push(`<text x="${plot.x - 8}" y="${plot.y + step * (i + 0.5) + 4}" font-size="${fontSize}" text-anchor="end">${escapeXml(label)}</text>`);
    });
  } else {
    for (const tick of yAxis.ticks) {
      const y = yPos(tick);
      parts.push(`<line x1="${plot.x}" y1="${y}" x2="${plot.x + plot.w}" y2="${y}" stroke="#e5e5e5"/>`);
      parts.push(`<text x="${plot.x - 8}" y="${y + 4}" font-size="${fontSize}" text-anchor="end">${formatTick(tick)}</text>`);
    }
  }

  // Traces.
  if (heatmap) parts.push(...heatmapParts(heatmap, plot, fontSize));
  const groups = bars.length;
  bars.forEach((trace, g) => {
    const values = ((horizontal ? trace.x : trace.y) ?? []).map(Number);
    const color = trace.marker?.color ?? '#0072B2';
    const step = band(horizontal ? yAxis : xAxis, horizontal ? plot.h : plot.w);
    const thickness = (step * 0.8) / groups;
    values.forEach((value, i) => {
      const start = step * i + step * 0.1 + thickness * g;
      if (horizontal) {
        const x0 = xPos(0);
        const x1 = xPos(value);
        parts.push(`<rect x="${Math.min(x0, x1)}" y="${plot.y + start}" width="${Math.abs(x1 - x0)}" height="${thickness}" fill="${color}"/>`);
      } else {
        const y0 = yPos(0);
        const y1 = yPos(value);
        parts.push(`<rect x="${plot.x + start}" y="${Math.min(y0, y1)}" width="${thickness}" height="${Math.abs(y1 - y0)}" fill="${color}"/>`);
      }
    });
  });
  for (const trace of traces.filter((t) => t.type === 'scatter')) {
    const color = trace.line?.color ?? trace.marker?.color ?? '#0072B2';
    const points = (trace.x ?? []).map((x, i) => [xPos(Number(x)), yPos(Number((trace.y ?? [])[i]))]);
    if (trace.mode !== 'markers') parts.push(`<polyline fill="none" stroke="${color}" stroke-width="${trace.line?.width ?? 2}" points="${points.map((p) => p.join(',')).join(' ')}"/>`);
    if (trace.mode !== 'lines') for (const [x, y] of points) parts.push(`<circle cx="${x}" cy="${y}" r="3.5" fill="${color}"/>`);
  }

  // Frame, axis titles, legend.
  if (!heatmap) parts.push(`<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#999"/>`);
  const xTitle = figure.layout.xaxis?.title?.text;
  const yTitle = figure.layout.yaxis?.title?.text;
  if (xTitle) parts.push(`<text x="${plot.x + plot.w / 2}" y="${height - 8}" font-size="14" text-anchor="middle">${escapeXml(xTitle)}</text>`);
  if (yTitle) parts.push(`<text x="16" y="${plot.y + plot.h / 2}" font-size="14" text-anchor="middle" transform="rotate(-90 16 ${plot.y + plot.h / 2})">${escapeXml(yTitle)}</text>`);
  if (showLegend) {
    let x = plot.x;
    for (const trace of traces.filter((t) => t.name)) {
      const color = trace.line?.color ?? trace.marker?.color ?? '#0072B2';
      parts.push(`<rect x="${x}" y="${margin.top - 26}" width="14" height="10" fill="${color}"/>`);
      parts.push(`<text x="${x + 20}" y="${margin.top - 17}" font-size="${fontSize}">${escapeXml(trace.name!)}</text>`);
      x += 40 + textWidth(trace.name!, fontSize);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT}" fill="#222">${parts.join('')}</svg>`;
}

function heatmapParts(trace: Trace, plot: { x: number; y: number; w: number; h: number }, fontSize: number): string[] {
  const z = trace.z ?? [];
  const rows = z.length;
  const columns = rows ? z[0].length : 0;
  const values = z.flat();
  const min = Math.min(...values);
  const max = Math.max(...values);
  const scale = trace.colorscale ?? [
    [0, '#f7fbff'],
    [1, '#08306b'],
  ];
  const cellW = plot.w / Math.max(1, columns);
  const cellH = plot.h / Math.max(1, rows);
  const parts: string[] = [];
  z.forEach((row, r) =>
    row.forEach((value, c) => {
      const color = interpolateColor(scale, (value - min) / (max - min || 1));
      const x = plot.x + c * cellW;
      const y = plot.y + r * cellH;
      parts.push(`<rect x="${x}" y="${y}" width="${cellW}" height="${cellH}" fill="${color}" stroke="white"/>`);
      const label = trace.text?.[r]?.[c];
      if (label !== undefined && trace.texttemplate) {
        parts.push(`<text x="${x + cellW / 2}" y="${y + cellH / 2 + 4}" font-size="${Math.min(fontSize, cellH * 0.5)}" text-anchor="middle" fill="${luminance(color) < 140 ? 'white' : '#222'}">${escapeXml(label)}</text>`);
      }
    }),
  );
  if (trace.showscale) {
    const barX = plot.x + plot.w + 20;
    const steps = 40;
    for (let i = 0; i < steps; i++) {
      parts.push(`<rect x="${barX}" y="${plot.y + (plot.h * i) / steps}" width="16" height="${plot.h / steps + 0.5}" fill="${interpolateColor(scale, 1 - i / steps)}"/>`);
    }
    parts.push(`<text x="${barX + 20}" y="${plot.y + 10}" font-size="11">${formatTick(max)}</text>`);
    parts.push(`<text x="${barX + 20}" y="${plot.y + plot.h}" font-size="11">${formatTick(min)}</text>`);
  }
  return parts;
}

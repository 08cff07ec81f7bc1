/**
 * Pictures of the theory for the notebook (PNG, shown with lib/plot's `show`): small matrices drawn
 * as grids with their numbers (the course's black 1 / white 0 / grey -1, or a signed colour scale),
 * each step of a convolution or pooling, learned filters and feature maps as grey images.
 */
import sharp from 'sharp';
import { formatNumber, separators } from '../plot/figures';
import { imageGridPng, withDensity, type GreyImage } from '../plot/raster';
import { escapeXml, FONT_FAMILY, textWidth } from '../plot/text';
import { featureMap, type LayerActivation, type LearnedFilters } from './activations';
import type { HandConvolution, HandPooling, Matrix } from './convolution';

/** How cells are coloured: 'course' (1 black, 0 white, -1 grey), 'signed' (blue positive, orange negative, white 0), 'plain' (all white). */
export type Palette = 'course' | 'signed' | 'plain';

/** One matrix of a picture, with its title, caption and marks. */
export interface MatrixPanel {
  readonly matrix: Matrix;
  readonly title?: string;
  /** Under the grid; drawn in bold when `emphasis` is set. */
  readonly caption?: string;
  readonly emphasis?: boolean;
  readonly palette?: Palette;
  /** Largest absolute value of the 'signed' scale (default: the matrix's own). */
  readonly scale?: number;
  /** A frame around a block of cells (the filter's window). */
  readonly window?: { row: number; column: number; height: number; width: number };
  /** One cell ringed (the maximum a pooling keeps). */
  readonly marked?: { row: number; column: number };
}

/** Options of a picture of matrices. */
export interface MatricesOptions {
  /** Panels per row (default: all in one row). */
  columns?: number;
  /** Side of a cell in CSS pixels (default 34). */
  cellSize?: number;
  /** Device pixels per CSS pixel (default 2). */
  deviceScale?: number;
  /** Picture title, above everything. */
  title?: string;
}

const SEPARATORS = separators(true);

/** A number as the pictures write it: French decimal comma, at most two decimals. */
export function cellText(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return formatNumber(rounded + 0, { separators: SEPARATORS });
}

function mix(from: [number, number, number], to: [number, number, number], t: number): string {
  const channel = (i: number) => Math.round(from[i] + (to[i] - from[i]) * Math.min(1, Math.max(0, t)));
  return `rgb(${channel(0)},${channel(1)},${channel(2)})`;
}

const WHITE: [number, number, number] = [255, 255, 255];
const BLACK: [number, number, number] = [0, 0, 0];
const GREY: [number, number, number] = [160, 160, 160];
const BLUE: [number, number, number] = [0, 114, 178];
const ORANGE: [number, number, number] = [213, 94, 0];

/** Fill colour of a cell and whether its text should be white to stay readable. */
function cellColour(value: number, palette: Palette, scale: number): { fill: string; light: boolean } {
  if (palette === 'plain') return { fill: 'white', light: false };
  if (palette === 'course') return value >= 0 ? { fill: mix(WHITE, BLACK, value), light: value > 0.55 } : { fill: mix(WHITE, GREY, -value), light: false };
  const t = scale > 0 ? Math.abs(value) / scale : 0;
  return { fill: mix(WHITE, value >= 0 ? BLUE : ORANGE, t), light: t > 0.6 };
}

interface PanelBox {
  width: number;
  height: number;
}

function panelBox(panel: MatrixPanel, cell: number): PanelBox {
  const rows = panel.matrix.length;
  const columns = panel.matrix[0]?.length ?? 0;
  const titleWidth = panel.title ? textWidth(panel.title, 13, true) : 0;
  const captionWidth = panel.caption ? textWidth(panel.caption, 13, panel.emphasis) : 0;
  return { width: Math.ceil(Math.max(columns * cell, titleWidth, captionWidth)), height: (panel.title ? 22 : 0) + rows * cell + (panel.caption ? 22 : 0) };
}

function panelSvg(panel: MatrixPanel, x: number, y: number, box: PanelBox, cell: number): string {
  const rows = panel.matrix.length;
  const columns = panel.matrix[0]?.length ?? 0;
  const palette = panel.palette ?? 'signed';
  const scale = panel.scale ?? Math.max(0, ...panel.matrix.flat().map(Math.abs));
  const left = x + (box.width - columns * cell) / 2;
  const top = y + (panel.title ? 22 : 0);
  const parts: string[] = [];
  if (panel.title) parts.push(`<text x="${x + box.width / 2}" y="${y + 15}" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`);
  const fontSize = Math.round(cell * 0.4);
  panel.matrix.forEach((line, r) =>
    line.forEach((value, c) => {
      const { fill, light } = cellColour(value, palette, scale);
      const cx = left + c * cell;
      const cy = top + r * cell;
      parts.push(`<rect x="${cx}" y="${cy}" width="${cell}" height="${cell}" fill="${fill}" stroke="#777777" stroke-width="1"/>`);
      parts.push(`<text x="${cx + cell / 2}" y="${cy + cell / 2 + fontSize * 0.36}" text-anchor="middle" font-size="${fontSize}" fill="${light ? 'white' : '#111111'}">${escapeXml(cellText(value))}</text>`);
    }),
  );
  if (panel.window) {
    const w = panel.window;
    parts.push(`<rect x="${left + w.column * cell}" y="${top + w.row * cell}" width="${w.width * cell}" height="${w.height * cell}" fill="none" stroke="#d62728" stroke-width="3"/>`);
  }
  if (panel.marked) {
    const m = panel.marked;
    parts.push(`<circle cx="${left + (m.column + 0.5) * cell}" cy="${top + (m.row + 0.5) * cell}" r="${cell * 0.42}" fill="none" stroke="#d62728" stroke-width="2.5"/>`);
  }
  if (panel.caption) {
    parts.push(`<text x="${x + box.width / 2}" y="${top + rows * cell + 16}" text-anchor="middle"${panel.emphasis ? ' font-weight="bold" fill="#d62728"' : ''}>${escapeXml(panel.caption)}</text>`);
  }
  return parts.join('');
}

/** Several matrices side by side (or in rows of `columns`), each cell with its number, as one PNG. */
export async function matricesPng(panels: readonly MatrixPanel[], options: MatricesOptions = {}): Promise<Buffer> {
  if (panels.length === 0) throw new Error('matricesPng : aucune matrice à dessiner.');
  const cell = options.cellSize ?? 34;
  const ds = options.deviceScale ?? 2;
  const columns = Math.max(1, Math.min(options.columns ?? panels.length, panels.length));
  const gap = 26;
  const boxes = panels.map((panel) => panelBox(panel, cell));
  const columnWidth = Array.from({ length: columns }, (_, c) => Math.max(...boxes.filter((_, i) => i % columns === c).map((box) => box.width)));
  const rowCount = Math.ceil(panels.length / columns);
  const rowHeight = Array.from({ length: rowCount }, (_, r) => Math.max(...boxes.slice(r * columns, (r + 1) * columns).map((box) => box.height)));
  const titleHeight = options.title ? 30 : 0;
  const width = Math.ceil(Math.max(gap + columnWidth.reduce((a, b) => a + b + gap, 0), options.title ? textWidth(options.title, 15, true) + 2 * gap : 0));
  const height = titleHeight + gap + rowHeight.reduce((a, b) => a + b + gap, 0);
  const parts: string[] = [];
  if (options.title) parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`);
  panels.forEach((panel, i) => {
    const c = i % columns;
    const r = Math.floor(i / columns);
    const x = gap + columnWidth.slice(0, c).reduce((a, b) => a + b + gap, 0) + (columnWidth[c] - boxes[i].width) / 2;
    const y = titleHeight + gap + rowHeight.slice(0, r).reduce((a, b) => a + b + gap, 0);
    parts.push(panelSvg(panel, x, y, boxes[i], cell));
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT_FAMILY}" font-size="13" fill="#222222"><rect width="${width}" height="${height}" fill="white"/>${parts.join('')}</svg>`;
  const png = await sharp(Buffer.from(svg), { density: 72 * ds }).png({ palette: true, colours: 256, effort: 2, compressionLevel: 9, dither: 0 }).toBuffer();
  return withDensity(png, ds);
}

/**
 * Every step of a hand convolution: for each window, the image with the window framed and the
 * products of its pixels by the filter, with their sum; the largest sum in bold. One row of
 * steps per output row, so the steps sit where their result goes.
 */
export async function convolutionStepsPng(image: Matrix, kernel: Matrix, convolution: HandConvolution, options: MatricesOptions = {}): Promise<Buffer> {
  const best = Math.max(...convolution.steps.map((step) => step.sum));
  const outColumns = convolution.output[0].length;
  const scale = Math.max(...convolution.steps.flatMap((step) => step.products.flat().map(Math.abs)));
  const panels = convolution.steps.flatMap((step): MatrixPanel[] => [
    { matrix: image, palette: 'course', title: `Fenêtre n° ${step.index}`, window: { row: step.row, column: step.column, height: kernel.length, width: kernel[0].length } },
    {
      matrix: step.products,
      palette: 'signed',
      scale,
      title: 'Produits',
      caption: `somme = ${cellText(step.sum)}`,
      emphasis: step.sum === best,
    },
  ]);
  return matricesPng(panels, { cellSize: 24, columns: 2 * outColumns, ...options });
}

/** Every window of a hand pooling: the map with the window framed (and, for max, the kept value ringed), and the value kept. */
export async function poolingStepsPng(matrix: Matrix, pooling: HandPooling, mode: 'max' | 'average', size = 2, options: MatricesOptions = {}): Promise<Buffer> {
  const outColumns = pooling.output[0].length;
  const panels = pooling.steps.map((step): MatrixPanel => ({
    matrix,
    palette: 'signed',
    title: `Fenêtre n° ${step.index}`,
    window: { row: step.row, column: step.column, height: size, width: size },
    ...(step.chosen ? { marked: { row: step.row + step.chosen.row, column: step.column + step.chosen.column } } : {}),
    caption: `${mode === 'max' ? 'max' : 'moyenne'} = ${cellText(step.value)}`,
  }));
  return matricesPng(panels, { cellSize: 26, columns: outColumns, ...options });
}

/** A grey level from 0 to 255 for `value` on a scale where `low` is black and `high` white. */
function grey(value: number, low: number, high: number): number {
  if (!(high > low)) return 0;
  return Math.round((255 * Math.min(high, Math.max(low, value)) - 255 * low) / (high - low));
}

/**
 * The learned filters as small grey pictures, all on one scale symmetric around 0: mid-grey is 0,
 * white the most positive weight, black the most negative (a filter reacts to light where it is white).
 */
export async function filtersPng(learned: LearnedFilters, options: { columns?: number; scale?: number } = {}): Promise<Buffer> {
  const extent = Math.max(1e-12, ...learned.filters.flatMap((filter) => filter.flat().map(Math.abs)));
  const [height, width] = learned.size;
  const images: GreyImage[] = learned.filters.map((filter, k) => ({
    pixels: Uint8Array.from(filter.flat(), (value) => grey(value, -extent, extent)),
    width,
    height,
    caption: String(k + 1),
  }));
  return imageGridPng(images, { columns: options.columns ?? 16, scale: options.scale ?? 14 });
}

/**
 * A layer's feature maps (one grey picture per channel), all on the layer's own scale: black is 0
 * (or the smallest value), white the layer's largest value, so that maps can be compared.
 */
export async function featureMapsPng(activation: LayerActivation, options: { columns?: number; scale?: number; count?: number } = {}): Promise<Buffer> {
  const [height, width, channels] = activation.shape;
  const count = Math.min(channels, options.count ?? channels);
  let low = Infinity;
  let high = -Infinity;
  for (const value of activation.values) (low = Math.min(low, value)), (high = Math.max(high, value));
  low = Math.min(0, low);
  const images: GreyImage[] = Array.from({ length: count }, (_, k) => ({
    pixels: Uint8Array.from(featureMap(activation, k), (value) => grey(value, low, high)),
    width,
    height,
    caption: String(k + 1),
  }));
  return imageGridPng(images, { columns: options.columns ?? 8, scale: options.scale ?? Math.max(1, Math.round(78 / Math.max(width, height))) });
}

/** A vector of activations (a dense layer's neurons) as one grey strip of `columns` per row, black 0, white the largest. */
export async function activationsStripPng(values: ArrayLike<number>, options: { columns?: number; scale?: number; caption?: string } = {}): Promise<Buffer> {
  const columns = Math.min(values.length, options.columns ?? 32);
  const rows = Math.ceil(values.length / columns);
  let high = 0;
  let low = 0;
  for (let i = 0; i < values.length; i++) (high = Math.max(high, values[i])), (low = Math.min(low, values[i]));
  const pixels = new Uint8Array(rows * columns).fill(0);
  for (let i = 0; i < values.length; i++) pixels[i] = grey(values[i], low, high);
  return imageGridPng([{ pixels, width: columns, height: rows, caption: options.caption }], { scale: options.scale ?? 14 });
}

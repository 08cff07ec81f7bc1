/**
 * Plotly figure specs for the lab's charts. The same JSON is drawn interactively by JupyterLab's
 * plotly extension and by the web app (plotly.js-dist), and statically by ./svg.ts. This file has
 * no Node dependency so that the web app can import it alone.
 */
import { FONT_FAMILY, textWidth } from './text';

/** A line or scatter trace (x numeric: epochs, steps...). */
export interface ScatterTrace {
  type: 'scatter';
  name?: string;
  x: number[];
  y: number[];
  mode: 'lines' | 'markers' | 'lines+markers';
  line?: { color?: string; width?: number; dash?: 'solid' | 'dash' | 'dot' };
  marker?: { color?: string; size?: number };
  hovertemplate?: string;
}

/** A bar trace; `orientation: 'h'` puts the categories on the y axis. */
export interface BarTrace {
  type: 'bar';
  name?: string;
  x: (number | string)[];
  y: (number | string)[];
  orientation: 'v' | 'h';
  marker?: { color?: string | string[] };
  /** One pre-formatted label per bar, drawn past its end (`textposition: 'outside'`). */
  text?: string[];
  textposition?: 'outside' | 'none';
  cliponaxis?: boolean;
  hovertemplate?: string;
}

/** A heatmap over categories; `text` + `texttemplate: '%{text}'` writes a label in each cell. */
export interface HeatmapTrace {
  type: 'heatmap';
  x: string[];
  y: string[];
  z: number[][];
  colorscale: [number, string][];
  zmin?: number;
  zmax?: number;
  text?: string[][];
  texttemplate?: string;
  showscale?: boolean;
  colorbar?: { thickness?: number; outlinewidth?: number };
  xgap?: number;
  ygap?: number;
  hovertemplate?: string;
}

/** A plotly trace of the kinds this project draws. */
export type Trace = ScatterTrace | BarTrace | HeatmapTrace;

/** The plotly axis attributes this project sets (and the static renderer honours). */
export interface Axis {
  title?: { text: string; standoff?: number };
  range?: [number, number];
  autorange?: boolean | 'reversed';
  dtick?: number;
  tick0?: number;
  tickangle?: number | 'auto';
  tickformat?: string;
  ticksuffix?: string;
  automargin?: boolean;
  showgrid?: boolean;
  gridcolor?: string;
  zeroline?: boolean;
  showline?: boolean;
  linecolor?: string;
  scaleanchor?: 'x';
  constrain?: 'domain';
}

/** Plotly layout attributes used here. */
export interface Layout {
  title?: { text: string; x?: number; xanchor?: 'center' | 'left'; font?: { size?: number; weight?: 'bold' | 'normal' } };
  width?: number;
  height?: number;
  /** Plotly sizes the chart to its element (what a page that sets the element's box wants). */
  autosize?: boolean;
  margin?: { l?: number; r?: number; t?: number; b?: number };
  font?: { family?: string; size?: number; color?: string };
  /** Decimal then thousands separator, e.g. ', ' in French. */
  separators?: string;
  xaxis?: Axis;
  yaxis?: Axis;
  showlegend?: boolean;
  legend?: { orientation?: 'h' | 'v'; x?: number; y?: number; xanchor?: 'left'; yanchor?: 'bottom' };
  barmode?: 'group';
  bargap?: number;
  bargroupgap?: number;
  hovermode?: 'closest' | 'x unified' | 'y unified';
  plot_bgcolor?: string;
  paper_bgcolor?: string;
}

/** A plotly figure: traces and layout (plain JSON). */
export interface Figure {
  data: Trace[];
  layout: Layout;
}

/** Okabe-Ito palette: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'] as const;

/** ColorBrewer 'Blues': one hue, light to dark, so order reads without colour vision. */
export const BLUES: [number, string][] = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'].map(
  (color, i, all) => [i / (all.length - 1), color],
);

/** What every figure builder accepts. */
export interface CommonOptions {
  title?: string;
  /** Size in CSS pixels (the PNG gets `scale` times more pixels). */
  width?: number;
  height?: number;
  /** French decimal comma ("0,91") instead of the point that `console.log` prints. */
  decimalComma?: boolean;
}

const NARROW_SPACE = '\u202f';

/** The separators a figure formats its numbers with (plotly's `layout.separators`). */
export function separators(decimalComma = false): string {
  return (decimalComma ? ',' : '.') + NARROW_SPACE;
}

/** Six significant digits at most (float noise like 0.30000000000000004 goes), integers untouched. */
function shortest(value: number): number {
  if (Number.isInteger(value)) return value;
  const integerDigits = Math.floor(Math.log10(Math.abs(value))) + 1;
  return integerDigits <= 0 ? Number(value.toPrecision(6)) : Number(value.toFixed(Math.max(0, 6 - integerDigits)));
}

/** Formats a number with a figure's separators; thousands are grouped from 10 000 on, as plotly does. */
export function formatNumber(value: number, options: { decimals?: number; separators?: string } = {}): string {
  const [decimal, thousands] = options.separators ?? separators();
  if (!Number.isFinite(value)) return String(value);
  const fixed = options.decimals === undefined ? String(shortest(value)) : value.toFixed(options.decimals);
  if (fixed.includes('e')) return fixed.replace('-', '\u2212');
  const negative = fixed.startsWith('-') && Number(fixed) !== 0;
  const [whole, fraction] = fixed.replace('-', '').split('.');
  const grouped = whole.length > 4 ? whole.replace(/\B(?=(\d{3})+(?!\d))/g, thousands) : whole;
  return (negative ? '\u2212' : '') + grouped + (fraction ? decimal + fraction : '');
}

function axis(title: string | undefined, extra: Axis = {}): Axis {
  return {
    ...(title ? { title: { text: title } } : {}),
    automargin: true,
    showgrid: true,
    gridcolor: '#e6e6e6',
    zeroline: false,
    showline: true,
    linecolor: '#888888',
    ...extra,
  };
}

function baseLayout(options: CommonOptions, defaults: { width: number; height: number }): Layout {
  return {
    ...(options.title ? { title: { text: options.title, x: 0.5, xanchor: 'center' as const, font: { size: 18, weight: 'bold' as const } } } : {}),
    width: options.width ?? defaults.width,
    height: options.height ?? defaults.height,
    margin: { l: 70, r: 30, t: options.title ? 70 : 30, b: 60 },
    font: { family: FONT_FAMILY, size: 13, color: '#222222' },
    separators: separators(options.decimalComma),
    plot_bgcolor: 'white',
    paper_bgcolor: 'white',
  };
}

/**
 * Category labels under an x axis that would overlap flat get rotated by -40°, decided here rather
 * than left to plotly's automatic angle (30°, the other way) so that both pictures look alike.
 */
function categoryAxisExtra(categories: readonly string[], plotWidth: number): Axis {
  const band = plotWidth / Math.max(1, categories.length);
  const widest = Math.max(0, ...categories.map((label) => textWidth(label, 13)));
  // The title keeps clear of rotated labels only with an explicit standoff.
  return widest > band - 6 ? { tickangle: -40, title: { text: '', standoff: 14 } } : {};
}

function withTitle(extra: Axis, title: string | undefined): Axis {
  if (!extra.title) return extra;
  const { title: spacing, ...rest } = extra;
  return title ? { ...rest, title: { text: title, standoff: spacing.standoff } } : rest;
}

const LEGEND_ON_TOP = { orientation: 'h', x: 0, y: 1.02, xanchor: 'left', yanchor: 'bottom' } as const;

/** One series of a line chart; x defaults to 1, 2, 3... (epochs). */
export interface LineSeries {
  name: string;
  y: ArrayLike<number>;
  x?: ArrayLike<number>;
  color?: string;
}

/** A line chart with markers, one trace per series, legend above the plot when there are several. */
export function lineFigure(options: CommonOptions & { xTitle?: string; yTitle?: string; series: LineSeries[]; yRange?: [number, number]; /** Default: only up to 30 points. */ markers?: boolean }): Figure {
  const data: ScatterTrace[] = options.series.map((series, i) => {
    const color = series.color ?? PALETTE[i % PALETTE.length];
    return {
      type: 'scatter',
      // Markers show each epoch's value; past a few dozen points they only clutter the line.
      mode: (options.markers ?? series.y.length <= 30) ? 'lines+markers' : 'lines',
      name: series.name,
      // Plain arrays: typed arrays (tensor data) would serialise as objects in the notebook's JSON.
      x: series.x ? Array.from(series.x) : Array.from(series.y, (_, k) => k + 1),
      y: Array.from(series.y),
      line: { color, width: 2.5 },
      marker: { color, size: 7 },
    };
  });
  const xs = data.flatMap((trace) => trace.x);
  const integerX = xs.length > 0 && xs.every(Number.isInteger);
  // Epoch numbers: every one when there are few, and never a tick at 2.5.
  const xExtra: Axis = integerX ? { tickformat: 'd', ...(Math.max(...xs) - Math.min(...xs) <= 15 ? { dtick: 1, tick0: 0 } : {}) } : {};
  const named = data.length > 1;
  return {
    data,
    layout: {
      ...baseLayout(options, { width: 700, height: 400 }),
      xaxis: axis(options.xTitle, xExtra),
      yaxis: axis(options.yTitle, options.yRange ? { range: options.yRange } : {}),
      showlegend: named,
      ...(named ? { legend: LEGEND_ON_TOP } : {}),
      hovermode: 'x unified',
    },
  };
}

/** One series of a bar chart: a value per category. */
export interface BarSeries {
  name: string;
  values: ArrayLike<number>;
  /** One colour for the series, or one per bar (to highlight a bar). */
  color?: string | string[];
}

/** A grouped bar chart over categories; `orientation: 'h'` draws horizontal bars (room for long French class names). */
export function barFigure(
  options: CommonOptions & {
    categories: readonly string[];
    series: BarSeries[];
    xTitle?: string;
    yTitle?: string;
    orientation?: 'v' | 'h';
    /** Writes each bar's value past its end: true for the plain number, or a formatting function. */
    valueLabels?: boolean | ((value: number) => string);
    /** Fixed range of the value axis (e.g. [0, 100] for percentages). */
    valueRange?: [number, number];
  },
): Figure {
  const horizontal = options.orientation === 'h';
  const seps = separators(options.decimalComma);
  const label = typeof options.valueLabels === 'function' ? options.valueLabels : (value: number) => formatNumber(value, { separators: seps });
  const categories = [...options.categories];
  const data: BarTrace[] = options.series.map((series, i) => {
    const values = Array.from(series.values);
    return {
      type: 'bar',
      name: series.name,
      orientation: horizontal ? 'h' : 'v',
      x: horizontal ? values : categories,
      y: horizontal ? categories : values,
      marker: { color: series.color ?? PALETTE[i % PALETTE.length] },
      ...(options.valueLabels ? { text: values.map(label), textposition: 'outside' as const, cliponaxis: false } : {}),
    };
  });
  const valueAxis = axis(horizontal ? options.xTitle : options.yTitle, options.valueRange ? { range: options.valueRange } : {});
  const width = options.width ?? 700;
  const rotation = horizontal ? {} : withTitle(categoryAxisExtra(categories, width - 110), options.xTitle);
  const categoryAxis = axis(horizontal ? options.yTitle : options.xTitle, { showgrid: false, ...(horizontal ? { autorange: 'reversed' as const } : {}), ...rotation });
  const named = data.length > 1;
  const rows = categories.length * (horizontal ? Math.max(1, data.length) : 1);
  return {
    data,
    layout: {
      ...baseLayout(options, { width: 700, height: horizontal ? Math.max(300, Math.min(900, 110 + 30 * rows)) : 420 }),
      ...(options.valueLabels && horizontal ? { margin: { l: 70, r: 60, t: options.title ? 70 : 30, b: 60 } } : {}),
      xaxis: horizontal ? valueAxis : categoryAxis,
      yaxis: horizontal ? categoryAxis : valueAxis,
      barmode: 'group',
      bargap: 0.2,
      bargroupgap: 0.05,
      showlegend: named,
      ...(named ? { legend: LEGEND_ON_TOP } : {}),
      hovermode: 'closest',
    },
  };
}

/** The model's answer for one image: a horizontal bar per class in %, the predicted class highlighted. */
export function probabilitiesFigure(probabilities: ArrayLike<number>, classNames: readonly string[], options: CommonOptions = {}): Figure {
  const percents = Array.from(probabilities, (p) => p * 100);
  const best = percents.indexOf(Math.max(...percents));
  const seps = separators(options.decimalComma);
  return barFigure({
    ...options,
    title: options.title ?? `Selon moi l'image est : ${classNames[best] ?? '?'}`,
    xTitle: 'Probabilité (%)',
    categories: classNames,
    series: [{ name: 'Probabilité', values: percents, color: percents.map((_, i) => (i === best ? PALETTE[1] : PALETTE[0])) }],
    orientation: 'h',
    valueRange: [0, 100],
    valueLabels: (value) => `${formatNumber(value, { decimals: 1, separators: seps })}\u00a0%`,
  });
}

/** A heatmap with a colour scale; `annotate` writes each value in its cell. */
export function heatmapFigure(
  options: CommonOptions & {
    z: readonly ArrayLike<number>[];
    x: readonly string[];
    y: readonly string[];
    xTitle?: string;
    yTitle?: string;
    annotate?: boolean | ((value: number) => string);
    colorscale?: [number, string][];
    /** Square cells (what a confusion matrix should have). */
    squareCells?: boolean;
    hovertemplate?: string;
  },
): Figure {
  const seps = separators(options.decimalComma);
  const format = typeof options.annotate === 'function' ? options.annotate : (value: number) => formatNumber(value, { separators: seps });
  const z = options.z.map((row) => Array.from(row));
  const yLabels = Math.max(0, ...options.y.map((label) => textWidth(label, 13)));
  const rotation = withTitle(categoryAxisExtra(options.x, (options.width ?? 760) - yLabels - 150), options.xTitle);
  return {
    data: [
      {
        type: 'heatmap',
        z,
        x: [...options.x],
        y: [...options.y],
        colorscale: options.colorscale ?? BLUES,
        ...(options.annotate ? { text: z.map((row) => row.map(format)), texttemplate: '%{text}' } : {}),
        showscale: true,
        colorbar: { thickness: 14, outlinewidth: 0 },
        xgap: 1,
        ygap: 1,
        ...(options.hovertemplate ? { hovertemplate: options.hovertemplate } : {}),
      },
    ],
    layout: {
      ...baseLayout(options, { width: 760, height: 640 }),
      xaxis: axis(options.xTitle, { showgrid: false, showline: false, ...rotation }),
      // First row at the top, as in a table.
      yaxis: axis(options.yTitle, { showgrid: false, showline: false, autorange: 'reversed', ...(options.squareCells ? { scaleanchor: 'x', constrain: 'domain' } : {}) }),
      showlegend: false,
      hovermode: 'closest',
    },
  };
}

/** The confusion matrix as an annotated heatmap: rows = true class, columns = predicted class. */
export function confusionMatrixFigure(matrix: readonly ArrayLike<number>[], classNames: readonly string[], title = 'Matrice de confusion'): Figure {
  return heatmapFigure({
    title,
    z: matrix,
    x: classNames,
    y: classNames,
    xTitle: 'Classe prédite',
    yTitle: 'Vraie classe',
    annotate: true,
    squareCells: true,
    hovertemplate: 'Vraie classe : %{y}<br>Classe prédite : %{x}<br>%{z} images<extra></extra>',
  });
}

/** A Keras-style training history (tfjs names `acc`/`val_acc` accepted too). */
export interface HistoryLike {
  loss: number[];
  val_loss?: number[];
  accuracy?: number[];
  acc?: number[];
  val_accuracy?: number[];
  val_acc?: number[];
}

/** The course's two figures from a history: 'Précision du modèle' and 'Erreur' against the epoch, 'Apprentissage' vs 'Validation'. */
export function trainingCurvesFigures(history: HistoryLike, options: { xTitle?: string; decimalComma?: boolean } = {}): [Figure, Figure] {
  const pick = (...candidates: (number[] | undefined)[]) => candidates.find((values) => values && values.length > 0) ?? [];
  const series = (train: number[], validation: number[]) => [
    { name: 'Apprentissage', y: train },
    ...(validation.length ? [{ name: 'Validation', y: validation }] : []),
  ];
  const xTitle = options.xTitle ?? 'Époque';
  return [
    lineFigure({
      title: 'Précision du modèle',
      xTitle,
      yTitle: 'Précision',
      series: series(pick(history.accuracy, history.acc), pick(history.val_accuracy, history.val_acc)),
      decimalComma: options.decimalComma,
    }),
    lineFigure({ title: 'Erreur', xTitle, yTitle: 'Erreur', series: series(history.loss, pick(history.val_loss)), decimalComma: options.decimalComma }),
  ];
}

/** The one-line description of a figure (its title), used as the text/plain of its display. */
export function describe(figure: Figure): string {
  return figure.layout.title?.text ? `Figure : ${figure.layout.title.text}` : 'Figure';
}

/** The CSS box a figure is drawn in: its layout's size (the PNG's CSS size too). */
export function figureBox(figure: Figure): { width: number; height: number } {
  return { width: figure.layout.width ?? 700, height: figure.layout.height ?? 400 };
}

/**
 * The figure for an element whose CSS gives its box (`figureBox`'s width as max-width, its height):
 * no fixed width, so plotly fills the element and the chart is never wider than the page. The height
 * stays: scaled down with the width, a bar chart of ten classes would lose every other label.
 */
export function fluidFigure(figure: Figure): Figure {
  const { width: _width, ...layout } = figure.layout;
  return { data: figure.data, layout: { ...layout, autosize: true } };
}

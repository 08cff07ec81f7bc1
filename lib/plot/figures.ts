/** Plotly figure specs for the lab's charts: the same JSON feeds JupyterLab (plotly mime type), the web app and our static renderer. */

/** A plotly trace of the kinds this project draws. */
export interface Trace {
  type: 'scatter' | 'bar' | 'heatmap';
  name?: string;
  x?: (number | string)[];
  y?: (number | string)[];
  z?: number[][];
  mode?: 'lines' | 'lines+markers' | 'markers';
  orientation?: 'v' | 'h';
  marker?: { color?: string };
  line?: { color?: string; width?: number };
  colorscale?: [number, string][];
  text?: string[][];
  texttemplate?: string;
  showscale?: boolean;
}

/** A plotly figure: traces and layout. */
export interface Figure {
  data: Trace[];
  layout: {
    title?: { text: string };
    xaxis?: { title?: { text: string }; tickangle?: number; automargin?: boolean; autorange?: boolean | 'reversed' };
    yaxis?: { title?: { text: string }; automargin?: boolean; autorange?: boolean | 'reversed'; range?: [number, number] };
    barmode?: 'group';
    width?: number;
    height?: number;
    legend?: { orientation?: 'h' | 'v' };
    font?: { family?: string; size?: number };
    margin?: { l: number; r: number; t: number; b: number };
  };
}

/** Colour-blind-safe palette (Okabe-Ito). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

/** A line chart, one trace per series (x defaults to 1, 2, 3...: epochs). */
export function lineFigure(options: { title: string; xTitle: string; yTitle: string; series: { name: string; y: number[]; x?: number[] }[] }): Figure {
  return {
    data: options.series.map((series, i) => ({
      type: 'scatter',
      mode: 'lines+markers',
      name: series.name,
      x: series.x ?? series.y.map((_, k) => k + 1),
      y: series.y,
      line: { color: PALETTE[i % PALETTE.length], width: 2 },
      marker: { color: PALETTE[i % PALETTE.length] },
    })),
    layout: { title: { text: options.title }, xaxis: { title: { text: options.xTitle } }, yaxis: { title: { text: options.yTitle } }, width: 700, height: 400 },
  };
}

/** A grouped bar chart over categories; `orientation: 'h'` draws horizontal bars (long French class names). */
export function barFigure(options: {
  title: string;
  categories: string[];
  series: { name: string; values: number[] }[];
  xTitle?: string;
  yTitle?: string;
  orientation?: 'v' | 'h';
}): Figure {
  const horizontal = options.orientation === 'h';
  return {
    data: options.series.map((series, i) => ({
      type: 'bar',
      name: series.name,
      orientation: horizontal ? 'h' : 'v',
      x: horizontal ? series.values : options.categories,
      y: horizontal ? options.categories : series.values,
      marker: { color: PALETTE[i % PALETTE.length] },
    })),
    layout: {
      title: { text: options.title },
      barmode: 'group',
      xaxis: { title: options.xTitle ? { text: options.xTitle } : undefined, automargin: true },
      yaxis: { title: options.yTitle ? { text: options.yTitle } : undefined, automargin: true, autorange: horizontal ? 'reversed' : true },
      width: 700,
      height: horizontal ? Math.max(300, 60 + 28 * options.categories.length * options.series.length) : 420,
    },
  };
}

/** The confusion matrix as an annotated heatmap: rows = true class, columns = predicted class. */
export function confusionMatrixFigure(matrix: number[][], classNames: readonly string[], title = 'Matrice de confusion'): Figure {
  return {
    data: [
      {
        type: 'heatmap',
        z: matrix,
        x: [...classNames],
        y: [...classNames],
        text: matrix.map((row) => row.map(String)),
        texttemplate: '%{text}',
        colorscale: [
          [0, '#f7fbff'],
          [0.5, '#6baed6'],
          [1, '#08306b'],
        ],
        showscale: true,
      },
    ],
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'Classe prédite' }, tickangle: -40, automargin: true },
      yaxis: { title: { text: 'Vraie classe' }, autorange: 'reversed', automargin: true },
      width: 760,
      height: 640,
    },
  };
}

/** The course's two curves from a Keras-style history: 'Précision du modèle' and 'Erreur', training vs validation. */
export function trainingCurvesFigures(history: { loss: number[]; accuracy: number[]; val_loss?: number[]; val_accuracy?: number[] }): [Figure, Figure] {
  const withValidation = (train: number[], validation: number[] | undefined) => [
    { name: 'Apprentissage', y: train },
    ...(validation && validation.length ? [{ name: 'Validation', y: validation }] : []),
  ];
  return [
    lineFigure({ title: 'Précision du modèle', xTitle: 'Époque', yTitle: 'Précision', series: withValidation(history.accuracy, history.val_accuracy) }),
    lineFigure({ title: 'Erreur', xTitle: 'Époque', yTitle: 'Erreur', series: withValidation(history.loss, history.val_loss) }),
  ];
}

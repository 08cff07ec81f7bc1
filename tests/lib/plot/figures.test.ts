import {
  BLUES,
  PALETTE,
  barFigure,
  figureBox,
  fluidFigure,
  confusionMatrixFigure,
  formatNumber,
  heatmapFigure,
  lineFigure,
  niceTicks,
  probabilitiesFigure,
  trainingCurvesFigures,
  type BarTrace,
  type HeatmapTrace,
  type ScatterTrace,
} from '../../../lib/plot';
import { FASHION_CLASSES } from '../../../lib/data/classes';

describe('training curves', () => {
  it("are the course's two figures, training vs validation against the epoch", () => {
    const [accuracy, loss] = trainingCurvesFigures({ loss: [0.5, 0.3], accuracy: [0.8, 0.9], val_loss: [0.4, 0.35], val_accuracy: [0.85, 0.88] });
    expect(accuracy.layout.title?.text).toBe('Précision du modèle');
    expect(accuracy.layout.xaxis?.title?.text).toBe('Époque');
    expect(accuracy.layout.yaxis?.title?.text).toBe('Précision');
    expect(accuracy.data).toEqual([
      expect.objectContaining({ type: 'scatter', name: 'Apprentissage', x: [1, 2], y: [0.8, 0.9], mode: 'lines+markers' }),
      expect.objectContaining({ type: 'scatter', name: 'Validation', x: [1, 2], y: [0.85, 0.88] }),
    ]);
    expect(accuracy.layout.showlegend).toBe(true);
    expect(loss.layout.title?.text).toBe('Erreur');
    expect(loss.layout.yaxis?.title?.text).toBe('Erreur');
    expect(loss.data.map((trace) => (trace as ScatterTrace).y)).toEqual([
      [0.5, 0.3],
      [0.4, 0.35],
    ]);
  });

  it("accept tfjs' metric names and a history without validation", () => {
    const [accuracy, loss] = trainingCurvesFigures({ loss: [0.5], acc: [0.8] });
    expect(accuracy.data).toHaveLength(1);
    expect((accuracy.data[0] as ScatterTrace).y).toEqual([0.8]);
    expect(accuracy.layout.showlegend).toBe(false);
    expect(loss.data).toHaveLength(1);
    expect(trainingCurvesFigures({ loss: [1], acc: [0.5], val_acc: [0.4] })[0].data.map((trace) => (trace as ScatterTrace).name)).toEqual(['Apprentissage', 'Validation']);
  });
});

describe('line charts', () => {
  it('use the colour-blind-safe palette, one tick per epoch and plain JSON arrays', () => {
    const figure = lineFigure({ title: 'T', xTitle: 'x', yTitle: 'y', series: [{ name: 'a', y: Float32Array.from([1, 2, 3]) }, { name: 'b', y: [3, 2, 1] }] });
    const [a, b] = figure.data as ScatterTrace[];
    expect(Array.isArray(a.y)).toBe(true);
    expect(a.line?.color).toBe(PALETTE[0]);
    expect(b.line?.color).toBe(PALETTE[1]);
    expect(figure.layout.xaxis).toMatchObject({ dtick: 1, tickformat: 'd' });
    expect([figure.layout.width, figure.layout.height]).toEqual([700, 400]);
    expect(JSON.parse(JSON.stringify(figure))).toEqual(figure);
  });

  it('drop markers on long series and keep French separators when asked', () => {
    const figure = lineFigure({ series: [{ name: 'a', y: Array.from({ length: 50 }, (_, i) => i) }], decimalComma: true });
    expect((figure.data[0] as ScatterTrace).mode).toBe('lines');
    expect(figure.layout.separators).toBe(',\u202f');
    expect(figure.layout.xaxis?.dtick).toBeUndefined();
  });
});

describe('bar charts', () => {
  it('group series over categories (class distribution, train vs test)', () => {
    const figure = barFigure({
      title: 'Répartition des catégories',
      categories: FASHION_CLASSES,
      series: [
        { name: 'Apprentissage', values: FASHION_CLASSES.map(() => 6000) },
        { name: 'Test', values: FASHION_CLASSES.map(() => 1000) },
      ],
    });
    expect(figure.layout.barmode).toBe('group');
    expect(figure.data).toEqual([
      expect.objectContaining({ type: 'bar', orientation: 'v', name: 'Apprentissage', x: [...FASHION_CLASSES], marker: { color: PALETTE[0] } }),
      expect.objectContaining({ type: 'bar', orientation: 'v', name: 'Test', marker: { color: PALETTE[1] } }),
    ]);
  });

  it('draw horizontal bars with the first category on top', () => {
    const figure = barFigure({ title: 't', categories: ['a', 'b'], series: [{ name: 'x', values: [1, 2] }], orientation: 'h', valueLabels: true });
    expect(figure.data[0]).toMatchObject({ type: 'bar', orientation: 'h', x: [1, 2], y: ['a', 'b'], text: ['1', '2'], textposition: 'outside' });
    expect(figure.layout.yaxis?.autorange).toBe('reversed');
    expect(figure.layout.showlegend).toBe(false);
  });

  it("show a model's probabilities in %, the predicted class highlighted", () => {
    const figure = probabilitiesFigure([0.1, 0.85, 0.05], ['Un pull', 'Une chemise', 'Un sac'], { decimalComma: true });
    const trace = figure.data[0] as BarTrace;
    expect(figure.layout.title?.text).toBe("Selon moi l'image est : Une chemise");
    expect(trace.x).toEqual([10, 85, 5]);
    expect(trace.text).toEqual(['10,0\u00a0%', '85,0\u00a0%', '5,0\u00a0%']);
    expect(trace.marker?.color).toEqual([PALETTE[0], PALETTE[1], PALETTE[0]]);
    expect(figure.layout.xaxis?.range).toEqual([0, 100]);
  });
});

describe('heatmaps', () => {
  it('annotate each cell only when asked', () => {
    const plain = heatmapFigure({ z: [[1, 2]], x: ['a', 'b'], y: ['r'] }).data[0] as HeatmapTrace;
    expect(plain.text).toBeUndefined();
    const annotated = heatmapFigure({ z: [[0.5, 1234567]], x: ['a', 'b'], y: ['r'], annotate: true, decimalComma: true }).data[0] as HeatmapTrace;
    expect(annotated.text).toEqual([['0,5', '1\u202f234\u202f567']]);
    expect(annotated.texttemplate).toBe('%{text}');
    expect(annotated.colorscale).toEqual(BLUES);
  });

  it('make a 10-class confusion matrix: true classes as rows from the top, predictions as columns', () => {
    const matrix = FASHION_CLASSES.map((_, r) => FASHION_CLASSES.map((_, c) => (r === c ? 900 : 10)));
    const figure = confusionMatrixFigure(matrix, FASHION_CLASSES);
    const trace = figure.data[0] as HeatmapTrace;
    expect(trace).toMatchObject({ type: 'heatmap', z: matrix, x: [...FASHION_CLASSES], y: [...FASHION_CLASSES], texttemplate: '%{text}' });
    expect(trace.text?.[3]).toEqual(['10', '10', '10', '900', '10', '10', '10', '10', '10', '10']);
    expect(figure.layout.title?.text).toBe('Matrice de confusion');
    expect(figure.layout.xaxis?.title?.text).toBe('Classe prédite');
    expect(figure.layout.yaxis).toMatchObject({ title: { text: 'Vraie classe' }, autorange: 'reversed', scaleanchor: 'x' });
  });
});

describe('numbers', () => {
  it('format with the figure separators', () => {
    expect(formatNumber(0.912, { decimals: 2 })).toBe('0.91');
    expect(formatNumber(0.912, { decimals: 2, separators: ', ' })).toBe('0,91');
    expect(formatNumber(6000)).toBe('6000');
    expect(formatNumber(60000)).toBe('60\u202f000');
    expect(formatNumber(-1.5, { separators: ', ' })).toBe('\u22121,5');
    expect(formatNumber(-0.0001, { decimals: 2 })).toBe('0.00');
  });

  it('choose round ticks that enclose the data', () => {
    expect(niceTicks(0, 6000)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000]);
    expect(niceTicks(0, 100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.7735, 0.9165)).toEqual([0.75, 0.8, 0.85, 0.9, 0.95]);
    expect(niceTicks(5, 5).length).toBeGreaterThanOrEqual(3);
  });
});

describe('figures for a page that sizes them (the web app)', () => {
  it('keep their box, lose their fixed width so that plotly fits them to the element', () => {
    const figure = probabilitiesFigure([0.1, 0.9], ['Un sac', 'Un pull']);
    expect(figureBox(figure)).toEqual({ width: 700, height: 300 });
    const fluid = fluidFigure(figure);
    expect(fluid.layout.width).toBeUndefined();
    expect(fluid.layout.height).toBe(300);
    expect(fluid.layout.autosize).toBe(true);
    expect(fluid.data).toBe(figure.data);
    // The notebook's figure is untouched (its PNG and plotly JSON keep the fixed size).
    expect(figure.layout.width).toBe(700);
  });
});

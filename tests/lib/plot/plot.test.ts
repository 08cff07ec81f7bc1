import sharp from 'sharp';
import { barFigure, confusionMatrixFigure, imageGridPng, lineFigure, liveFigure, mimeBundle, niceTicks, renderPng, renderSvg, show, trainingCurvesFigures } from '../../../lib/plot';
import { FASHION_CLASSES } from '../../../lib/data/classes';

async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, info };
}

/** How many pixels are close to an RGB colour. */
function countColour(data: Buffer, [r, g, b]: [number, number, number]): number {
  let count = 0;
  for (let i = 0; i < data.length; i += 3) if (Math.abs(data[i] - r) < 30 && Math.abs(data[i + 1] - g) < 30 && Math.abs(data[i + 2] - b) < 30) count++;
  return count;
}

describe('figures', () => {
  it("builds the course's two training curves, training vs validation", () => {
    const [accuracy, loss] = trainingCurvesFigures({ loss: [0.5, 0.3], accuracy: [0.8, 0.9], val_loss: [0.4, 0.35], val_accuracy: [0.85, 0.88] });
    expect(accuracy.layout.title?.text).toBe('Précision du modèle');
    expect(accuracy.data.map((t) => t.name)).toEqual(['Apprentissage', 'Validation']);
    expect(accuracy.data[0]).toMatchObject({ type: 'scatter', x: [1, 2], y: [0.8, 0.9] });
    expect(loss.layout.yaxis?.title?.text).toBe('Erreur');
  });

  it('builds grouped and horizontal bar charts and the confusion matrix heatmap', () => {
    const bars = barFigure({ title: 't', categories: ['a', 'b'], series: [{ name: 'x', values: [1, 2] }], orientation: 'h' });
    expect(bars.data[0]).toMatchObject({ type: 'bar', orientation: 'h', x: [1, 2], y: ['a', 'b'] });
    const matrix = confusionMatrixFigure([[5, 1], [0, 7]], ['A', 'B']);
    expect(matrix.data[0]).toMatchObject({ type: 'heatmap', z: [[5, 1], [0, 7]], text: [['5', '1'], ['0', '7']] });
    expect(matrix.layout.yaxis?.autorange).toBe('reversed');
  });

  it('chooses round ticks', () => {
    expect(niceTicks(0, 6000)).toEqual([0, 2000, 4000, 6000]);
    expect(niceTicks(0.78, 0.91)).toEqual([0.75, 0.8, 0.85, 0.9, 0.95]);
  });
});

describe('static rendering', () => {
  it('draws a line chart of the requested size with its line colour', async () => {
    const figure = lineFigure({ title: 'Erreur', xTitle: 'Époque', yTitle: 'Erreur', series: [{ name: 'Apprentissage', y: [0.9, 0.5, 0.3] }] });
    expect(renderSvg(figure)).toMatch(/^<svg [^>]*width="700" height="400"[^]*<polyline[^]*Erreur[^]*<\/svg>$/);
    const png = await renderPng(figure, { scale: 1 });
    const { data, info } = await pixels(png);
    expect([info.width, info.height]).toEqual([700, 400]);
    expect(countColour(data, [0x00, 0x72, 0xb2])).toBeGreaterThan(200);
  });

  it('draws a readable 10-class confusion matrix with dark cells on the diagonal', async () => {
    const matrix = FASHION_CLASSES.map((_, r) => FASHION_CLASSES.map((_, c) => (r === c ? 900 : 10)));
    const svg = renderSvg(confusionMatrixFigure(matrix, FASHION_CLASSES));
    expect(svg.match(/fill="white">900<\/text>/g)).toHaveLength(10); // dark cells get white text
    expect(svg).toContain('Des bottes de cheville');
    const { data } = await pixels(await renderPng(confusionMatrixFigure(matrix, FASHION_CLASSES), { scale: 1 }));
    expect(countColour(data, [0x08, 0x30, 0x6b])).toBeGreaterThan(1000);
  });

  it('escapes text', () => {
    expect(renderSvg(lineFigure({ title: 'a < b & "c"', xTitle: 'x', yTitle: 'y', series: [{ name: 's', y: [1] }] }))).toContain('a &lt; b &amp; &quot;c&quot;');
  });

  it('draws a grid of 28x28 images with captions', async () => {
    const bright = new Uint8Array(784).fill(255);
    const png = await imageGridPng([{ pixels: bright, caption: 'Un sac' }, { pixels: new Uint8Array(784), caption: 'Un pull' }, { pixels: bright }], { columns: 2, scale: 4 });
    const { data, info } = await pixels(png);
    expect(info.width).toBeGreaterThanOrEqual(2 * 112);
    expect(info.height).toBeGreaterThanOrEqual(2 * 112);
    expect(countColour(data, [0, 0, 0])).toBeGreaterThan(112 * 112 * 0.9);
  });
});

describe('showing in a notebook', () => {
  afterEach(() => {
    const jupyter = require('tslab/dist/jupyter');
    jupyter.lastWriteDisplayData = null;
  });

  it('emits one output with the plotly JSON, a PNG and a text line', async () => {
    const jupyter = require('tslab/dist/jupyter');
    const sent: { content: { data: Record<string, string>; transient: Record<string, string> }; update?: boolean }[] = [];
    jupyter.lastWriteDisplayData = (content: never, update?: boolean) => sent.push({ content, update });
    await show(lineFigure({ title: 'Erreur', xTitle: 'x', yTitle: 'y', series: [{ name: 's', y: [1, 2] }] }));
    expect(sent).toHaveLength(1);
    const data = sent[0].content.data;
    expect(Object.keys(data).sort()).toEqual(['application/vnd.plotly.v1+json', 'image/png', 'text/plain']);
    expect((await sharp(Buffer.from(data['image/png'], 'base64')).metadata()).format).toBe('png');
    const live = liveFigure();
    await live.update(Buffer.from(await renderPng(lineFigure({ title: 'a', xTitle: 'x', yTitle: 'y', series: [{ name: 's', y: [1] }] }))));
    await live.update(await mimeBundle(Buffer.alloc(0)).then(() => Buffer.from('x')));
    expect(sent[1].content.transient.display_id).toBe(sent[2].content.transient.display_id);
    expect([sent[1].update, sent[2].update]).toEqual([false, true]);
  });

  it('does not fail outside a notebook', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    await show(Buffer.from('png'));
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/disponible dans un notebook tslab/));
    log.mockRestore();
  });
});

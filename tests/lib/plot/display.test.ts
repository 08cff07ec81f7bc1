import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { imageGridPng, lineFigure, liveFigure, liveTrainingCurves, mimeBundle, show, tslabDisplayWriter, type DisplayContent } from '../../../lib/plot';

interface Sent {
  content: DisplayContent;
  update: boolean | undefined;
}

/** tslab's module as the kernel has it; its `lastWriteDisplayData` is what a running cell writes displays with. */
const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: ((content: DisplayContent, update?: boolean) => void) | null };

function fakeKernel(): Sent[] {
  const sent: Sent[] = [];
  jupyter.lastWriteDisplayData = (content, update) => sent.push({ content, update });
  return sent;
}

const figure = lineFigure({ title: 'Erreur', xTitle: 'Epoch', yTitle: 'Erreur', series: [{ name: 'Apprentissage', y: [0.5, 0.3, 0.25] }] });

afterEach(() => {
  jupyter.lastWriteDisplayData = null;
});

describe('in a tslab kernel', () => {
  it('shows a figure as one output: plotly JSON, a PNG at its CSS size, a text line', async () => {
    const sent = fakeKernel();
    await show(figure);
    expect(sent).toHaveLength(1);
    const { content, update } = sent[0];
    expect(update).toBe(false);
    expect(content.transient).toEqual({});
    expect(Object.keys(content.data).sort()).toEqual(['application/vnd.plotly.v1+json', 'image/png', 'text/plain']);
    expect(content.data['application/vnd.plotly.v1+json']).toEqual({ data: figure.data, layout: figure.layout });
    expect(content.data['text/plain']).toBe('Figure : Erreur');
    const png = Buffer.from(content.data['image/png'] as string, 'base64');
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1400, 800]);
    expect(content.metadata).toEqual({ 'image/png': { width: 700, height: 400 } });
    // No HTML, no script: nothing that needs trust or network.
    expect(JSON.stringify(content)).not.toMatch(/text\/html|<script/);
  });

  it('shows a PNG picture (image grid) with its CSS size', async () => {
    const sent = fakeKernel();
    const grid = await imageGridPng([{ pixels: new Uint8Array(784).fill(200), caption: 'Un sac' }]);
    await show(grid);
    expect(Object.keys(sent[0].content.data).sort()).toEqual(['image/png', 'text/plain']);
    expect(Buffer.from(sent[0].content.data['image/png'] as string, 'base64').equals(grid)).toBe(true);
    const { width } = (sent[0].content.metadata['image/png'] as { width: number });
    expect(width * 2).toBe((await sharp(grid).metadata()).width);
  });

  it('updates a live figure in place, keeping only the latest of quick updates', async () => {
    const sent = fakeKernel();
    const live = liveFigure();
    await live.update(figure);
    const second = lineFigure({ title: 'Deux', series: [{ name: 's', y: [1, 2] }] });
    const third = lineFigure({ title: 'Trois', series: [{ name: 's', y: [1, 2, 3] }] });
    await Promise.all([live.update(second), live.update(third)]);
    expect(sent.map((s) => s.update)).toEqual([false, true]);
    expect(sent.map((s) => s.content.transient.display_id)).toEqual([live.id, live.id]);
    expect(sent[1].content.data['text/plain']).toBe('Figure : Trois');
  });

  it('draws the two training curves live from epoch logs (tfjs names)', async () => {
    const sent = fakeKernel();
    const curves = liveTrainingCurves({ scale: 1 });
    await curves.addEpoch({ loss: 0.6, acc: 0.8, val_loss: 0.5, val_acc: 0.82 });
    await curves.addEpoch({ loss: 0.4, acc: 0.86, val_loss: 0.45, val_acc: 0.85 });
    expect(curves.history).toEqual({ loss: [0.6, 0.4], accuracy: [0.8, 0.86], val_loss: [0.5, 0.45], val_accuracy: [0.82, 0.85] });
    expect(sent.map((s) => [s.content.data['text/plain'], s.update])).toEqual([
      ['Figure : Précision du modèle', false],
      ['Figure : Erreur', false],
      ['Figure : Précision du modèle', true],
      ['Figure : Erreur', true],
    ]);
  });
});

describe('outside a notebook', () => {
  it('finds no kernel, prints one line and does not throw', async () => {
    expect(tslabDisplayWriter()).toBeUndefined();
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await show(figure);
      await show(Buffer.from('not even a PNG'));
      await liveFigure().update(figure);
      expect(log).toHaveBeenCalledTimes(3);
      expect(log.mock.calls[0][0]).toMatch(/« Erreur ».*notebook tslab/);
    } finally {
      log.mockRestore();
    }
  });

  it('writes the PNG to a file when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plot-'));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await show(figure, { file: join(dir, 'erreur.png'), scale: 1 });
      expect((await sharp(join(dir, 'erreur.png')).metadata()).width).toBe(700);
      const curves = liveTrainingCurves({ file: join(dir, 'courbes.png'), scale: 1 });
      await curves.addEpoch({ loss: 1, accuracy: 0.5 });
      expect(existsSync(join(dir, 'courbes-precision.png')) && existsSync(join(dir, 'courbes-erreur.png'))).toBe(true);
    } finally {
      log.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds the same bundle for other front ends', async () => {
    const bundle = await mimeBundle(figure, { scale: 1 });
    expect(bundle.metadata).toEqual({ 'image/png': { width: 700, height: 400 } });
  });
});

describe('order', () => {
  it('keeps the call order of displays even when not awaited', async () => {
    const sent = fakeKernel();
    const big = lineFigure({ title: 'Lente', series: Array.from({ length: 6 }, (_, k) => ({ name: `s${k}`, y: Array.from({ length: 30 }, (_, i) => Math.sin(i + k)) })) });
    const small = await imageGridPng([{ pixels: new Uint8Array(784) }], { deviceScale: 1 });
    await Promise.all([show(big), show(small)]);
    expect(sent.map((s) => s.content.data['text/plain'])).toEqual(['Figure : Lente', 'Image (104 x 104)']);
  });
});

import sharp from 'sharp';
import {
  PALETTE,
  barFigure,
  confusionMatrixFigure,
  cssSize,
  fontsAvailable,
  heatmapFigure,
  imageGridLayout,
  imageGridPng,
  lineFigure,
  probabilitiesFigure,
  renderPng,
  renderSvg,
  textWidth,
  trainingCurvesFigures,
} from '../../../lib/plot';
import { FASHION_CLASSES } from '../../../lib/data/classes';

type Rgb = [number, number, number];

async function rgb(png: Buffer) {
  const { data, info } = await sharp(png).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

function hex(color: string): Rgb {
  return [1, 3, 5].map((k) => parseInt(color.slice(k, k + 2), 16)) as Rgb;
}

/** Pixels within `tolerance` of a colour, optionally inside a rectangle. */
function count(image: { data: Buffer; width: number; channels: number }, color: Rgb, tolerance = 24, box?: { x0: number; y0: number; x1: number; y1: number }): number {
  let found = 0;
  const pixels = image.data.length / image.channels;
  for (let p = 0; p < pixels; p++) {
    const x = p % image.width;
    const y = Math.floor(p / image.width);
    if (box && (x < box.x0 || x >= box.x1 || y < box.y0 || y >= box.y1)) continue;
    const i = p * image.channels;
    if (Math.abs(image.data[i] - color[0]) <= tolerance && Math.abs(image.data[i + 1] - color[1]) <= tolerance && Math.abs(image.data[i + 2] - color[2]) <= tolerance) found++;
  }
  return found;
}

/** A small XML well-formedness check: balanced tags, quoted attributes, escaped text. */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < xml.length) {
    const next = xml.indexOf('<', i);
    const textPart = xml.slice(i, next === -1 ? xml.length : next);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(textPart) || textPart.includes('>')) return false;
    if (next === -1) break;
    tag.lastIndex = next;
    const match = tag.exec(xml);
    if (!match) return false;
    const [whole, closing, name, , selfClosing] = match;
    if (closing) {
      if (stack.pop() !== name) return false;
    } else {
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name);
    }
    i = next + whole.length;
  }
  return stack.length === 0 && roots === 1;
}

const history = { loss: [0.62, 0.41, 0.36, 0.33], accuracy: [0.78, 0.85, 0.87, 0.88], val_loss: [0.45, 0.38, 0.35, 0.34], val_accuracy: [0.84, 0.86, 0.87, 0.875] };
const confusion = FASHION_CLASSES.map((_, r) => FASHION_CLASSES.map((_, c) => (r === c ? 900 : (r * 7 + c * 3) % 40)));

describe('SVG', () => {
  it('is well-formed for every kind of figure, and escapes text', () => {
    const figures = [
      ...trainingCurvesFigures(history),
      confusionMatrixFigure(confusion, FASHION_CLASSES),
      probabilitiesFigure([0.1, 0.9], ['a < b', 'c & "d"']),
      barFigure({ title: 'x', categories: ['a', 'b'], series: [{ name: 's', values: [1, 2] }, { name: 't', values: [2, 1] }], valueLabels: true }),
    ];
    for (const figure of figures) expect(wellFormed(renderSvg(figure))).toBe(true);
    expect(wellFormed('<svg><text>a & b</text></svg>')).toBe(false);
    expect(renderSvg(lineFigure({ title: 'a < b & "c"', series: [{ name: 's', y: [1] }] }))).toContain('a &lt; b &amp; &quot;c&quot;');
  });

  it('survives degenerate data: no points, NaN, one point, negative bars, a 1x1 heatmap', () => {
    const figures = [
      lineFigure({ series: [] }),
      lineFigure({ title: 'Valeurs manquantes', series: [{ name: 'a', y: [NaN, 1, Infinity, 2] }] }),
      lineFigure({ series: [{ name: 'a', y: [5] }] }),
      barFigure({ categories: ['a', 'b'], series: [{ name: 'x', values: [-3, 2] }], valueLabels: true }),
      heatmapFigure({ z: [[7]], x: ['a'], y: ['b'], annotate: true }),
    ];
    for (const figure of figures) {
      const svg = renderSvg(figure);
      expect(wellFormed(svg)).toBe(true);
      expect(svg).not.toMatch(/NaN|Infinity/);
    }
  });

  it('keeps a long title inside the picture', () => {
    const title = 'Un titre vraiment très long, bien plus large que la figure elle-même, avec des mots français accentués';
    const svg = renderSvg(lineFigure({ title, series: [{ name: 's', y: [1, 2] }], width: 500 }));
    const lines = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" font-size="([\d.]+)" font-weight="bold">([^<]*)<\/text>/g)];
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const [, x, size, text] of lines) {
      const half = textWidth(text.replace(/&#39;/g, "'"), Number(size), true) / 2;
      expect(Number(x) - half).toBeGreaterThanOrEqual(0);
      expect(Number(x) + half).toBeLessThanOrEqual(500);
    }
  });
});

describe('PNG of a figure', () => {
  it('has the requested size, 2x by default, and records its CSS size', async () => {
    const figure = trainingCurvesFigures(history)[0];
    const small = await renderPng(figure, { scale: 1 });
    expect((await sharp(small).metadata()).format).toBe('png');
    expect(await cssSize(small)).toEqual({ width: 700, height: 400, scale: 1 });
    const crisp = await renderPng(figure);
    const meta = await sharp(crisp).metadata();
    expect([meta.width, meta.height]).toEqual([1400, 800]);
    expect(await cssSize(crisp)).toEqual({ width: 700, height: 400, scale: 2 });
    expect((await sharp(await renderPng(figure, { width: 300, height: 200, scale: 1 })).metadata()).width).toBe(300);
  });

  it('draws both curves in their colours, and text', async () => {
    expect(await fontsAvailable()).toBe(true);
    const image = await rgb(await renderPng(trainingCurvesFigures(history)[0], { scale: 1 }));
    expect(count(image, hex(PALETTE[0]))).toBeGreaterThan(300);
    expect(count(image, hex(PALETTE[1]))).toBeGreaterThan(300);
    // The title's letters, dark, in the top band.
    expect(count(image, [0x22, 0x22, 0x22], 40, { x0: 0, y0: 0, x1: 700, y1: 40 })).toBeGreaterThan(150);
  });

  it('draws grouped bars in both series colours', async () => {
    const figure = barFigure({
      title: 'Répartition des catégories',
      categories: FASHION_CLASSES,
      series: [
        { name: 'Apprentissage', values: FASHION_CLASSES.map(() => 6000) },
        { name: 'Test', values: FASHION_CLASSES.map(() => 1000) },
      ],
    });
    const image = await rgb(await renderPng(figure, { scale: 1 }));
    expect(count(image, hex(PALETTE[0]))).toBeGreaterThan(6 * count(image, hex(PALETTE[1])) * 0.8);
    expect(count(image, hex(PALETTE[1]))).toBeGreaterThan(1000);
  });

  it('writes the annotations of a 10-class confusion matrix, with a dark diagonal', async () => {
    const annotated = confusionMatrixFigure(confusion, FASHION_CLASSES);
    const image = await rgb(await renderPng(annotated, { scale: 1 }));
    expect(count(image, [0x08, 0x30, 0x6b], 12)).toBeGreaterThan(10 * 30 * 30);
    const bare = heatmapFigure({ z: confusion, x: FASHION_CLASSES, y: FASHION_CLASSES, squareCells: true, title: 'Matrice de confusion', xTitle: 'Classe prédite', yTitle: 'Vraie classe' });
    const plain = await rgb(await renderPng(bare, { scale: 1 }));
    expect([plain.width, plain.height]).toEqual([image.width, image.height]);
    let differing = 0;
    for (let i = 0; i < image.data.length; i++) if (Math.abs(image.data[i] - plain.data[i]) > 60) differing++;
    // 100 numbers written in the cells.
    expect(differing).toBeGreaterThan(100 * 20);
    const svg = renderSvg(annotated);
    expect(svg.match(/fill="white">900<\/text>/g)).toHaveLength(10);
    for (const name of FASHION_CLASSES) expect(svg).toContain(`>${name.replace('/', '/')}</text>`);
  });
});

describe('image grid', () => {
  const checker = Uint8Array.from({ length: 784 }, (_, i) => ((Math.floor(i / 28) + (i % 28)) % 2 ? 255 : 0));
  const white = new Uint8Array(784).fill(255);

  it('is columns x rows of nearest-neighbour tiles with captions under them', async () => {
    const images = [{ pixels: checker, caption: 'Un sac' }, { pixels: white, caption: 'Un pull' }, { pixels: checker }];
    const png = await imageGridPng(images, { columns: 2, scale: 4, deviceScale: 1 });
    const layout = imageGridLayout(images, { columns: 2, scale: 4 });
    expect(layout).toMatchObject({ columns: 2, rows: 2, tileWidth: 112, tileHeight: 112, cellWidth: 112, gap: 10 });
    const captionHeight = Math.ceil(4 + 12 * 1.2);
    expect(layout.captionHeight).toBe(captionHeight);
    // A grey PNG: one channel (sharp would decode it to RGB unless asked for one channel).
    expect((await sharp(png).metadata()).channels).toBe(1);
    const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([2 * 112 + 3 * 10, 2 * (112 + captionHeight) + 3 * 10]);
    // First tile: only pure black and white (no interpolation), in 4x4 squares.
    const tile = (x: number, y: number) => data[(10 + y) * info.width + 10 + x];
    const values = new Set<number>();
    for (let y = 0; y < 112; y++) for (let x = 0; x < 112; x++) values.add(tile(x, y));
    expect([...values].sort((a, b) => a - b)).toEqual([0, 255]);
    expect([tile(0, 0), tile(3, 3), tile(4, 0), tile(4, 4)]).toEqual([0, 0, 255, 0]);
    // Caption text under the first tile.
    let dark = 0;
    for (let y = 10 + 112; y < 10 + 112 + captionHeight; y++) for (let x = 10; x < 122; x++) if (data[y * info.width + x] < 128) dark++;
    expect(dark).toBeGreaterThan(40);
  });

  it('inverts on request, doubles its pixels for sharpness by default, takes any grey image size', async () => {
    const inverted = await imageGridPng([{ pixels: white }], { scale: 2, deviceScale: 1, invert: true });
    const { data, info } = await sharp(inverted).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect(data[(10 + 20) * info.width + 10 + 20]).toBe(0);
    const crisp = await imageGridPng([{ pixels: checker, caption: 'Des bottes de cheville' }]);
    const layout = imageGridLayout([{ pixels: checker, caption: 'Des bottes de cheville' }]);
    expect(layout.captions[0].length).toBe(2);
    expect(await cssSize(crisp)).toEqual({ width: layout.width, height: layout.height, scale: 2 });
    const odd = await imageGridPng([{ pixels: new Uint8Array(10 * 5).fill(128), width: 10, height: 5 }], { scale: 3, deviceScale: 1 });
    expect((await sharp(odd).metadata()).width).toBe(30 + 20);
    await expect(imageGridPng([{ pixels: new Uint8Array(10) }])).rejects.toThrow(/10 pixels/);
    await expect(imageGridPng([])).rejects.toThrow(/aucune image/);
  });
});

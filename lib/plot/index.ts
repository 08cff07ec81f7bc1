/**
 * Plots that render everywhere: in JupyterLab (interactive, through the plotly mime type), and as
 * a static PNG where no JavaScript runs (nbconvert HTML, GitHub). Images of garments are PNGs.
 */
import sharp from 'sharp';
import type { Figure } from './figures';
import { renderSvg } from './svg';

export * from './figures';
export { renderSvg, niceTicks } from './svg';

/** Renders a figure to PNG (via our SVG renderer and sharp), at `scale` x its size for crisp text. */
export async function renderPng(figure: Figure, options: { width?: number; height?: number; scale?: number } = {}): Promise<Buffer> {
  const svg = renderSvg(figure, options);
  return sharp(Buffer.from(svg), { density: 72 * (options.scale ?? 1.5) }).png().toBuffer();
}

/** A grey image of any size, one byte per pixel. */
export interface GridImage {
  pixels: Uint8Array;
  width?: number;
  height?: number;
  caption?: string;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A grid of grey images (28x28 by default) enlarged with visible pixels, each with its caption underneath. */
export async function imageGridPng(images: GridImage[], options: { columns?: number; scale?: number; invert?: boolean } = {}): Promise<Buffer> {
  if (images.length === 0) throw new Error('imageGridPng: no image to draw.');
  const scale = options.scale ?? 3;
  const columns = Math.min(options.columns ?? 10, images.length);
  const rows = Math.ceil(images.length / columns);
  const tileW = (images[0].width ?? 28) * scale;
  const tileH = (images[0].height ?? 28) * scale;
  const captions = images.some((image) => image.caption);
  const fontSize = Math.max(10, Math.min(14, Math.round(tileW / 7)));
  const cellW = Math.max(tileW, captions ? Math.max(...images.map((i) => (i.caption ?? '').length)) * fontSize * 0.56 : 0) + 8;
  const cellH = tileH + (captions ? fontSize + 10 : 0) + 8;
  const tiles = await Promise.all(
    images.map(async (image) => {
      const width = image.width ?? 28;
      const height = image.height ?? 28;
      const pixels = options.invert ? image.pixels.map((v) => 255 - v) : image.pixels;
      const png = await sharp(Buffer.from(pixels), { raw: { width, height, channels: 1 } })
        .resize(width * scale, height * scale, { kernel: 'nearest' })
        .png()
        .toBuffer();
      return png.toString('base64');
    }),
  );
  const parts = images.map((image, i) => {
    const x = (i % columns) * cellW + (cellW - tileW) / 2;
    const y = Math.floor(i / columns) * cellH + 4;
    const caption = image.caption
      ? `<text x="${(i % columns) * cellW + cellW / 2}" y="${y + tileH + fontSize + 3}" font-size="${fontSize}" text-anchor="middle">${escapeXml(image.caption)}</text>`
      : '';
    return `<image x="${x}" y="${y}" width="${tileW}" height="${tileH}" href="data:image/png;base64,${tiles[i]}" style="image-rendering:pixelated"/>${caption}`;
  });
  const width = Math.ceil(columns * cellW);
  const height = Math.ceil(rows * cellH);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif" fill="#222"><rect width="${width}" height="${height}" fill="white"/>${parts.join('')}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

type DisplayWriter = (content: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update?: boolean) => void;

/** tslab's display hook while a cell runs (undefined outside a tslab kernel). */
function tslabDisplay(): DisplayWriter | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require('tslab/dist/jupyter') as { lastWriteDisplayData?: DisplayWriter | null }).lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

/** The mime bundle of a figure or PNG: plotly JSON (interactive in JupyterLab), a PNG for everything else, a text line. */
export async function mimeBundle(item: Figure | Buffer): Promise<Record<string, unknown>> {
  if (Buffer.isBuffer(item)) return { 'image/png': item.toString('base64'), 'text/plain': '<image PNG>' };
  return {
    'application/vnd.plotly.v1+json': { data: item.data, layout: item.layout },
    'image/png': (await renderPng(item, { scale: 1 })).toString('base64'),
    'text/plain': `<figure : ${item.layout.title?.text ?? 'graphique'}>`,
  };
}

let displayCounter = 0;

/** Shows a figure or a PNG in the notebook (one output with every format); outside tslab, a one-line note. */
export async function show(item: Figure | Buffer, displayId?: string, update = false): Promise<void> {
  const write = tslabDisplay();
  if (!write) {
    const what = Buffer.isBuffer(item) ? 'une image PNG' : `la figure « ${item.layout.title?.text ?? ''} »`;
    console.log(`(affichage de ${what} : disponible dans un notebook tslab)`);
    return;
  }
  write({ data: await mimeBundle(item), metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
}

/** A display that can be redrawn in place (e.g. a curve updated after each epoch). */
export function liveFigure(): { update: (item: Figure | Buffer) => Promise<void> } {
  const id = `analyse-image-${process.pid}-${++displayCounter}`;
  let shown = false;
  return {
    update: async (item) => {
      await show(item, id, shown);
      shown = true;
    },
  };
}

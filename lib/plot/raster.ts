/** PNG pictures: figures rasterised from our SVG by sharp (librsvg), and grids of small grey images. */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import type { Figure } from './figures';
import { renderSvg } from './svg';
import { escapeXml, FONT_FAMILY, textWidth, wrapText } from './text';

/** Device pixels per CSS pixel of our PNGs: crisp on high-density screens, still small files. */
export const DEFAULT_SCALE = 2;

// PNG's pHYs chunk is in pixels per metre; 72 dpi is "one pixel per CSS pixel".
const CSS_DPI = 72;

/**
 * Records the device scale in the PNG's pHYs chunk (72 dpi per CSS pixel), so that `show` can give
 * the picture its CSS size. Written by hand: sharp's withMetadata would also embed a 0.5 kB sRGB
 * profile and turn grey pictures into RGB.
 */
export function withDensity(png: Buffer, scale: number): Buffer {
  const ihdrEnd = 8 + 8 + 13 + 4;
  const chunks: Buffer[] = [png.subarray(0, ihdrEnd)];
  const body = Buffer.alloc(9);
  const perMetre = Math.round((CSS_DPI * scale) / 0.0254);
  body.writeUInt32BE(perMetre, 0);
  body.writeUInt32BE(perMetre, 4);
  body.writeUInt8(1, 8);
  const typeAndBody = Buffer.concat([Buffer.from('pHYs', 'latin1'), body]);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(9, 0);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndBody), 0);
  chunks.push(header, typeAndBody, crc);
  for (let offset = ihdrEnd; offset < png.length; ) {
    const length = png.readUInt32BE(offset);
    const end = offset + 12 + length;
    if (png.toString('latin1', offset + 4, offset + 8) !== 'pHYs') chunks.push(png.subarray(offset, end));
    offset = end;
  }
  return Buffer.concat(chunks);
}

/** Encodes a picture: a 256-colour palette makes plots about 3 times smaller with no visible change; grey pictures stay one exact channel. */
async function encodePng(image: sharp.Sharp, scale: number, kind: 'palette' | 'grey'): Promise<Buffer> {
  const encoded =
    kind === 'palette'
      ? image.png({ palette: true, colours: 256, effort: 2, compressionLevel: 9, dither: 0 })
      : image.flatten({ background: '#ffffff' }).toColourspace('b-w').png({ compressionLevel: 9, adaptiveFiltering: false });
  return withDensity(await encoded.toBuffer(), scale);
}

let fontCheck: Promise<boolean> | undefined;

/** Whether librsvg finds a font to write text with (a machine without any font draws plots without a single letter). */
export function fontsAvailable(): Promise<boolean> {
  fontCheck ??= (async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="80" height="30"><rect width="80" height="30" fill="white"/><text x="4" y="24" font-size="22" font-family="${FONT_FAMILY}" fill="black">Hé</text></svg>`;
    try {
      const { data } = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer({ resolveWithObject: true });
      return data.some((value) => value < 128);
    } catch {
      return false;
    }
  })();
  return fontCheck;
}

let warned = false;

async function warnIfNoFonts(): Promise<void> {
  if (warned || (await fontsAvailable())) return;
  warned = true;
  console.warn("Attention : aucune police de caractères trouvée, les images des graphiques n'auront pas de texte (titres, axes). Sous Debian/Ubuntu : sudo apt-get install fonts-dejavu-core");
}

/** Renders a figure to PNG at `scale` device pixels per CSS pixel (size from the figure unless given). */
export async function renderPng(figure: Figure, options: { width?: number; height?: number; scale?: number } = {}): Promise<Buffer> {
  await warnIfNoFonts();
  const scale = options.scale ?? DEFAULT_SCALE;
  const svg = renderSvg(figure, options);
  return encodePng(sharp(Buffer.from(svg), { density: CSS_DPI * scale }), scale, 'palette');
}

/** A grey image, one byte per pixel (0 black, 255 white), row by row; 28x28 unless told. */
export interface GreyImage {
  pixels: Uint8Array | Uint8ClampedArray;
  width?: number;
  height?: number;
  caption?: string;
}

/** Options of an image grid. */
export interface ImageGridOptions {
  /** Images per row (default: all in one row, at most 10). */
  columns?: number;
  /** Each image pixel becomes a `scale` x `scale` square (default 3: 28 px -> 84 px). */
  scale?: number;
  /** Dark garment on white, as the course shows its own photos (the data set is light on black). */
  invert?: boolean;
  /** Device pixels per CSS pixel of the PNG (default 2). */
  deviceScale?: number;
  /** Caption font size in CSS pixels (default 12). */
  fontSize?: number;
}

/** Geometry of an image grid in CSS pixels: exposed so that callers and tests know where each tile is. */
export interface ImageGridLayout {
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  cellWidth: number;
  captionHeight: number;
  gap: number;
  width: number;
  height: number;
  captions: string[][];
}

const GRID_GAP = 10;

/** Where the tiles and captions of a grid go (CSS pixels): captions wrap to the tile width, cells grow only for a single long word. */
export function imageGridLayout(images: readonly GreyImage[], options: ImageGridOptions = {}): ImageGridLayout {
  const scale = options.scale ?? 3;
  const fontSize = options.fontSize ?? 12;
  const columns = Math.max(1, Math.min(options.columns ?? 10, images.length));
  const rows = Math.ceil(images.length / columns);
  const tileWidth = Math.max(...images.map((image) => image.width ?? 28)) * scale;
  const tileHeight = Math.max(...images.map((image) => image.height ?? 28)) * scale;
  const longestWord = Math.max(0, ...images.flatMap((image) => (image.caption ?? '').split(/ +/).map((word) => textWidth(word, fontSize))));
  const cellWidth = Math.ceil(Math.max(tileWidth, longestWord + 2));
  const captions = images.map((image) => (image.caption ? wrapText(image.caption, fontSize, cellWidth) : []));
  const lines = Math.max(0, ...captions.map((caption) => caption.length));
  const captionHeight = lines ? Math.ceil(4 + lines * fontSize * 1.2) : 0;
  return {
    columns,
    rows,
    tileWidth,
    tileHeight,
    cellWidth,
    captionHeight,
    gap: GRID_GAP,
    width: columns * cellWidth + (columns + 1) * GRID_GAP,
    height: rows * (tileHeight + captionHeight) + (rows + 1) * GRID_GAP,
    captions,
  };
}

/** A grid of grey images (28x28 by default) enlarged with square pixels (nearest neighbour), each with its caption underneath. */
export async function imageGridPng(images: readonly GreyImage[], options: ImageGridOptions = {}): Promise<Buffer> {
  if (images.length === 0) throw new Error('imageGridPng : aucune image à afficher.');
  images.forEach((image, i) => {
    const expected = (image.width ?? 28) * (image.height ?? 28);
    if (image.pixels.length !== expected) {
      throw new Error(`imageGridPng : l'image ${i} a ${image.pixels.length} pixels, ${image.width ?? 28} x ${image.height ?? 28} = ${expected} attendus.`);
    }
  });
  await warnIfNoFonts();
  const scale = options.scale ?? 3;
  const ds = options.deviceScale ?? DEFAULT_SCALE;
  const fontSize = options.fontSize ?? 12;
  const grid = imageGridLayout(images, options);
  const px = (css: number) => Math.round(css * ds);

  const tiles = await Promise.all(
    images.map(async (image, i) => {
      const width = image.width ?? 28;
      const height = image.height ?? 28;
      const pixels = options.invert ? Uint8Array.from(image.pixels, (v) => 255 - v) : Uint8Array.from(image.pixels);
      const column = i % grid.columns;
      const row = Math.floor(i / grid.columns);
      const cellX = grid.gap + column * (grid.cellWidth + grid.gap);
      const cellY = grid.gap + row * (grid.tileHeight + grid.captionHeight + grid.gap);
      const left = px(cellX + (grid.cellWidth - width * scale) / 2);
      const top = px(cellY + (grid.tileHeight - height * scale) / 2);
      // Nearest neighbour: every pixel the network sees stays a visible square.
      const input = await sharp(Buffer.from(pixels), { raw: { width, height, channels: 1 } })
        .resize(px(width * scale), px(height * scale), { kernel: 'nearest' })
        .toColourspace('srgb')
        .png()
        .toBuffer();
      return { input, left, top };
    }),
  );

  const texts = grid.captions.flatMap((lines, i) => {
    const column = i % grid.columns;
    const row = Math.floor(i / grid.columns);
    const cx = grid.gap + column * (grid.cellWidth + grid.gap) + grid.cellWidth / 2;
    const y = grid.gap + row * (grid.tileHeight + grid.captionHeight + grid.gap) + grid.tileHeight + 4 + fontSize * 0.95;
    return lines.map((line, k) => `<text x="${cx}" y="${(y + k * fontSize * 1.2).toFixed(2)}" text-anchor="middle">${escapeXml(line)}</text>`);
  });
  // A light frame keeps inverted (white-background) tiles apart from the white page.
  const frames = options.invert
    ? images.map((_, i) => {
        const x = grid.gap + (i % grid.columns) * (grid.cellWidth + grid.gap) + (grid.cellWidth - grid.tileWidth) / 2;
        const y = grid.gap + Math.floor(i / grid.columns) * (grid.tileHeight + grid.captionHeight + grid.gap);
        return `<rect x="${x - 0.5}" y="${y - 0.5}" width="${grid.tileWidth + 1}" height="${grid.tileHeight + 1}" fill="none" stroke="#c8c8c8"/>`;
      })
    : [];
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${grid.width}" height="${grid.height}" font-family="${FONT_FAMILY}" font-size="${fontSize}" fill="#222222">${frames.join('')}${texts.join('')}</svg>`;
  const overlayPng = await sharp(Buffer.from(overlay), { density: CSS_DPI * ds })
    .resize(px(grid.width), px(grid.height), { fit: 'fill' })
    .png()
    .toBuffer();

  const canvas = sharp({ create: { width: px(grid.width), height: px(grid.height), channels: 3, background: '#ffffff' } }).composite([...tiles, { input: overlayPng, left: 0, top: 0 }]);
  // Everything here is grey: a one-channel PNG keeps the 256 levels exactly, at a third of the size.
  return encodePng(sharp(await canvas.png().toBuffer()), ds, 'grey');
}

/** CSS size of a PNG: its pixel size divided by the device scale recorded in its density (72 dpi = 1). */
export async function cssSize(png: Buffer): Promise<{ width: number; height: number; scale: number }> {
  const { width = 0, height = 0, density } = await sharp(png).metadata();
  const scale = density && density > CSS_DPI * 1.05 ? Math.round((density / CSS_DPI) * 100) / 100 : 1;
  return { width: Math.round(width / scale), height: Math.round(height / scale), scale };
}

/**
 * The photo preprocessing of the dog-breed project (resize to a square, grey levels, autocontrast,
 * histogram equalisation, Gaussian blur) as small composable steps, with every intermediate image
 * kept so that a notebook can show what each step does. Equalisation gives exactly Pillow's
 * ImageOps values, autocontrast too but for Pillow's floating-point slips, resizing is Pillow's
 * Lanczos; the blur is a true Gaussian (Pillow approximates one).
 */
import sharp from 'sharp';
import { DEFAULT_SCALE, fontsAvailable, withDensity } from '../plot/raster';
import { escapeXml, FONT_FAMILY, textWidth, wrapText } from '../plot/text';
import type { RawImage } from './decode';
import { toGrayscale, type GrayImage } from './grayscale';
import { resizeLanczos } from './lanczos';

/** One step of a preprocessing pipeline: a French label for students and a pure function on images. */
export interface Step {
  /** Stable identifier, the same in every language: 'resize', 'grayscale', 'autocontrast'... */
  readonly name: string;
  /** What the step does, in French: the column title of the grids. */
  readonly label: string;
  /** Applies the step to an image and returns a new one; the input is never modified. */
  apply(image: RawImage): RawImage;
}

/** An image at one point of a pipeline, with the French label of the step that produced it. */
export interface Stage {
  /** French name of the step (« Niveaux de gris »), or « Image d'origine » for the input. */
  label: string;
  /** The image after that step. */
  image: RawImage;
}

/** What a pipeline returns: the final image and every stage, the original photo first. */
export interface PipelineResult {
  /** The output of the last step (the input itself when the pipeline has no step). */
  image: RawImage;
  /** The input (« Image d'origine ») followed by the output of each step, in order. */
  stages: Stage[];
}

/** Steps run one after the other; a pipeline is itself a step, so pipelines compose. */
export interface Pipeline extends Step {
  /** The steps, nested pipelines flattened, so that each one gets its own stage. */
  readonly steps: readonly Step[];
  /** Applies every step and keeps each intermediate image. */
  run(image: RawImage): PipelineResult;
}

/** Label of the first stage of a pipeline's result. */
export const ORIGINAL_LABEL = "Image d'origine";

/** Numbers as French readers write them (1,5 rather than 1.5). */
function frenchNumber(value: number): string {
  return value.toLocaleString('fr-FR', { maximumFractionDigits: 2 });
}

/** Catches a wrong image early, with a French message naming the step, rather than garbage pixels later. */
function checkImage(image: RawImage, step: string): void {
  if (!image || typeof image !== 'object' || !(image.data instanceof Uint8Array)) {
    throw new TypeError(`${step} : l'image doit être un objet { width, height, channels, data: Uint8Array } (par exemple le résultat de decodeImage).`);
  }
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${step} : dimensions d'image invalides (${width} x ${height}).`);
  }
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw new RangeError(`${step} : ${channels} canaux non pris en charge (1, 2, 3 ou 4 attendus).`);
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(`${step} : ${data.length} octets pour une image ${width} x ${height} à ${channels} canal(aux), ${width * height * channels} attendus.`);
  }
}

/** Whether the last channel is transparency (grey + alpha, RGBA), which the tone steps must leave alone. */
function hasAlpha(image: RawImage): boolean {
  return image.channels === 2 || image.channels === 4;
}

/** One plane of an interleaved image, as the grey image resizeLanczos works on. */
function plane(image: RawImage, channel: number): GrayImage {
  const pixels = image.width * image.height;
  const out = new Uint8Array(pixels);
  for (let i = 0, p = channel; i < pixels; i++, p += image.channels) out[i] = image.data[p];
  return { width: image.width, height: image.height, data: out };
}

/** Interleaves planes of the same size back into one image. */
function interleave(planes: readonly GrayImage[]): RawImage {
  const { width, height } = planes[0];
  const channels = planes.length as RawImage['channels'];
  const pixels = width * height;
  const data = new Uint8Array(pixels * channels);
  planes.forEach((p, c) => {
    for (let i = 0, q = c; i < pixels; i++, q += channels) data[q] = p.data[i];
  });
  return { width, height, channels, data };
}

/**
 * Colour multiplied by alpha, as Pillow's RGBa mode. Resampling or blurring premultiplied values
 * keeps the colour hidden under transparent pixels (often black) from bleeding into the edges.
 */
function premultiply(image: RawImage): RawImage {
  const data = image.data.slice();
  const n = image.channels;
  for (let p = 0; p < data.length; p += n) {
    const alpha = data[p + n - 1];
    if (alpha === 255) continue;
    for (let c = 0; c < n - 1; c++) {
      const t = data[p + c] * alpha + 128;
      data[p + c] = ((t >> 8) + t) >> 8;
    }
  }
  return { ...image, data };
}

/** The inverse of premultiply, with Pillow's truncating division (rgbA2rgba). */
function unpremultiply(image: RawImage): RawImage {
  const data = image.data;
  const n = image.channels;
  for (let p = 0; p < data.length; p += n) {
    const alpha = data[p + n - 1];
    if (alpha === 255 || alpha === 0) continue;
    for (let c = 0; c < n - 1; c++) data[p + c] = Math.min(255, Math.floor((255 * data[p + c]) / alpha));
  }
  return image;
}

/** Runs a per-plane operation on every channel, premultiplied when there is transparency. */
function perPlane(image: RawImage, operation: (plane: GrayImage) => GrayImage): RawImage {
  const alpha = hasAlpha(image);
  const source = alpha ? premultiply(image) : image;
  const planes = Array.from({ length: image.channels }, (_, c) => operation(plane(source, c)));
  const out = interleave(planes);
  return alpha ? unpremultiply(out) : out;
}

/**
 * Resizes to `side` x `side` pixels with Lanczos (Pillow's LANCZOS, exact on grey and RGB). The
 * aspect ratio is NOT kept: the photo is stretched to a square, as Keras' `load_img(target_size=…)`
 * and the dog-breed project do, so nothing is cropped away but round things may become oval.
 * 224 is the input size of VGG/ResNet/MobileNet, 299 that of Inception/Xception.
 */
export function resize(side: number): Step {
  if (!Number.isInteger(side) || side < 1) {
    throw new RangeError(`resize : la taille doit être un entier positif de pixels (reçu ${String(side)}), par exemple resize(224).`);
  }
  return {
    name: 'resize',
    label: `Redimensionnement ${side} x ${side}`,
    apply(image) {
      checkImage(image, 'resize');
      return perPlane(image, (p) => resizeLanczos(p, side, side));
    },
  };
}

/**
 * Grey levels as Pillow's `convert('L')` (ITU-R 601-2 luma); transparent pixels are first laid over
 * white, so a cut-out photo gets a white background instead of a black one. The result has 1 channel.
 */
export function grayscale(): Step {
  return {
    name: 'grayscale',
    label: 'Niveaux de gris',
    apply(image) {
      checkImage(image, 'grayscale');
      const grey = toGrayscale(image);
      return { width: grey.width, height: grey.height, channels: 1, data: grey.data };
    },
  };
}

/**
 * Histogram of each colour channel (256 counts per channel), as Pillow's `histogram(mask)` with the
 * alpha channel as mask: fully transparent pixels are not part of the photo, so they are not counted.
 */
export function histogram(image: RawImage): number[][] {
  checkImage(image, 'histogram');
  const n = image.channels;
  const colours = hasAlpha(image) ? n - 1 : n;
  const counts = Array.from({ length: colours }, () => new Array<number>(256).fill(0));
  const data = image.data;
  for (let p = 0; p < data.length; p += n) {
    if (colours < n && data[p + n - 1] === 0) continue;
    for (let c = 0; c < colours; c++) counts[c][data[p + c]]++;
  }
  return counts;
}

/** Applies one 256-entry table per colour channel; alpha is copied as is. */
function applyLuts(image: RawImage, luts: readonly (readonly number[])[]): RawImage {
  const n = image.channels;
  const data = image.data.slice();
  for (let p = 0; p < data.length; p += n) {
    for (let c = 0; c < luts.length; c++) data[p + c] = luts[c][data[p + c]];
  }
  return { width: image.width, height: image.height, channels: image.channels, data };
}

const IDENTITY: readonly number[] = Array.from({ length: 256 }, (_, i) => i);

/** Pillow's autocontrast table for one channel's histogram (ImageOps.autocontrast's steps, exact arithmetic). */
function autocontrastLut(counts: readonly number[], low: number, high: number): readonly number[] {
  const h = counts.slice();
  const total = h.reduce((sum, count) => sum + count, 0);
  // Python's int(n * cutoff // 100); Pillow removes the cut pixels from each end, lows first.
  let cut = Math.floor((total * low) / 100);
  for (let lo = 0; lo < 256 && cut > 0; lo++) {
    const removed = Math.min(cut, h[lo]);
    h[lo] -= removed;
    cut -= removed;
  }
  cut = Math.floor((total * high) / 100);
  for (let hi = 255; hi >= 0 && cut > 0; hi--) {
    const removed = Math.min(cut, h[hi]);
    h[hi] -= removed;
    cut -= removed;
  }
  let lo = 0;
  while (lo < 255 && h[lo] === 0) lo++;
  let hi = 255;
  while (hi > 0 && h[hi] === 0) hi--;
  if (hi <= lo) return IDENTITY;
  // Pillow truncates the same line computed in floating point, where an exact integer such as
  // 255 may come out as 254.99999: in integers the brightest level always reaches 255.
  return IDENTITY.map((v) => (v <= lo ? 0 : v >= hi ? 255 : Math.floor(((v - lo) * 255) / (hi - lo))));
}

/** Options of autocontrast. */
export interface AutocontrastOptions {
  /** Percent of pixels ignored at the dark and the bright end (one number for both, or [dark, bright]); default 0. */
  cutoff?: number | readonly [number, number];
}

/**
 * Pillow's `ImageOps.autocontrast(image, cutoff)`, channel by channel: the darkest level becomes 0
 * and the brightest 255, after ignoring `cutoff` % of the pixels at each end (a few specular
 * highlights or dead pixels would otherwise prevent any stretch). Same values as Pillow except
 * where its floating-point rounding loses a level (its brightest pixel can end at 254). Alpha is
 * kept and masks the histogram (Pillow itself refuses transparent images).
 */
export function autocontrast(options: AutocontrastOptions = {}): Step {
  const cutoff = options.cutoff ?? 0;
  const [low, high] = typeof cutoff === 'number' ? [cutoff, cutoff] : [cutoff[0], cutoff[1]];
  for (const value of [low, high]) {
    // At 50 % from both ends nothing would be left to measure the range on.
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 50) {
      throw new RangeError(`autocontrast : cutoff est un pourcentage de pixels ignorés à chaque extrémité, entre 0 et 50 exclu (reçu ${String(value)}).`);
    }
  }
  const shown = low === high ? `${frenchNumber(low)} %` : `${frenchNumber(low)} % / ${frenchNumber(high)} %`;
  return {
    name: 'autocontrast',
    label: low === 0 && high === 0 ? 'Contraste automatique' : `Contraste automatique (écrêtage ${shown})`,
    apply(image) {
      checkImage(image, 'autocontrast');
      return applyLuts(image, histogram(image).map((counts) => autocontrastLut(counts, low, high)));
    },
  };
}

/** Pillow's equalisation table for one channel's histogram (ImageOps.equalize, same integer steps). */
function equalizeLut(counts: readonly number[]): readonly number[] {
  const used = counts.filter((count) => count > 0);
  if (used.length <= 1) return IDENTITY;
  // The brightest level's pixels do not count: they would all map to 255 anyway.
  const step = Math.floor((used.reduce((sum, count) => sum + count, 0) - used[used.length - 1]) / 255);
  if (step === 0) return IDENTITY;
  const lut = new Array<number>(256);
  let n = Math.floor(step / 2);
  for (let i = 0; i < 256; i++) {
    lut[i] = Math.min(255, Math.floor(n / step));
    n += counts[i];
  }
  return lut;
}

/**
 * Pillow's `ImageOps.equalize`, channel by channel: each level is mapped through the cumulative
 * histogram so that the levels become (about) equally frequent. A constant image is left unchanged.
 * Alpha is kept and masks the histogram.
 */
export function equalize(): Step {
  return {
    name: 'equalize',
    label: "Égalisation d'histogramme",
    apply(image) {
      checkImage(image, 'equalize');
      return applyLuts(image, histogram(image).map(equalizeLut));
    },
  };
}

/** Normalised Gaussian weights from -r to r, r = ceil(3 sigma): beyond 3 sigma lies 0.3 % of the weight. */
function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float64Array(2 * r + 1);
  let total = 0;
  for (let i = -r; i <= r; i++) total += kernel[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] /= total;
  return kernel;
}

/** Separable convolution of one plane, edges extended (as Pillow's blur does), rounded once at the end. */
function blurPlane(source: GrayImage, kernel: Float64Array): GrayImage {
  const { width, height, data } = source;
  const r = (kernel.length - 1) >> 1;
  // Float intermediate: rounding between the two passes would add up to half a level of error.
  const rows = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = -r; k <= r; k++) {
        const xx = x + k < 0 ? 0 : x + k >= width ? width - 1 : x + k;
        sum += kernel[k + r] * data[row + xx];
      }
      rows[row + x] = sum;
    }
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = -r; k <= r; k++) {
        const yy = y + k < 0 ? 0 : y + k >= height ? height - 1 : y + k;
        sum += kernel[k + r] * rows[yy * width + x];
      }
      out[y * width + x] = sum <= 0 ? 0 : sum >= 255 ? 255 : Math.round(sum);
    }
  }
  return { width, height, data: out };
}

/**
 * Gaussian blur of standard deviation `radius` pixels, the meaning of Pillow's
 * `ImageFilter.GaussianBlur(radius)`. Computed as a true separable Gaussian, so values may differ
 * from Pillow's (which chains three box blurs) by a level or two on photos, more on pure noise.
 * Transparent images are blurred premultiplied by alpha, unlike Pillow, so the colour hidden under
 * transparent pixels does not stain the edges. Radius 0 returns a copy.
 */
export function gaussianBlur(radius = 2): Step {
  if (typeof radius !== 'number' || !Number.isFinite(radius) || radius < 0) {
    throw new RangeError(`gaussianBlur : le rayon (écart type en pixels) doit être un nombre positif ou nul (reçu ${String(radius)}), par exemple gaussianBlur(2).`);
  }
  const kernel = radius > 0 ? gaussianKernel(radius) : undefined;
  return {
    name: 'gaussianBlur',
    label: `Flou gaussien (rayon ${frenchNumber(radius)})`,
    apply(image) {
      checkImage(image, 'gaussianBlur');
      if (!kernel) return { width: image.width, height: image.height, channels: image.channels, data: image.data.slice() };
      return perPlane(image, (p) => blurPlane(p, kernel));
    },
  };
}

function isPipeline(step: Step): step is Pipeline {
  return Array.isArray((step as Pipeline).steps) && typeof (step as Pipeline).run === 'function';
}

/** Composes steps (or other pipelines) into one; `run` keeps every intermediate image with its label. */
export function pipeline(...steps: Step[]): Pipeline {
  steps.forEach((step, i) => {
    if (typeof step === 'function') {
      throw new TypeError(`pipeline : l'étape ${i + 1} est une fonction et non une étape ; il manque sans doute les parenthèses (par exemple grayscale() ou resize(224)).`);
    }
    if (!step || typeof step.apply !== 'function' || typeof step.label !== 'string') {
      throw new TypeError(`pipeline : l'étape ${i + 1} n'est pas une étape de prétraitement (resize(224), grayscale(), autocontrast(), equalize(), gaussianBlur(2)...).`);
    }
  });
  const flat = steps.flatMap((step) => (isPipeline(step) ? step.steps : [step]));
  const run = (image: RawImage): PipelineResult => {
    checkImage(image, 'pipeline');
    const stages: Stage[] = [{ label: ORIGINAL_LABEL, image }];
    let current = image;
    for (const step of flat) {
      current = step.apply(current);
      stages.push({ label: step.label, image: current });
    }
    return { image: current, stages };
  };
  return {
    name: 'pipeline',
    label: flat.map((step) => step.label).join(' → ') || 'Aucune étape',
    steps: flat,
    apply: (image) => run(image).image,
    run,
  };
}

/** One row of a stages grid: usually one photo's pipeline result, with the photo's name. */
export interface StagesRow {
  /** Written at the left of the row (the file name, say). */
  title?: string;
  stages: readonly Stage[];
}

/** Options of stagesGridPng. */
export interface StagesGridOptions {
  /** Side of the square each image is fitted in, in CSS pixels (default 112: a 224 image then shows pixel for pixel at device scale 2). */
  tileSize?: number;
  /** Device pixels per CSS pixel of the PNG (default 2, sharp on high-density screens). */
  deviceScale?: number;
  /** Font size of the titles in CSS pixels (default 12). */
  fontSize?: number;
}

/** Space between tiles, in CSS pixels. */
const GAP = 10;
/** Width at which row titles wrap, in CSS pixels: enough for a file name, not a whole column. */
const ROW_TITLE_MAX = 110;

/** An image as an RGB(A) sharp input, transparency flattened on white as the page it is shown on. */
function tileSource(image: RawImage): sharp.Sharp {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb');
}

/**
 * A before/after picture: one row per photo, one column per stage (French titles from the first
 * row's labels), each image fitted in its square tile with its aspect ratio. Composed with sharp
 * rather than imageGridPng, which only draws grey images: colour stages stay in colour here.
 */
export async function stagesGridPng(rows: readonly StagesRow[], options: StagesGridOptions = {}): Promise<Buffer> {
  if (!rows || rows.length === 0 || rows.every((row) => !row.stages || row.stages.length === 0)) {
    throw new Error('stagesGridPng : aucune image à afficher (une ligne par photo, chacune avec ses étapes).');
  }
  rows.forEach((row, r) => row.stages.forEach((stage, c) => checkImage(stage.image, `stagesGridPng (ligne ${r + 1}, colonne ${c + 1})`)));
  const tile = options.tileSize ?? 112;
  const ds = options.deviceScale ?? DEFAULT_SCALE;
  const fontSize = options.fontSize ?? 12;
  if (!(tile >= 8) || !(ds > 0) || !(fontSize > 0)) {
    throw new RangeError(`stagesGridPng : options invalides (tileSize ${tile} ≥ 8, deviceScale ${ds} > 0 et fontSize ${fontSize} > 0 attendus).`);
  }
  if (!(await fontsAvailable())) console.warn("Attention : aucune police de caractères trouvée, la grille n'aura pas de titres.");

  const columns = Math.max(...rows.map((row) => row.stages.length));
  // No line break inside parentheses: « (rayon 2) » stays whole rather than leave « 2) » alone.
  const keepParentheses = (label: string) => label.replace(/\([^)]*\)/g, (group) => group.replace(/ /g, '\u00a0'));
  const labels = Array.from({ length: columns }, (_, c) => keepParentheses(rows.find((row) => row.stages[c])?.stages[c].label ?? ''));
  // A column is as wide as its tile, or as its longest word (« Redimensionnement ») that cannot be cut.
  const longestWord = Math.max(0, ...labels.flatMap((label) => label.split(/ +/).map((word) => textWidth(word, fontSize, true))));
  const cell = Math.ceil(Math.max(tile, longestWord + 4));
  const headers = labels.map((label) => wrapText(label, fontSize, cell, true));
  const headerHeight = Math.ceil(4 + Math.max(...headers.map((lines) => lines.length)) * fontSize * 1.2);
  const titled = rows.some((row) => row.title);
  const rowTitles = rows.map((row) => (row.title ? wrapText(row.title, fontSize, ROW_TITLE_MAX) : []));
  // Titles wrap at ROW_TITLE_MAX; a single longer word (a file name) widens the column rather than overlap the photo.
  const titleWidth = titled ? Math.ceil(Math.max(...rowTitles.flat().map((line) => textWidth(line, fontSize)))) + GAP : 0;
  const width = GAP + titleWidth + columns * (cell + GAP);
  const height = GAP + headerHeight + rows.length * (tile + GAP);
  const px = (css: number) => Math.round(css * ds);

  const frames: string[] = [];
  const tiles = await Promise.all(
    rows.flatMap((row, r) =>
      row.stages.map(async (stage, c) => {
        const { width: w, height: h } = stage.image;
        const fit = Math.min(tile / w, tile / h);
        const cssW = Math.max(1, Math.round(w * fit));
        const cssH = Math.max(1, Math.round(h * fit));
        const x = GAP + titleWidth + c * (cell + GAP) + (cell - cssW) / 2;
        const y = GAP + headerHeight + r * (tile + GAP) + (tile - cssH) / 2;
        frames.push(`<rect x="${x - 0.5}" y="${y - 0.5}" width="${cssW + 1}" height="${cssH + 1}" fill="none" stroke="#c8c8c8"/>`);
        // Enlarged a lot, a tiny image keeps square pixels; otherwise Lanczos shows it as it looks.
        const kernel = px(cssW) >= 2 * w ? 'nearest' : 'lanczos3';
        const input = await tileSource(stage.image).resize(px(cssW), px(cssH), { fit: 'fill', kernel }).png().toBuffer();
        return { input, left: px(x), top: px(y) };
      }),
    ),
  );

  const texts: string[] = [];
  headers.forEach((lines, c) => {
    const cx = GAP + titleWidth + c * (cell + GAP) + cell / 2;
    lines.forEach((line, k) => texts.push(`<text x="${cx}" y="${(GAP + fontSize * 0.95 + k * fontSize * 1.2).toFixed(2)}" text-anchor="middle" font-weight="bold">${escapeXml(line)}</text>`));
  });
  rowTitles.forEach((lines, r) => {
    const top = GAP + headerHeight + r * (tile + GAP) + tile / 2 - (lines.length * fontSize * 1.2) / 2;
    lines.forEach((line, k) => texts.push(`<text x="${GAP}" y="${(top + fontSize * 0.95 + k * fontSize * 1.2).toFixed(2)}">${escapeXml(line)}</text>`));
  });
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT_FAMILY}" font-size="${fontSize}" fill="#222222">${frames.join('')}${texts.join('')}</svg>`;
  const overlayPng = await sharp(Buffer.from(overlay), { density: 72 * ds })
    .resize(px(width), px(height), { fit: 'fill' })
    .png()
    .toBuffer();
  const composed = await sharp({ create: { width: px(width), height: px(height), channels: 3, background: '#ffffff' } })
    .composite([...tiles, { input: overlayPng, left: 0, top: 0 }])
    .png()
    .toBuffer();
  // Composing over the overlay's alpha adds an alpha channel: an opaque picture does not need it.
  const png = await sharp(composed).removeAlpha().png({ compressionLevel: 9 }).toBuffer();
  // The density tells `show` the CSS size, so the picture is not displayed twice too large.
  return withDensity(png, ds);
}

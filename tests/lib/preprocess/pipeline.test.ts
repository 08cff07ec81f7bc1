/**
 * lib/preprocess/pipeline: each step on tiny images made here, the pipeline's stages, the
 * before/after grid, and (when a Python with Pillow is found) autocontrast and equalize value for
 * value against Pillow's ImageOps.
 */
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import {
  ORIGINAL_LABEL,
  autocontrast,
  equalize,
  gaussianBlur,
  grayscale,
  histogram,
  pipeline,
  resize,
  stagesGridPng,
  type RawImage,
  type Step,
} from '../../../lib/preprocess';
import { needsPython } from '../../helpers/tools';
import { seededRandom } from './images';

function image(width: number, height: number, channels: RawImage['channels'], pixel: (x: number, y: number, c: number) => number): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0, p = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++, p++) data[p] = pixel(x, y, c);
  return { width, height, channels, data };
}

/** 8x8 grey gradient from 50 (top left) to 100 (bottom right): low contrast, every level used once or twice. */
const gradient = image(8, 8, 1, (x, y) => 50 + Math.round((50 * (y * 8 + x)) / 63));

function noise(width: number, height: number, channels: RawImage['channels'], seed = 1): RawImage {
  const random = seededRandom(seed);
  return image(width, height, channels, () => Math.floor(random() * 256));
}

function stats(values: ArrayLike<number>): { min: number; max: number; mean: number; variance: number } {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { min, max, mean, variance: squares / values.length };
}

describe('autocontrast', () => {
  it('maps the darkest level to 0 and the brightest to 255 (linear stretch, rounded down)', () => {
    const out = autocontrast().apply(gradient);
    expect(stats(out.data)).toMatchObject({ min: 0, max: 255 });
    gradient.data.forEach((v, i) => expect(out.data[i]).toBe(Math.floor(((v - 50) * 255) / 50)));
    expect(out).toMatchObject({ width: 8, height: 8, channels: 1 });
  });

  it('ignores cutoff % of the pixels at each end', () => {
    // 100 pixels: 3 black and 3 white outliers around a 100..150 gradient.
    const values = Array.from({ length: 100 }, (_, i) => (i < 3 ? 0 : i >= 97 ? 255 : 100 + Math.round((50 * (i - 3)) / 93)));
    const outliers: RawImage = { width: 10, height: 10, channels: 1, data: Uint8Array.from(values) };
    const plain = autocontrast().apply(outliers);
    expect(Array.from(plain.data)).toEqual(values); // already spans 0..255: nothing to stretch
    const cut = autocontrast({ cutoff: 5 }).apply(outliers);
    // 5 pixels removed from each end: the range measured is 101..149 (the two ends lost 2 more pixels each).
    expect(cut.data[50]).toBe(Math.floor(((outliers.data[50] - 101) * 255) / 48));
    expect(cut.data[3]).toBe(0);
    expect(cut.data[96]).toBe(255);
    expect(autocontrast({ cutoff: [3, 0] }).apply(outliers).data[3]).toBe(0);
  });

  it('stretches each colour channel on its own and keeps alpha, transparent pixels not counted', () => {
    const rgba = image(4, 4, 4, (x, y, c) => (c === 3 ? (x === 0 ? 0 : 255) : x === 0 ? 0 : [10, 100, 200][c] + y * 10));
    const out = autocontrast().apply(rgba);
    for (let p = 0; p < out.data.length; p += 4) {
      const x = (p / 4) % 4;
      const y = Math.floor(p / 16);
      expect(out.data[p + 3]).toBe(rgba.data[p + 3]);
      // The black transparent column is not part of the photo: each channel goes 0..255 over y.
      if (x > 0) for (let c = 0; c < 3; c++) expect(out.data[p + c]).toBe(Math.floor((y * 255) / 3));
    }
  });

  it('leaves a constant image unchanged and never modifies its input', () => {
    const flat = image(5, 5, 3, () => 77);
    const copy = flat.data.slice();
    expect(Array.from(autocontrast({ cutoff: 10 }).apply(flat).data)).toEqual(Array.from(copy));
    autocontrast().apply(gradient);
    expect(flat.data).toEqual(copy);
  });
});

describe('equalize', () => {
  it('flattens a skewed histogram: each quarter of the levels gets a quarter of the pixels', () => {
    // Mostly dark: levels 20..219, half of the pixels in the darkest quarter.
    const random = seededRandom(7);
    const skewed = image(64, 64, 1, () => 20 + Math.floor(random() ** 2 * 200));
    const quarters = (data: Uint8Array, lo: number, hi: number) => {
      const shares = [0, 0, 0, 0];
      data.forEach((v) => shares[Math.min(3, Math.floor(((v - lo) * 4) / (hi - lo + 1)))]++);
      return shares.map((count) => count / data.length);
    };
    expect(quarters(skewed.data, 20, 219)[0]).toBeGreaterThan(0.45);
    const out = equalize().apply(skewed);
    expect(stats(out.data)).toMatchObject({ min: 0, max: 255 });
    for (const share of quarters(out.data, 0, 255)) expect(share).toBeCloseTo(0.25, 1);
    // Each level goes where the cumulative histogram says: the share of darker pixels, times 255.
    const counts = histogram(skewed)[0];
    const lut = new Map<number, number>();
    skewed.data.forEach((v, i) => lut.set(v, out.data[i]));
    let darker = 0;
    for (let level = 0; level < 256; level++) {
      if (counts[level]) expect(Math.abs(lut.get(level)! / 255 - darker / skewed.data.length)).toBeLessThan(0.01);
      darker += counts[level];
    }
  });

  it('leaves a constant image unchanged, as Pillow does', () => {
    const flat = image(6, 6, 1, () => 120);
    expect(Array.from(equalize().apply(flat).data)).toEqual(Array.from(flat.data));
    const twoLevels = image(6, 6, 3, (x) => (x < 3 ? 20 : 40));
    expect(equalize().apply(twoLevels).channels).toBe(3);
  });
});

describe('gaussianBlur', () => {
  it('keeps the mean (±1) and lowers the variance', () => {
    const before = noise(40, 30, 1, 3);
    const out = gaussianBlur(2).apply(before);
    const a = stats(before.data);
    const b = stats(out.data);
    expect(Math.abs(a.mean - b.mean)).toBeLessThanOrEqual(1);
    expect(b.variance).toBeLessThan(a.variance / 10);
    expect(stats(gaussianBlur(0.5).apply(before).data).variance).toBeGreaterThan(b.variance);
  });

  it('is the identity for radius 0 (a copy, not the same array), and keeps a constant image constant', () => {
    const before = noise(9, 7, 3);
    const out = gaussianBlur(0).apply(before);
    expect(out.data).toEqual(before.data);
    expect(out.data).not.toBe(before.data);
    const flat = image(10, 10, 4, (_x, _y, c) => (c === 3 ? 255 : 90));
    expect(new Set(gaussianBlur(3).apply(flat).data.filter((_, i) => i % 4 === 0))).toEqual(new Set([90]));
  });

  it('blurs every channel and says its radius in the label', () => {
    const out = gaussianBlur(1.5).apply(noise(12, 12, 3));
    expect(out).toMatchObject({ width: 12, height: 12, channels: 3 });
    expect(gaussianBlur(2).label).toBe('Flou gaussien (rayon 2)');
    expect(gaussianBlur(1.5).label).toBe('Flou gaussien (rayon 1,5)');
  });
});

describe('resize and grayscale', () => {
  it.each([1, 2, 3, 4] as const)('resize(224) gives 224 x 224 with %i channel(s)', (channels) => {
    const out = resize(224).apply(noise(50, 31, channels));
    expect(out).toMatchObject({ width: 224, height: 224, channels });
    expect(out.data.length).toBe(224 * 224 * channels);
  });

  it('stretches to a square and keeps a uniform colour uniform', () => {
    const red = image(30, 10, 3, (_x, _y, c) => (c === 0 ? 200 : 20));
    const out = resize(12).apply(red);
    expect(out).toMatchObject({ width: 12, height: 12 });
    expect(new Set(out.data)).toEqual(new Set([200, 20]));
    expect(resize(299).label).toBe('Redimensionnement 299 x 299');
  });

  it('grayscale gives one channel with ITU-R 601 weights, transparency on white', () => {
    const rgba = image(3, 1, 4, (x, _y, c) => (x === 0 ? [255, 0, 0, 255][c] : x === 1 ? [0, 255, 0, 255][c] : [0, 0, 0, 0][c]));
    const out = grayscale().apply(rgba);
    expect(out).toMatchObject({ width: 3, height: 1, channels: 1 });
    expect(Array.from(out.data)).toEqual([76, 150, 255]);
    expect(grayscale().label).toBe('Niveaux de gris');
  });
});

describe('pipeline', () => {
  const steps = [resize(16), grayscale(), autocontrast({ cutoff: 2 }), equalize(), gaussianBlur(2)];

  it('returns the original then every stage, in order, with French labels', () => {
    const photo = noise(20, 12, 3);
    const copy = photo.data.slice();
    const result = pipeline(...steps).run(photo);
    expect(result.stages.map((stage) => stage.label)).toEqual([
      ORIGINAL_LABEL,
      'Redimensionnement 16 x 16',
      'Niveaux de gris',
      'Contraste automatique (écrêtage 2 %)',
      "Égalisation d'histogramme",
      'Flou gaussien (rayon 2)',
    ]);
    expect(result.stages[0].image).toBe(photo);
    expect(result.stages.map((stage) => stage.image.channels)).toEqual([3, 3, 1, 1, 1, 1]);
    expect(result.image).toBe(result.stages[5].image);
    // Each stage is the previous one through its step.
    steps.forEach((step, i) => expect(step.apply(result.stages[i].image).data).toEqual(result.stages[i + 1].image.data));
    expect(photo.data).toEqual(copy);
  });

  it('is itself a step: apply gives the final image, nested pipelines are flattened', () => {
    const photo = noise(10, 10, 4, 9);
    const whole = pipeline(...steps);
    const nested = pipeline(pipeline(steps[0], steps[1]), steps[2], pipeline(steps[3], steps[4]));
    expect(nested.steps).toHaveLength(5);
    expect(nested.label).toBe(whole.label);
    expect(nested.apply(photo).data).toEqual(whole.run(photo).image.data);
    expect(pipeline().run(photo).stages).toHaveLength(1);
    expect(autocontrast().label).toBe('Contraste automatique');
  });
});

describe('bad parameters throw clear French errors', () => {
  it.each([
    ['resize(0)', () => resize(0), /resize : la taille doit être un entier positif/],
    ['resize(1.5)', () => resize(1.5), /entier positif de pixels \(reçu 1.5\)/],
    ['resize(NaN)', () => resize(NaN), /resize/],
    ['gaussianBlur(-1)', () => gaussianBlur(-1), /gaussianBlur : le rayon .* positif ou nul \(reçu -1\)/],
    ['gaussianBlur(Infinity)', () => gaussianBlur(Infinity), /gaussianBlur/],
    ['cutoff 50', () => autocontrast({ cutoff: 50 }), /autocontrast : cutoff .* entre 0 et 50 exclu \(reçu 50\)/],
    ['cutoff -1', () => autocontrast({ cutoff: -1 }), /reçu -1/],
    ['cutoff [2, 60]', () => autocontrast({ cutoff: [2, 60] }), /reçu 60/],
    ['a step without parentheses', () => pipeline(resize(8), grayscale as unknown as Step), /étape 2 .*parenthèses/],
    ['not a step', () => pipeline({} as Step), /étape 1 n'est pas une étape/],
  ])('%s', (_what, make, message) => {
    expect(make).toThrow(message);
  });

  it('refuses an image whose data does not match its size', () => {
    expect(() => grayscale().apply({ width: 4, height: 4, channels: 3, data: new Uint8Array(10) })).toThrow(/grayscale : 10 octets .* 48 attendus/);
    expect(() => equalize().apply({ width: 2, height: 2, channels: 5 as never, data: new Uint8Array(20) })).toThrow(/5 canaux/);
  });
});

describe('stagesGridPng', () => {
  it('draws one row per photo and one column per stage, colour stages in colour', async () => {
    const red = image(30, 20, 3, (_x, _y, c) => (c === 0 ? 220 : 30));
    const blue = image(20, 30, 4, (_x, _y, c) => [20, 40, 230, 255][c]);
    const steps = pipeline(resize(24), grayscale());
    const rows = [
      { title: 'rouge.png', stages: steps.run(red).stages },
      { title: 'bleu.png', stages: steps.run(blue).stages },
    ];
    const png = await stagesGridPng(rows, { tileSize: 40, deviceScale: 1 });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    // 3 columns of 40 px and 2 rows, plus gaps, titles on the left and headers on top.
    expect(info.width).toBeGreaterThan(3 * 40 + 4 * 10);
    expect(info.height).toBeGreaterThan(2 * 40 + 3 * 10);
    let reds = 0;
    let blues = 0;
    let greys = 0;
    for (let p = 0; p < data.length; p += 3) {
      const [r, g, b] = [data[p], data[p + 1], data[p + 2]];
      if (r > 200 && g < 60 && b < 60) reds++;
      if (b > 200 && r < 60 && g < 80) blues++;
      if (r === g && g === b && r > 40 && r < 120) greys++;
    }
    expect(reds).toBeGreaterThan(2 * 24 * 24 * 0.8); // original and resized, still red
    expect(blues).toBeGreaterThan(2 * 24 * 24 * 0.8);
    expect(greys).toBeGreaterThan(2 * 24 * 24 * 0.8);
  });

  it('refuses an empty grid', async () => {
    await expect(stagesGridPng([])).rejects.toThrow(/aucune image à afficher/);
  });
});

const PILLOW_SCRIPT = `
import base64, json, sys
import PIL
from PIL import Image, ImageOps
cases = json.load(sys.stdin)
print(json.dumps({"pillow": PIL.__version__}))
for case in cases:
    im = Image.frombytes(case["mode"], (case["width"], case["height"]), base64.b64decode(case["data"]))
    cutoff = case["cutoff"]
    print(json.dumps({
        "autocontrast": list(ImageOps.autocontrast(im, cutoff=tuple(cutoff) if isinstance(cutoff, list) else cutoff).tobytes()),
        "equalize": list(ImageOps.equalize(im).tobytes()),
    }))
`;

// $PILLOW_PYTHON, else .venv/ (npm run setup:python), else python3; skipped without one, a failure in CI.
const pillowPython = needsPython(['PIL'], 'PILLOW_PYTHON');

pillowPython.describe('against Pillow ImageOps', () => {
  it('gives the same autocontrast and equalize values as Pillow', () => {
    const python = pillowPython.python!;
    const random = seededRandom(42);
    const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
    const cutoffs: (number | [number, number])[] = [0, 1, 2, 5, 12.5, [3, 7.5], [0, 20], 49];
    const cases = Array.from({ length: 24 }, (_, i) => {
      const channels = i % 2 ? 3 : 1;
      const low = int(0, 150);
      const span = int(1, 255 - low);
      const power = [1, 2, 4][i % 3];
      const picture = image(int(1, 60), int(1, 60), channels, () => low + Math.floor(random() ** power * span));
      return { picture, cutoff: cutoffs[i % cutoffs.length] };
    });
    const input = JSON.stringify(
      cases.map(({ picture, cutoff }) => ({ mode: picture.channels === 1 ? 'L' : 'RGB', width: picture.width, height: picture.height, data: Buffer.from(picture.data).toString('base64'), cutoff })),
    );
    const run = spawnSync(python, ['-c', PILLOW_SCRIPT], { input, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 60_000 });
    if (run.status !== 0) throw new Error(`${python} failed: ${run.stderr || run.error?.message}`);
    const [header, ...lines] = run.stdout.trim().split('\n');
    const mismatches: string[] = [];
    let slips = 0;
    cases.forEach(({ picture, cutoff }, i) => {
      const expected = JSON.parse(lines[i]) as { autocontrast: number[]; equalize: number[] };
      const what = `${picture.width}x${picture.height}x${picture.channels}, cutoff ${JSON.stringify(cutoff)}`;
      const ours = autocontrast({ cutoff }).apply(picture).data;
      ours.forEach((value, p) => {
        // Pillow computes the stretch in floating point and truncates: an exact 255 (or 102...) can become 254.
        if (value === expected.autocontrast[p] + 1) slips++;
        else if (value !== expected.autocontrast[p]) mismatches.push(`autocontrast ${what}, byte ${p}: ${value} instead of ${expected.autocontrast[p]}`);
      });
      if (Buffer.compare(Buffer.from(equalize().apply(picture).data), Buffer.from(expected.equalize))) mismatches.push(`equalize ${what}`);
    });
    const bytes = cases.reduce((sum, { picture }) => sum + picture.data.length, 0);
    console.log(`Pillow ${JSON.parse(header).pillow} (${python}): ${cases.length} images, equalize identical, autocontrast identical but for ${slips} of ${bytes} values one level above Pillow's floating-point truncation.`);
    expect(slips).toBeLessThan(bytes / 20);
    expect(mismatches).toEqual([]);
  });
});

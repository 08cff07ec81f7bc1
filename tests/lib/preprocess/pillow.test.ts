/**
 * lib/preprocess against the course's own Python code run by Pillow (pillow_reference.py), value for
 * value, on photos made here: random sizes and content, every format, grey/colour/alpha, EXIF, CMYK,
 * 16 bits. Skipped, with a message, when no Python with Pillow and NumPy is found ($PILLOW_PYTHON,
 * .venv/ from `npm run setup:python`, python3); a failure in CI (tests/helpers/tools.ts).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { preprocessPhoto, type RawImage } from '../../../lib/preprocess';
import { temporaryFolder } from '../../helpers/fixtures';
import { needsPython } from '../../helpers/tools';
import { fromRaw, randomImage, seededRandom, trousersPhoto } from './images';

const REFERENCE = join(__dirname, 'pillow_reference.py');

/** The course's code needs both Pillow and NumPy. */
const pillowPython = needsPython(['PIL', 'numpy'], 'PILLOW_PYTHON');

interface Case {
  file: string;
  what: string;
  /** Pillow 12.2 changed how images over 100 times taller than wide are resized; we follow 12.2+. */
  tall?: boolean;
}

async function makeCases(dir: string): Promise<Case[]> {
  const cases: Case[] = [];
  const add = async (name: string, what: string, image: sharp.Sharp, tall = false) => {
    const file = join(dir, name);
    writeFileSync(file, await image.toBuffer());
    cases.push({ file, what, tall });
  };
  const trousers = trousersPhoto(300, 500);
  await add('trousers.png', 'trousers 300x500 PNG', fromRaw(trousers).png());
  await add('trousers.jpg', 'trousers 300x500 JPEG', fromRaw(trousers).jpeg({ quality: 90 }));
  await add('trousers-transparent.png', 'trousers on transparency', fromRaw(trousersPhoto(300, 500, { transparent: true })).png());
  await add('trousers-exif6.jpg', 'JPEG with EXIF orientation 6', fromRaw(trousers).rotate(-90).jpeg().withMetadata({ orientation: 6 }));
  await add('trousers-exif3.png', 'PNG with EXIF orientation 3', fromRaw(trousers).rotate(180).png().withMetadata({ orientation: 3 }));
  await add('trousers-cmyk.jpg', 'CMYK JPEG', fromRaw(trousers).toColourspace('cmyk').jpeg());
  await add('trousers-16bit.png', '16-bit RGB PNG', fromRaw(trousers).toColourspace('rgb16').png());

  const random = seededRandom(2024);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const special: [number, number][] = [[40, 25], [400, 270], [1, 1], [21, 1], [20, 20], [20, 13], [7, 5], [3, 350], [350, 2]];
  for (let i = 0; i < 40; i++) {
    const [width, height] = special[i] ?? [int(1, 240), int(1, 240)];
    const format = (['png', 'jpeg', 'webp', 'gif'] as const)[i % 4];
    // Cycles of 4 formats, then of channel counts (JPEG has no alpha): every pairing occurs.
    const channels = (format === 'jpeg' ? [1, 3] : [1, 2, 3, 4])[Math.floor(i / 4) % (format === 'jpeg' ? 2 : 4)] as RawImage['channels'];
    const kind = i % 3 === 0 ? 'noise' : 'photo';
    const image = fromRaw(randomImage(random, width, height, channels, kind));
    const encoded =
      format === 'png' ? image.png({ palette: i % 8 === 0 }) : format === 'jpeg' ? image.jpeg({ quality: int(50, 100), chromaSubsampling: i % 3 ? '4:2:0' : '4:4:4' }) : format === 'webp' ? image.webp(i % 3 ? { quality: int(50, 100) } : { lossless: true }) : image.gif();
    await add(`random-${i}.${format}`, `${width}x${height}, ${channels} channel(s), ${kind}, ${format}`, encoded, height > width * 100);
  }
  return cases;
}

pillowPython.describe('exactness against Pillow running the course code', () => {
  const { dir, cleanup } = temporaryFolder('analyse-image-pillow-');
  afterAll(cleanup);

  it.each([
    ['with its two improvements (EXIF orientation, transparency over white)', false],
    ['as the Python course opens it (asPythonCourse: no orientation, alpha dropped)', true],
  ])('gives the same 784 input values as Pillow, on every image, %s', async (_how, asPythonCourse) => {
    const python = pillowPython.python!;
    const cases = await makeCases(dir);
    const run = spawnSync(python, [REFERENCE, ...(asPythonCourse ? ['--as-course'] : []), ...cases.map((c) => c.file)], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 120_000 });
    if (run.status !== 0) throw new Error(`${python} ${REFERENCE} failed: ${run.stderr || run.error?.message}`);
    const [header, ...lines] = run.stdout.trim().split('\n');
    const pillow: string = JSON.parse(header).pillow;
    const [major, minor] = pillow.split('.').map(Number);
    const tallLikeUs = major > 12 || (major === 12 && minor >= 2);

    const mismatches: string[] = [];
    let compared = 0;
    for (const [i, testCase] of cases.entries()) {
      const expected = JSON.parse(lines[i]) as { canvas: number[]; input: number[]; error?: string };
      if (expected.error) throw new Error(`Pillow could not read ${testCase.what}: ${expected.error}`);
      if (testCase.tall && !tallLikeUs) continue;
      const ours = await preprocessPhoto(testCase.file, { asPythonCourse });
      compared++;
      let worst = 0;
      let pixels = 0;
      for (let p = 0; p < 784; p++) {
        if (ours.input[p] !== expected.input[p]) pixels++;
        worst = Math.max(worst, Math.abs(ours.canvas[p] - expected.canvas[p]));
      }
      if (pixels) mismatches.push(`${testCase.what}: ${pixels} values differ, up to ${worst} grey level(s)`);
    }
    console.log(`Pillow ${pillow} (${python}): ${compared - mismatches.length}/${compared} images identical${compared < cases.length ? `; ${cases.length - compared} very tall one(s) skipped, resized otherwise before Pillow 12.2` : ''}.`);
    if (!asPythonCourse) {
      expect(mismatches).toEqual([]);
      return;
    }
    // Pillow's convert('L') of a palette GIF gives a transparent pixel its palette colour, which libvips does
    // not expose (it decodes such pixels to RGBA): the one case asPythonCourse does not reproduce.
    expect(mismatches.filter((m) => !/, [24] channel\(s\), \w+, gif: /.test(m))).toEqual([]);
  });
});

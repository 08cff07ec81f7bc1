/** The in-memory form of a labelled image set: one byte per pixel, as stored on disk. */
import { IMAGE_PIXELS } from './classes';

/** Labels and 28x28 grey pixels (0-255, row-major, one image after the other). */
export interface LabelledImages {
  /** Number of images. */
  readonly count: number;
  /** One label per image. */
  readonly labels: Uint8Array;
  /** count x 784 pixel values. */
  readonly pixels: Uint8Array;
}

/** The 784 pixels of image `index`, without copying. */
export function imageAt(set: LabelledImages, index: number): Uint8Array {
  if (index < 0 || index >= set.count) {
    throw new RangeError(`Image ${index} out of range: the set has ${set.count} images.`);
  }
  return set.pixels.subarray(index * IMAGE_PIXELS, (index + 1) * IMAGE_PIXELS);
}

/** A new set made of the images at `indices`, in that order (copies the pixels). */
export function subset(set: LabelledImages, indices: ArrayLike<number>): LabelledImages {
  const count = indices.length;
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * IMAGE_PIXELS);
  for (let i = 0; i < count; i++) {
    const source = indices[i];
    if (source < 0 || source >= set.count) {
      throw new RangeError(`Index ${source} out of range: the set has ${set.count} images.`);
    }
    labels[i] = set.labels[source];
    pixels.set(set.pixels.subarray(source * IMAGE_PIXELS, (source + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
  }
  return { count, labels, pixels };
}

/** The first `count` images (a view: no copy), e.g. for a quick run. */
export function head(set: LabelledImages, count: number): LabelledImages {
  const n = Math.max(0, Math.min(count, set.count));
  return { count: n, labels: set.labels.subarray(0, n), pixels: set.pixels.subarray(0, n * IMAGE_PIXELS) };
}

/** How many images of each label (index = label). */
export function classCounts(set: LabelledImages, classCount = 10): number[] {
  const counts = new Array<number>(classCount).fill(0);
  for (let i = 0; i < set.count; i++) counts[set.labels[i]]++;
  return counts;
}

/** The first `perClass` images of each label, in their original order (a few labelled examples per class). */
export function firstPerClass(set: LabelledImages, perClass: number, classCount = 10): LabelledImages {
  if (!Number.isInteger(perClass) || perClass < 1) throw new RangeError(`perClass = ${perClass}: give a whole number of images per class, 1 or more.`);
  const taken = new Array<number>(classCount).fill(0);
  const indices: number[] = [];
  for (let i = 0; i < set.count && indices.length < perClass * classCount; i++) {
    const label = set.labels[i];
    if (taken[label] < perClass) {
      taken[label]++;
      indices.push(i);
    }
  }
  const short = taken.findIndex((n) => n < perClass);
  if (short >= 0) throw new RangeError(`Only ${taken[short]} images of class ${short} in the set, ${perClass} asked.`);
  return subset(set, indices);
}

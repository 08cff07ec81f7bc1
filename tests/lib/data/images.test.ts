import { classCounts, firstPerClass, head, imageAt, subset } from '../../../lib/data/images';
import { FASHION_CLASSES } from '../../../lib/data/classes';
import { syntheticImages } from '../../helpers/fixtures';

describe('image sets', () => {
  const set = syntheticImages(30);

  it('selects rows in the given order', () => {
    const picked = subset(set, [5, 2]);
    expect(picked.count).toBe(2);
    expect(Array.from(picked.labels)).toEqual([5, 2]);
    expect(Array.from(picked.pixels.subarray(0, 3))).toEqual(Array.from(imageAt(set, 5).subarray(0, 3)));
    expect(() => subset(set, [30])).toThrow(/out of range/);
  });

  it('takes the first rows and counts classes', () => {
    expect(head(set, 12).count).toBe(12);
    expect(classCounts(set)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
  });

  it('names the ten classes in French as the course does', () => {
    expect(FASHION_CLASSES).toHaveLength(10);
    expect(FASHION_CLASSES[1]).toBe('Un pantalon');
    expect(FASHION_CLASSES[9]).toBe('Des bottes de cheville');
  });
});

describe('a few labelled examples per class', () => {
  it('takes the first images of each label, in their original order', () => {
    const set = syntheticImages(100); // label i % 10
    const few = firstPerClass(set, 3);
    expect(few.count).toBe(30);
    expect(classCounts(few)).toEqual(new Array(10).fill(3));
    expect(Array.from(few.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(Array.from(imageAt(few, 10))).toEqual(Array.from(imageAt(set, 10)));
  });

  it('says which class is short', () => {
    expect(() => firstPerClass(syntheticImages(25), 3)).toThrow('Only 2 images of class 5 in the set, 3 asked.');
    expect(() => firstPerClass(syntheticImages(25), 0)).toThrow(/perClass = 0/);
  });
});

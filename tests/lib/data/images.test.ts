import { classCounts, head, imageAt, subset } from '../../../lib/data/images';
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

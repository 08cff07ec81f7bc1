import { imagesToTensor, labelsToOneHot, toTensors } from '../../../lib/data/tensors';
import { syntheticImages } from '../../helpers/fixtures';

describe('tensors for training', () => {
  const set = syntheticImages(4);

  it('reshapes to [n, 28, 28, 1] and scales pixels to [0, 1]', () => {
    const xs = imagesToTensor(set);
    expect(xs.shape).toEqual([4, 28, 28, 1]);
    expect(xs.dtype).toBe('float32');
    const values = xs.dataSync();
    expect(values[1]).toBeCloseTo(1 / 255, 7);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(values[784 + 10]).toBeCloseTo(((7 + 10) % 256) / 255, 7);
    xs.dispose();
  });

  it('one-hot encodes labels like to_categorical', () => {
    const ys = labelsToOneHot({ count: 2, labels: Uint8Array.from([2, 9]), pixels: new Uint8Array(2 * 784) });
    expect(ys.shape).toEqual([2, 10]);
    expect(Array.from(ys.dataSync())).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    ys.dispose();
  });

  it('rejects a label outside the classes', () => {
    expect(() => labelsToOneHot({ count: 1, labels: Uint8Array.from([10]), pixels: new Uint8Array(784) })).toThrow(/Label 10/);
  });

  it('returns both tensors', () => {
    const { xs, ys } = toTensors(set);
    expect(xs.shape[0]).toBe(ys.shape[0]);
    xs.dispose();
    ys.dispose();
  });
});

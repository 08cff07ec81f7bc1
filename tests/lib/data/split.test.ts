import { MersenneTwister, seededPermutation, trainValidationSplit } from '../../../lib/data/split';

describe('seeded split (scikit-learn train_test_split equivalent)', () => {
  it('draws the reference MT19937 sequence', () => {
    // First outputs of the reference implementation (Matsumoto & Nishimura) for seed 5489.
    const random = new MersenneTwister(5489);
    expect([random.nextUint32(), random.nextUint32(), random.nextUint32()]).toEqual([3499211612, 581869302, 3890346734]);
  });

  it("gives NumPy's RandomState(13).permutation(60000)", () => {
    // Values printed by numpy 2 for np.random.RandomState(13).permutation(60000).
    const order = seededPermutation(60000, 13);
    expect(Array.from(order.slice(0, 10))).toEqual([26308, 52512, 50061, 45393, 17259, 54629, 57100, 24082, 34846, 45258]);
    expect(Array.from(order.slice(12000, 12005))).toEqual([54931, 12612, 21647, 22480, 49475]);
    expect(Array.from(order.slice(-3))).toEqual([32842, 47280, 33106]);
  });

  it('splits 80/20 into disjoint parts covering every row', () => {
    const { train, validation } = trainValidationSplit(60000);
    expect(train.length).toBe(48000);
    expect(validation.length).toBe(12000);
    const seen = new Uint8Array(60000);
    for (const i of [...train, ...validation]) seen[i]++;
    expect(seen.every((n) => n === 1)).toBe(true);
    expect(validation[0]).toBe(26308);
    expect(train[0]).toBe(54931);
  });

  it('is the same for the same seed and different for another', () => {
    const a = trainValidationSplit(1000, 0.2, 13);
    const b = trainValidationSplit(1000, 0.2, 13);
    const c = trainValidationSplit(1000, 0.2, 14);
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(Array.from(a.train)).not.toEqual(Array.from(c.train));
  });

  it('rounds the validation size up, like scikit-learn', () => {
    expect(trainValidationSplit(11, 0.2).validation.length).toBe(3);
  });

  it('rejects impossible fractions and seeds', () => {
    expect(() => trainValidationSplit(10, 1.5)).toThrow(/validationFraction/);
    expect(() => new MersenneTwister(-1)).toThrow(/Seed/);
  });
});

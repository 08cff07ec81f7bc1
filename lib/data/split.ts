/**
 * Seeded train/validation split with the same algorithm as scikit-learn's
 * `train_test_split(..., test_size=0.2, random_state=13)`: NumPy's legacy Mersenne Twister
 * (`RandomState(seed)`) draws a permutation; the first ceil(20 %) indices go to validation,
 * the next ones to training. Same seed and same rows give the same split as the course.
 */

/** A MersenneTwister's state, as snapshot() takes it. */
export interface TwisterState {
  readonly words: Uint32Array;
  readonly index: number;
}

/** NumPy's `RandomState` core: MT19937 seeded like `np.random.RandomState(seed)` for an integer seed. */
export class MersenneTwister {
  private readonly state = new Uint32Array(624);
  private index = 624;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`Seed must be an integer between 0 and 2^32 - 1, got ${seed}.`);
    }
    this.state[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const previous = this.state[i - 1] ^ (this.state[i - 1] >>> 30);
      // 1812433253 * previous + i, modulo 2^32, without losing bits to floating point.
      this.state[i] = (Math.imul(1812433253, previous) + i) >>> 0;
    }
  }

  /** The generator's whole state (624 words and the position in them), to go back to with restore. */
  snapshot(): TwisterState {
    return { words: this.state.slice(), index: this.index };
  }

  /** Goes back to a state snapshot() took: the same numbers follow again. */
  restore(saved: TwisterState): void {
    this.state.set(saved.words);
    this.index = saved.index;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    if (this.index >= 624) this.twist();
    return temper(this.state[this.index++]) >>> 0;
  }

  /** Fills `out` with NumPy's `random_sample()` doubles, each from two outputs (their top 27 and 26 bits): a batch's parameters in one call. */
  fillRandomSample(out: Float64Array): void {
    const mt = this.state;
    for (let i = 0; i < out.length; i++) {
      if (this.index >= 624) this.twist();
      const high = temper(mt[this.index++]);
      if (this.index >= 624) this.twist();
      const low = temper(mt[this.index++]);
      out[i] = ((high >>> 5) * 67108864 + (low >>> 6)) / 9007199254740992;
    }
  }

  /** A uniform integer in [0, max], drawn as NumPy's legacy `random_interval` does (masked rejection). */
  nextInterval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new RangeError('Intervals above 2^32 - 1 are not supported.');
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do {
      value = (this.nextUint32() & mask) >>> 0;
    } while (value > max);
    return value;
  }

  private twist(): void {
    const mt = this.state;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
      let next = mt[(i + 397) % 624] ^ (y >>> 1);
      if (y & 1) next ^= 0x9908b0df;
      mt[i] = next >>> 0;
    }
    this.index = 0;
  }
}

/** MT19937's tempering of a state word, as a signed 32-bit integer (`>>> 0` makes it the unsigned output). */
function temper(word: number): number {
  let y = word ^ (word >>> 11);
  y ^= (y << 7) & 0x9d2c5680;
  y ^= (y << 15) & 0xefc60000;
  return y ^ (y >>> 18);
}

/** The permutation of 0..n-1 that `np.random.RandomState(seed).permutation(n)` returns. */
export function seededPermutation(n: number, seed: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = new MersenneTwister(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = random.nextInterval(i);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}

/** Row indices of a seeded split: `train` and `validation`, in the order scikit-learn returns them. */
export interface SplitIndices {
  readonly train: Int32Array;
  readonly validation: Int32Array;
}

/** Splits n rows like `train_test_split(test_size=validationFraction, random_state=seed)`; the course uses 0.2 and 13. */
export function trainValidationSplit(n: number, validationFraction = 0.2, seed = 13): SplitIndices {
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new RangeError(`validationFraction must be between 0 and 1 (exclusive), got ${validationFraction}.`);
  }
  const validationCount = Math.ceil(validationFraction * n);
  const trainCount = n - validationCount;
  if (trainCount <= 0 || validationCount <= 0) {
    throw new RangeError(`Cannot split ${n} rows with a validation fraction of ${validationFraction}.`);
  }
  const order = seededPermutation(n, seed);
  return { validation: order.slice(0, validationCount), train: order.slice(validationCount) };
}

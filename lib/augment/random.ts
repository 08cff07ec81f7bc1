/**
 * The random numbers of the augmentation: NumPy's legacy global generator (`np.random.seed(s)`,
 * then `np.random.uniform`, `np.random.choice`, `np.random.permutation`), so that a seed gives
 * exactly the parameters and the shuffles Keras' ImageDataGenerator draws after `np.random.seed(s)`.
 */
import { MersenneTwister, type TwisterState } from '../data/split';

/** The largest seed NumPy's `np.random.seed` accepts. */
const MAX_SEED = 0xffffffff;

/** NumPy's `RandomState(seed)`: the same doubles, bounded integers and permutations for the same seed. */
export class NumpyRandom {
  private readonly twister: MersenneTwister;

  constructor(seed: number) {
    this.twister = new MersenneTwister(checkSeed(seed));
  }

  /** `random_sample()`: a double in [0, 1) with 53 random bits, built from two 32-bit outputs as NumPy does. */
  readonly random = (): number => {
    const high = this.twister.nextUint32() >>> 5;
    const low = this.twister.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  };

  /** `random_sample(out.length)` into `out`: the doubles `random()` would give one after another. */
  randomInto(out: Float64Array): void {
    this.twister.fillRandomSample(out);
  }

  /** The stream's position, to come back to with restore (NumPy's `get_state`). */
  snapshot(): TwisterState {
    return this.twister.snapshot();
  }

  /** Comes back to a position snapshot() took (NumPy's `set_state`). */
  restore(saved: TwisterState): void {
    this.twister.restore(saved);
  }

  /** `uniform(low, high)`, with NumPy's rounding order (low + range * u). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** `randint(0, n)` (so also `choice(n)`): masked rejection on 32-bit outputs, which a double-based draw would not reproduce. */
  integerBelow(n: number): number {
    return this.twister.nextInterval(n - 1);
  }

  /** `permutation(n)`: Fisher-Yates from the end, as NumPy's legacy `shuffle`. */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.twister.nextInterval(i);
      const swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    return order;
  }
}

/** A source of random draws: a NumpyRandom (Keras-exact), or any function uniform in [0, 1) (e.g. Math.random). */
export type RandomSource = NumpyRandom | (() => number);

/** A uniform draw in [low, high) from either kind of source. */
export function uniform(random: RandomSource, low: number, high: number): number {
  return typeof random === 'function' ? low + (high - low) * random() : random.uniform(low, high);
}

/** An integer in [0, n) from either kind of source. */
export function integerBelow(random: RandomSource, n: number): number {
  return typeof random === 'function' ? Math.min(n - 1, Math.floor(random() * n)) : random.integerBelow(n);
}

/** A seeded uniform [0, 1) function: NumPy's `random_sample()` after `np.random.seed(seed)`. */
export function seededRandom(seed: number): () => number {
  return new NumpyRandom(seed).random;
}

/** A seed for when none is given: like Keras without a seed, each run differs. */
export function freshSeed(): number {
  return Math.floor(Math.random() * (MAX_SEED + 1));
}

function checkSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`A seed must be an integer between 0 and ${MAX_SEED} (as np.random.seed), got ${seed}.`);
  }
  return seed;
}

import { MersenneTwister } from '../../../lib/data/split';
import { choice, floatRange, intRange, parameterSize, sampleConfig, sampleConfigs, spaceSize, uniform01, validateSpace, type SearchSpace } from '../../../lib/tuning';

const SPACE = {
  filters: choice([16, 32, 64]),
  units: intRange(32, 256, 32),
  dropout: floatRange(0.1, 0.5, { step: 0.05 }),
  learningRate: floatRange(1e-4, 1e-2, { log: true }),
  loss: choice(['categoricalCrossentropy', 'meanSquaredError']),
};

describe('search space', () => {
  it('draws the same configurations for the same seed, and others for another seed', () => {
    const a = sampleConfigs(SPACE, 20, 7);
    const b = sampleConfigs(SPACE, 20, 7);
    const c = sampleConfigs(SPACE, 20, 8);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(Object.keys(a[0])).toEqual(['filters', 'units', 'dropout', 'learningRate', 'loss']);
  });

  it('draws distinct configurations within bounds, integers on their step, floats on their grid', () => {
    const configs = sampleConfigs(SPACE, 200, 1);
    expect(new Set(configs.map((c) => JSON.stringify(c))).size).toBe(200);
    for (const config of configs) {
      expect([16, 32, 64]).toContain(config.filters);
      expect(config.units).toBeGreaterThanOrEqual(32);
      expect(config.units).toBeLessThanOrEqual(256);
      expect(config.units % 32).toBe(0);
      expect(config.dropout).toBeGreaterThanOrEqual(0.1);
      expect(config.dropout).toBeLessThanOrEqual(0.5);
      // On the grid exactly, without float noise (0.25, not 0.25000000000000006).
      expect(Number((config.dropout * 100).toFixed(6)) % 5).toBe(0);
      expect(String(config.dropout).length).toBeLessThanOrEqual(4);
      expect(config.learningRate).toBeGreaterThanOrEqual(1e-4);
      expect(config.learningRate).toBeLessThanOrEqual(1e-2);
      expect(['categoricalCrossentropy', 'meanSquaredError']).toContain(config.loss);
    }
    // Every value of a small grid shows up.
    expect(new Set(configs.map((c) => c.units)).size).toBe(8);
    expect(new Set(configs.map((c) => c.dropout)).size).toBe(9);
  });

  it('spreads a log range evenly over its decades', () => {
    const random = new MersenneTwister(3);
    const space = { lr: floatRange(1e-5, 1e-1, { log: true }) };
    const decades = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) decades[Math.floor(-Math.log10(sampleConfig(space, random).lr)) - 1]++;
    // 1000 expected in each of [1e-5, 1e-4), ..., [1e-2, 1e-1); a linear draw would put ~90 % in the last one.
    for (const count of decades) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });

  it('spreads a linear range uniformly', () => {
    const random = new MersenneTwister(5);
    const values = Array.from({ length: 4000 }, () => uniform01(random));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeCloseTo(0.5, 1);
  });

  it('counts the configurations of a discrete space and refuses to draw more', () => {
    expect(parameterSize(intRange(1, 10, 3))).toBe(4); // 1, 4, 7, 10
    expect(parameterSize(floatRange(0.1, 0.5, { step: 0.05 }))).toBe(9);
    expect(parameterSize(floatRange(0, 1))).toBe(Infinity);
    const small = { a: choice([1, 2]), b: intRange(0, 2) };
    expect(spaceSize(small)).toBe(6);
    expect(sampleConfigs(small, 6, 0)).toHaveLength(6);
    expect(() => sampleConfigs(small, 7, 0)).toThrow("L'espace de recherche ne contient que 6 configurations différentes : impossible d'en tirer 7.");
  });

  it.each<[string, SearchSpace, RegExp]>([
    ['an empty space', {}, /espace de recherche est vide/],
    ['an empty choice', { filtres: choice([]) }, /« filtres » : choice\(\) demande au moins une valeur/],
    ['a repeated choice', { perte: choice(['mse', 'mse']) }, /« perte » : la valeur "mse" apparaît deux fois/],
    ['reversed bounds', { units: intRange(256, 32, 32) }, /« units » : le minimum 256 dépasse le maximum 32/],
    ['non-integer bounds', { units: intRange(1.5, 4) }, /« units » : intRange\(\) demande des bornes entières/],
    ['a zero step', { units: intRange(1, 4, 0) }, /« units » : le pas de intRange\(\) doit être un entier positif \(reçu 0\)/],
    ['a log range from 0', { lr: floatRange(0, 0.1, { log: true }) }, /« lr » : une échelle logarithmique demande un minimum strictement positif/],
    ['a negative float step', { dropout: floatRange(0, 0.5, { step: -0.1 }) }, /« dropout » : le pas de floatRange\(\) doit être strictement positif/],
    ['log with a step', { lr: floatRange(1e-4, 1e-2, { log: true, step: 1e-3 }) }, /« lr » : un pas \(step\) et l'échelle logarithmique \(log\) ne se combinent pas/],
    ['an unknown kind', { x: { kind: 'normal' } as never }, /« x » : type inconnu « normal »/],
  ])('rejects %s with a French message', (_what, space, message) => {
    expect(() => validateSpace(space)).toThrow(message);
    expect(() => sampleConfigs(space, 1, 0)).toThrow(message);
  });
});

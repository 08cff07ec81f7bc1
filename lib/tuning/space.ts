/**
 * A declared hyperparameter search space (what Keras Tuner's `hp.Choice`, `hp.Int` and `hp.Float`
 * declare), checked up front and sampled with a seeded Mersenne Twister so a search is repeatable.
 */
import { MersenneTwister } from '../data/split';

/** A value a hyperparameter can take. */
export type ParameterValue = string | number | boolean;

/** One of a fixed list of values (Keras Tuner's `hp.Choice`). */
export interface ChoiceParameter<T extends ParameterValue = ParameterValue> {
  readonly kind: 'choice';
  readonly values: readonly T[];
}

/** An integer between `min` and `max` inclusive, on the grid min, min + step, ... (`hp.Int`). */
export interface IntRangeParameter {
  readonly kind: 'int';
  readonly min: number;
  readonly max: number;
  readonly step: number;
}

/** A real number between `min` and `max`, uniform or log-uniform, optionally on a grid (`hp.Float`). */
export interface FloatRangeParameter {
  readonly kind: 'float';
  readonly min: number;
  readonly max: number;
  /** Log-uniform: as many draws between 1e-4 and 1e-3 as between 1e-3 and 1e-2. */
  readonly log: boolean;
  /** Grid step (linear ranges only); none means any real number. */
  readonly step?: number;
}

/** Any hyperparameter declaration. */
export type Parameter = ChoiceParameter | IntRangeParameter | FloatRangeParameter;

/** A search space: one declaration per hyperparameter name, sampled in declaration order. */
export type SearchSpace = Readonly<Record<string, Parameter>>;

/** The value type a declaration produces. */
export type ValueOf<P extends Parameter> = P extends ChoiceParameter<infer T> ? T : number;

/** One point of a space: a value for each of its hyperparameters. */
export type ConfigOf<S extends SearchSpace> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Declares a choice among `values` (kept in the given order). */
export function choice<const T extends ParameterValue>(values: readonly T[]): ChoiceParameter<T> {
  return { kind: 'choice', values: [...values] };
}

/** Declares an integer range [min, max] with a step (default 1). */
export function intRange(min: number, max: number, step = 1): IntRangeParameter {
  return { kind: 'int', min, max, step };
}

/** Declares a real range [min, max]; `log: true` samples the exponent uniformly (learning rates). */
export function floatRange(min: number, max: number, options: { log?: boolean; step?: number } = {}): FloatRangeParameter {
  return options.step === undefined ? { kind: 'float', min, max, log: options.log === true } : { kind: 'float', min, max, log: options.log === true, step: options.step };
}

// A grid of (max - min) / step points computed in floating point can land a hair under an integer.
const GRID_TOLERANCE = 1e-9;

function gridSize(min: number, max: number, step: number): number {
  return Math.floor((max - min) / step + GRID_TOLERANCE) + 1;
}

/** Rounds away the float noise of min + k * step (0.1 + 3 * 0.05 = 0.25000000000000006). */
function onGrid(min: number, step: number, k: number): number {
  return Number((min + k * step).toPrecision(12));
}

function checkParameter(name: string, parameter: Parameter): void {
  const where = `Hyperparamètre « ${name} »`;
  if (!parameter || typeof parameter !== 'object') throw new Error(`${where} : déclaration absente (utilisez choice, intRange ou floatRange).`);
  switch (parameter.kind) {
    case 'choice': {
      if (!Array.isArray(parameter.values) || parameter.values.length === 0) throw new Error(`${where} : choice() demande au moins une valeur.`);
      const seen = new Set<ParameterValue>();
      for (const value of parameter.values) {
        if (!['string', 'number', 'boolean'].includes(typeof value)) throw new Error(`${where} : la valeur ${String(value)} n'est ni un texte, ni un nombre, ni un booléen.`);
        if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`${where} : la valeur ${value} n'est pas un nombre fini.`);
        if (seen.has(value)) throw new Error(`${where} : la valeur ${JSON.stringify(value)} apparaît deux fois dans choice().`);
        seen.add(value);
      }
      return;
    }
    case 'int': {
      const { min, max, step } = parameter;
      if (!Number.isInteger(min) || !Number.isInteger(max)) throw new Error(`${where} : intRange() demande des bornes entières (reçu ${min} et ${max}).`);
      if (min > max) throw new Error(`${where} : le minimum ${min} dépasse le maximum ${max}.`);
      if (!Number.isInteger(step) || step < 1) throw new Error(`${where} : le pas de intRange() doit être un entier positif (reçu ${step}).`);
      return;
    }
    case 'float': {
      const { min, max, log, step } = parameter;
      if (!Number.isFinite(min) || !Number.isFinite(max)) throw new Error(`${where} : floatRange() demande des bornes finies (reçu ${min} et ${max}).`);
      if (min > max) throw new Error(`${where} : le minimum ${min} dépasse le maximum ${max}.`);
      if (log && min <= 0) throw new Error(`${where} : une échelle logarithmique demande un minimum strictement positif (reçu ${min}).`);
      if (step !== undefined) {
        if (log) throw new Error(`${where} : un pas (step) et l'échelle logarithmique (log) ne se combinent pas ; choisissez l'un ou l'autre.`);
        if (!(Number.isFinite(step) && step > 0)) throw new Error(`${where} : le pas de floatRange() doit être strictement positif (reçu ${step}).`);
      }
      return;
    }
    default:
      throw new Error(`${where} : type inconnu « ${(parameter as { kind?: unknown }).kind} » (utilisez choice, intRange ou floatRange).`);
  }
}

/** Checks every declaration of a space; throws a French error naming the faulty hyperparameter. */
export function validateSpace(space: SearchSpace): void {
  if (!space || typeof space !== 'object' || Object.keys(space).length === 0) {
    throw new Error("L'espace de recherche est vide : déclarez au moins un hyperparamètre.");
  }
  for (const [name, parameter] of Object.entries(space)) checkParameter(name, parameter);
}

/** How many values a declaration can take (Infinity for a continuous range). */
export function parameterSize(parameter: Parameter): number {
  switch (parameter.kind) {
    case 'choice':
      return parameter.values.length;
    case 'int':
      return gridSize(parameter.min, parameter.max, parameter.step);
    case 'float':
      if (parameter.min === parameter.max) return 1;
      return parameter.step === undefined ? Infinity : gridSize(parameter.min, parameter.max, parameter.step);
  }
}

/** How many distinct configurations a space holds (Infinity as soon as one range is continuous). */
export function spaceSize(space: SearchSpace): number {
  validateSpace(space);
  return Object.values(space).reduce((total, parameter) => total * parameterSize(parameter), 1);
}

/** A uniform real in [0, 1) with 53 random bits, as NumPy's `random_sample` draws it. */
export function uniform01(random: MersenneTwister): number {
  const high = random.nextUint32() >>> 5;
  const low = random.nextUint32() >>> 6;
  return (high * 67108864 + low) / 9007199254740992;
}

/** Draws one value of a declaration. */
export function sampleParameter(parameter: Parameter, random: MersenneTwister): ParameterValue {
  switch (parameter.kind) {
    case 'choice':
      return parameter.values[random.nextInterval(parameter.values.length - 1)];
    case 'int':
      return parameter.min + parameter.step * random.nextInterval(gridSize(parameter.min, parameter.max, parameter.step) - 1);
    case 'float': {
      const { min, max, log, step } = parameter;
      if (step !== undefined) return onGrid(min, step, random.nextInterval(gridSize(min, max, step) - 1));
      const u = uniform01(random);
      // Clamped: exp(log(max)) can come back a hair above max.
      const value = log ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
      return Math.min(max, Math.max(min, value));
    }
  }
}

/** Draws one configuration, hyperparameters in declaration order. */
export function sampleConfig<S extends SearchSpace>(space: S, random: MersenneTwister): ConfigOf<S> {
  const config: Record<string, ParameterValue> = {};
  for (const [name, parameter] of Object.entries(space)) config[name] = sampleParameter(parameter, random);
  return config as ConfigOf<S>;
}

/** A stable text key of a configuration (to recognise one already drawn). */
export function configKey(config: Readonly<Record<string, ParameterValue>>): string {
  return JSON.stringify(Object.keys(config).map((name) => [name, config[name]]));
}

/** `count` distinct configurations drawn with `seed` (same seed, same list); a repeat is drawn again, as Keras Tuner does. */
export function sampleConfigs<S extends SearchSpace>(space: S, count: number, seed: number): ConfigOf<S>[] {
  validateSpace(space);
  if (!Number.isInteger(count) || count < 1) throw new Error(`Le nombre de configurations à tirer doit être un entier positif (reçu ${count}).`);
  const size = spaceSize(space);
  if (count > size) {
    throw new Error(`L'espace de recherche ne contient que ${size} configuration${size > 1 ? 's' : ''} différente${size > 1 ? 's' : ''} : impossible d'en tirer ${count}.`);
  }
  const random = new MersenneTwister(seed);
  const configs: ConfigOf<S>[] = [];
  const seen = new Set<string>();
  // Generous for any space that passed the size check; only a near-exhaustive draw gets close.
  const maxDraws = 1000 * count + 10000;
  for (let draws = 0; configs.length < count; draws++) {
    if (draws >= maxDraws) throw new Error(`Impossible de tirer ${count} configurations différentes après ${maxDraws} tirages : élargissez l'espace ou demandez moins d'essais.`);
    const config = sampleConfig(space, random);
    const key = configKey(config);
    if (seen.has(key)) continue;
    seen.add(key);
    configs.push(config);
  }
  return configs;
}

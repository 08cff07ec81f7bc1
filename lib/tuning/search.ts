/**
 * Search algorithms over a declared space: random search (Keras Tuner's `RandomSearch`) and
 * successive halving (the bracket Keras Tuner's `Hyperband` repeats). Both only call an
 * objective `(config, epochs) → score`, so they are tested with a fake objective, no training.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { type ConfigOf, type ParameterValue, type SearchSpace, sampleConfigs, validateSpace } from './space';

/** What an objective reports for one configuration trained `epochs` epochs. */
export interface TrialOutcome {
  /** What the search maximises: the validation accuracy. */
  score: number;
  /** Validation loss (breaks ties between equal scores). */
  loss: number;
  /** Wall time of this evaluation, in seconds. */
  seconds: number;
  /** The trained model, if the objective keeps one (the search disposes the ones it drops). */
  model?: tfTypes.LayersModel;
}

/** Where a call of the objective stands in the search. */
export interface TrialContext<C> {
  /** 1-based number of this evaluation. */
  index: number;
  /** Evaluations the search will run in all. */
  total: number;
  /** The same configuration's result at the previous rung (successive halving), to resume its training. */
  previous?: Trial<C>;
}

/** Trains (or fakes training) one configuration for `epochs` epochs and reports its validation score. */
export type Objective<C> = (config: C, epochs: number, context: TrialContext<C>) => TrialOutcome | Promise<TrialOutcome>;

/** One evaluation of a configuration. */
export interface Trial<C> extends TrialOutcome {
  /** 1-based number of this evaluation, in run order. */
  index: number;
  /** Evaluations the search runs in all. */
  total: number;
  /** 1-based number of the configuration (successive halving evaluates one several times). */
  candidate: number;
  /** 1-based rung (always 1 in a random search). */
  rung: number;
  /** Rungs of the search (1 for a random search). */
  rungs: number;
  /** Epochs the configuration has been trained for in all. */
  epochs: number;
  config: C;
}

/** One rung of successive halving: its budget and the evaluations run at it. */
export interface Rung<C> {
  epochs: number;
  trials: Trial<C>[];
}

/** What a search returns. */
export interface SearchResult<C> {
  method: 'random' | 'halving';
  /** Every evaluation, in run order. */
  trials: Trial<C>[];
  /** Each configuration's last evaluation, best first (furthest rung first, then score). */
  ranking: Trial<C>[];
  /** The winner; the only trial that still holds a model, when the objective returns models. */
  best: Trial<C>;
  rungs: Rung<C>[];
}

/** Called after each evaluation (the default prints `trialLine`). */
export type TrialListener<C> = (trial: Trial<C>) => void;

/** French names of the tunable CNN's hyperparameters, for progress lines and tables. */
export const PARAMETER_LABELS: Readonly<Record<string, string>> = {
  filters: 'filtres',
  units: 'neurones',
  dropout: 'dropout',
  learningRate: 'lr',
  loss: 'perte',
};

/** A hyperparameter value for people: 0.25, 0.0010, 128, categoricalCrossentropy. */
export function formatParameterValue(value: ParameterValue): string {
  if (typeof value !== 'number' || Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  // Two significant digits below 0.1 keep a learning rate readable (0.0010, 0.00035).
  return Math.abs(value) >= 0.1 ? value.toFixed(2) : value.toPrecision(2);
}

/** "filtres=32, neurones=128, ..." with the labels given (default PARAMETER_LABELS). */
export function formatConfig(config: object, labels: Readonly<Record<string, string>> = PARAMETER_LABELS): string {
  return Object.entries(config)
    .map(([name, value]) => `${labels[name] ?? name}=${formatParameterValue(value as ParameterValue)}`)
    .join(', ');
}

/** The one French line printed per evaluation. */
export function trialLine<C extends object>(trial: Trial<C>, labels: Readonly<Record<string, string>> = PARAMETER_LABELS): string {
  const rung = trial.rungs > 1 ? ` (palier ${trial.rung}/${trial.rungs}, ${trial.epochs} époque${trial.epochs > 1 ? 's' : ''})` : '';
  return (
    `Essai ${trial.index}/${trial.total}${rung} : ${formatConfig(trial.config, labels)} → ` +
    `précision validation ${trial.score.toFixed(4)} (${trial.seconds.toFixed(1)} s)`
  );
}

/** Sorts best first: higher score, then lower loss, then earlier. NaN scores (diverged runs) come last. */
export function compareTrials<C>(a: Trial<C>, b: Trial<C>): number {
  const score = (t: Trial<C>) => (Number.isNaN(t.score) ? -Infinity : t.score);
  const loss = (t: Trial<C>) => (Number.isNaN(t.loss) ? Infinity : t.loss);
  return score(b) - score(a) || loss(a) - loss(b) || a.index - b.index;
}

function checkInteger(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} doit être un entier supérieur ou égal à ${min} (reçu ${value}).`);
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`La graine (seed) doit être un entier entre 0 et 2^32 - 1 (reçu ${seed}).`);
}

function checkOutcome(outcome: TrialOutcome, index: number): void {
  if (!outcome || typeof outcome.score !== 'number' || typeof outcome.loss !== 'number' || typeof outcome.seconds !== 'number') {
    throw new Error(`L'objectif de l'essai ${index} doit renvoyer { score, loss, seconds } (des nombres).`);
  }
}

function dispose(model: tfTypes.LayersModel | undefined, keep?: tfTypes.LayersModel): void {
  if (model && model !== keep && typeof model.dispose === 'function') model.dispose();
}

const printTrial: TrialListener<object> = (trial) => console.log(trialLine(trial));

/** Options of `randomSearch`. */
export interface RandomSearchOptions<C> {
  /** How many configurations to try. */
  trials: number;
  /** Seed of the draws: same seed, same configurations. */
  seed: number;
  /** Epochs each configuration trains (default 1). */
  epochs?: number;
  /** Called after each evaluation (default: prints one French line). */
  onTrial?: TrialListener<C>;
}

/** Tries `trials` distinct random configurations of `space` for `epochs` epochs each; keeps the best one's model. */
export async function randomSearch<S extends SearchSpace>(space: S, objective: Objective<ConfigOf<S>>, options: RandomSearchOptions<ConfigOf<S>>): Promise<SearchResult<ConfigOf<S>>> {
  validateSpace(space);
  checkInteger(options.trials, "Le nombre d'essais (trials)", 1);
  checkSeed(options.seed);
  const epochs = options.epochs ?? 1;
  checkInteger(epochs, "Le nombre d'époques (epochs)", 1);
  const onTrial = options.onTrial ?? printTrial;
  const configs = sampleConfigs(space, options.trials, options.seed);
  const trials: Trial<ConfigOf<S>>[] = [];
  let best: Trial<ConfigOf<S>> | undefined;
  for (const [i, config] of configs.entries()) {
    const index = i + 1;
    const outcome = await objective(config, epochs, { index, total: configs.length });
    checkOutcome(outcome, index);
    const trial: Trial<ConfigOf<S>> = { ...outcome, index, total: configs.length, candidate: index, rung: 1, rungs: 1, epochs, config };
    trials.push(trial);
    // Only the leader's model is kept: a long search would otherwise hold every trained network.
    if (!best || compareTrials(trial, best) < 0) {
      if (best) {
        dispose(best.model, trial.model);
        best.model = undefined;
      }
      best = trial;
    } else {
      dispose(trial.model, best.model);
      trial.model = undefined;
    }
    onTrial(trial);
  }
  const ranking = [...trials].sort(compareTrials);
  return { method: 'random', trials, ranking, best: ranking[0], rungs: [{ epochs, trials: [...trials] }] };
}

/** Epochs of each rung, from the top (maxEpochs, maxEpochs / eta, ... rounded, not below minEpochs): 1, 3, 9 for 1, 9, 3. */
export function halvingBudgets(minEpochs: number, maxEpochs: number, eta = 3): number[] {
  checkInteger(minEpochs, 'Le budget minimal (minEpochs)', 1);
  checkInteger(maxEpochs, 'Le budget maximal (maxEpochs)', minEpochs);
  if (!(typeof eta === 'number' && eta > 1 && Number.isFinite(eta))) throw new Error(`Le facteur de réduction eta doit être un nombre strictement supérieur à 1 (reçu ${eta}).`);
  let rungs = 1;
  // The small tolerance keeps 1 * 3^2 <= 9 true despite floating point.
  while (minEpochs * eta ** rungs <= maxEpochs * (1 + 1e-9)) rungs++;
  const budgets: number[] = [];
  for (let r = rungs - 1; r >= 0; r--) {
    const budget = Math.max(minEpochs, Math.round(maxEpochs / eta ** r));
    if (budgets.length === 0 || budget > budgets[budgets.length - 1]) budgets.push(budget);
  }
  return budgets;
}

/** How many configurations each rung evaluates: candidates, then the best 1/eta of the previous rung (at least 1). */
export function halvingCounts(candidates: number, rungs: number, eta = 3): number[] {
  const counts = [candidates];
  while (counts.length < rungs) counts.push(Math.max(1, Math.floor(counts[counts.length - 1] / eta)));
  return counts;
}

/** Options of `successiveHalving`. */
export interface SuccessiveHalvingOptions<C> {
  /** Configurations drawn for the first rung. */
  candidates: number;
  /** Epochs of the first rung. */
  minEpochs: number;
  /** Epochs of the last rung. */
  maxEpochs: number;
  /** Keep the best 1/eta at each rung and multiply the budget by eta (default 3, as Keras Tuner). */
  eta?: number;
  /** Seed of the draws. */
  seed: number;
  /** Called after each evaluation (default: prints one French line). */
  onTrial?: TrialListener<C>;
}

/** Successive halving: all candidates train minEpochs, the best 1/eta go on with eta times more, up to maxEpochs. */
export async function successiveHalving<S extends SearchSpace>(space: S, objective: Objective<ConfigOf<S>>, options: SuccessiveHalvingOptions<ConfigOf<S>>): Promise<SearchResult<ConfigOf<S>>> {
  validateSpace(space);
  checkInteger(options.candidates, 'Le nombre de candidats (candidates)', 1);
  checkSeed(options.seed);
  const eta = options.eta ?? 3;
  const budgets = halvingBudgets(options.minEpochs, options.maxEpochs, eta);
  const counts = halvingCounts(options.candidates, budgets.length, eta);
  const total = counts.reduce((a, b) => a + b, 0);
  const onTrial = options.onTrial ?? printTrial;
  const configs = sampleConfigs(space, options.candidates, options.seed);

  const trials: Trial<ConfigOf<S>>[] = [];
  const rungs: Rung<ConfigOf<S>>[] = [];
  // Each surviving candidate's latest trial, in candidate order for the next rung.
  let survivors: { candidate: number; previous?: Trial<ConfigOf<S>> }[] = configs.map((_, i) => ({ candidate: i + 1 }));
  for (const [r, epochs] of budgets.entries()) {
    const rung: Rung<ConfigOf<S>> = { epochs, trials: [] };
    for (const { candidate, previous } of survivors) {
      const index = trials.length + 1;
      const config = configs[candidate - 1];
      // A survivor gets its previous trial, so the objective can resume that model rather than start over.
      const outcome = await objective(config, epochs, { index, total, previous });
      checkOutcome(outcome, index);
      if (previous) {
        // The model now belongs to this trial (resumed) or was replaced (retrained from scratch).
        dispose(previous.model, outcome.model);
        previous.model = undefined;
      }
      const trial: Trial<ConfigOf<S>> = { ...outcome, index, total, candidate, rung: r + 1, rungs: budgets.length, epochs, config };
      trials.push(trial);
      rung.trials.push(trial);
      onTrial(trial);
    }
    rungs.push(rung);
    const ranked = [...rung.trials].sort(compareTrials);
    const keep = r + 1 < budgets.length ? counts[r + 1] : 1;
    for (const dropped of ranked.slice(keep)) {
      dispose(dropped.model);
      dropped.model = undefined;
    }
    survivors = ranked
      .slice(0, keep)
      .sort((a, b) => a.candidate - b.candidate)
      .map((trial) => ({ candidate: trial.candidate, previous: trial }));
  }
  // A candidate's standing is its last trial: reaching a later rung beats any score at an earlier one.
  const last = new Map<number, Trial<ConfigOf<S>>>();
  for (const trial of trials) last.set(trial.candidate, trial);
  const ranking = [...last.values()].sort((a, b) => b.rung - a.rung || compareTrials(a, b));
  return { method: 'halving', trials, ranking, best: ranking[0], rungs };
}

import type { LayersModel } from '@tensorflow/tfjs-node';
import {
  choice,
  floatRange,
  halvingBudgets,
  halvingCounts,
  intRange,
  randomSearch,
  resultRows,
  resultsText,
  searchFigure,
  successiveHalving,
  trialLine,
  type Objective,
  type Trial,
} from '../../../lib/tuning';

const SPACE = { x: intRange(0, 100), y: floatRange(0, 1) };
type Point = { x: number; y: number };

/** A smooth score with its optimum at x = 70, y = 0.3; more epochs bring it closer to its ceiling. */
function quality(config: Point): number {
  return 1 - ((config.x - 70) / 100) ** 2 - (config.y - 0.3) ** 2;
}

function fakeObjective(calls: { config: Point; epochs: number; previous?: Trial<Point> }[] = []): Objective<Point> {
  return (config, epochs, context) => {
    calls.push({ config, epochs, previous: context.previous });
    return { score: quality(config) * (1 - 1 / (epochs + 1)), loss: 1 - quality(config), seconds: epochs };
  };
}

/** A stand-in model that only records its disposal. */
function fakeModel(): LayersModel & { disposed: number } {
  const model = { disposed: 0, dispose: () => void model.disposed++ };
  return model as unknown as LayersModel & { disposed: number };
}

const quiet = () => undefined;

describe('random search', () => {
  it('runs every trial and finds the neighbourhood of the optimum', async () => {
    const calls: { config: Point; epochs: number }[] = [];
    const result = await randomSearch(SPACE, fakeObjective(calls), { trials: 60, seed: 4, epochs: 2, onTrial: quiet });
    expect(result.method).toBe('random');
    expect(result.trials).toHaveLength(60);
    expect(result.trials.map((t) => t.index)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(calls.every((call) => call.epochs === 2)).toBe(true);
    expect(Math.abs(result.best.config.x - 70)).toBeLessThan(15);
    expect(Math.abs(result.best.config.y - 0.3)).toBeLessThan(0.15);
    expect(result.best.score).toBe(Math.max(...result.trials.map((t) => t.score)));
    // The ranking holds every trial, best first.
    expect(result.ranking).toHaveLength(60);
    for (let i = 1; i < 60; i++) expect(result.ranking[i - 1].score).toBeGreaterThanOrEqual(result.ranking[i].score);
  });

  it('is reproducible: same seed, same trials', async () => {
    const a = await randomSearch(SPACE, fakeObjective(), { trials: 5, seed: 11, onTrial: quiet });
    const b = await randomSearch(SPACE, fakeObjective(), { trials: 5, seed: 11, onTrial: quiet });
    expect(b.trials.map((t) => t.config)).toEqual(a.trials.map((t) => t.config));
  });

  it('keeps only the best model and disposes the others once', async () => {
    const models: ReturnType<typeof fakeModel>[] = [];
    const objective: Objective<Point> = (config, epochs) => {
      const model = fakeModel();
      models.push(model);
      return { score: quality(config), loss: 0, seconds: epochs, model };
    };
    const result = await randomSearch(SPACE, objective, { trials: 12, seed: 2, onTrial: quiet });
    const kept = models[result.best.index - 1];
    expect(result.best.model).toBe(kept);
    expect(kept.disposed).toBe(0);
    expect(models.filter((m) => m !== kept).every((m) => m.disposed === 1)).toBe(true);
    expect(result.trials.filter((t) => t.model !== undefined)).toEqual([result.best]);
  });

  it('prints one French line per trial by default', async () => {
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      await randomSearch(SPACE, fakeObjective(), { trials: 3, seed: 0 });
    } finally {
      log.mockRestore();
    }
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^Essai 3\/3 : x=\d+, y=[0-9.]+ → précision validation 0\.\d{4} \(1\.0 s\)$/);
  });

  it('rejects invalid options in French', async () => {
    await expect(randomSearch(SPACE, fakeObjective(), { trials: 0, seed: 1 })).rejects.toThrow("Le nombre d'essais (trials) doit être un entier supérieur ou égal à 1 (reçu 0).");
    await expect(randomSearch(SPACE, fakeObjective(), { trials: 2, seed: -1 })).rejects.toThrow(/La graine \(seed\) doit être un entier/);
    await expect(randomSearch({ x: intRange(3, 1), y: floatRange(0, 1) }, fakeObjective(), { trials: 2, seed: 1 })).rejects.toThrow(/le minimum 3 dépasse le maximum 1/);
    await expect(randomSearch(SPACE, (() => ({ score: 'bien' })) as unknown as Objective<Point>, { trials: 1, seed: 1, onTrial: quiet })).rejects.toThrow(
      "L'objectif de l'essai 1 doit renvoyer { score, loss, seconds } (des nombres).",
    );
  });
});

describe('successive halving', () => {
  it('computes the budgets from the top and the survivors per rung', () => {
    expect(halvingBudgets(1, 9, 3)).toEqual([1, 3, 9]);
    expect(halvingBudgets(1, 27, 3)).toEqual([1, 3, 9, 27]);
    expect(halvingBudgets(1, 10, 3)).toEqual([1, 3, 10]);
    expect(halvingBudgets(2, 9, 3)).toEqual([3, 9]);
    expect(halvingBudgets(1, 8, 2)).toEqual([1, 2, 4, 8]);
    expect(halvingBudgets(1, 1, 3)).toEqual([1]);
    expect(halvingCounts(9, 3, 3)).toEqual([9, 3, 1]);
    expect(halvingCounts(10, 3, 3)).toEqual([10, 3, 1]);
    expect(halvingCounts(2, 3, 3)).toEqual([2, 1, 1]);
    expect(() => halvingBudgets(3, 2, 3)).toThrow('Le budget maximal (maxEpochs) doit être un entier supérieur ou égal à 3 (reçu 2).');
    expect(() => halvingBudgets(1, 9, 1)).toThrow(/eta doit être un nombre strictement supérieur à 1/);
  });

  it('runs 9 → 3 → 1 trials at 1, 3 and 9 epochs and keeps the best', async () => {
    const calls: { config: Point; epochs: number; previous?: Trial<Point> }[] = [];
    const result = await successiveHalving(SPACE, fakeObjective(calls), { candidates: 9, minEpochs: 1, maxEpochs: 9, eta: 3, seed: 5, onTrial: quiet });
    expect(result.method).toBe('halving');
    expect(result.rungs.map((r) => [r.epochs, r.trials.length])).toEqual([[1, 9], [3, 3], [9, 1]]);
    expect(calls.map((c) => c.epochs)).toEqual([...new Array(9).fill(1), 3, 3, 3, 9]);
    expect(result.trials).toHaveLength(13);
    expect(result.trials.every((t) => t.total === 13 && t.rungs === 3)).toBe(true);

    // The survivors of each rung are its best third; the winner is the best of the 9 candidates.
    const byQuality = [...result.rungs[0].trials].sort((a, b) => quality(b.config) - quality(a.config));
    expect(result.rungs[1].trials.map((t) => t.candidate).sort()).toEqual(byQuality.slice(0, 3).map((t) => t.candidate).sort());
    expect(result.best.candidate).toBe(byQuality[0].candidate);
    expect(result.best.epochs).toBe(9);

    // Survivors get their previous rung's trial (to resume training).
    expect(calls.slice(0, 9).every((c) => c.previous === undefined)).toBe(true);
    expect(calls.slice(9, 12).every((c) => c.previous?.epochs === 1 && c.previous.config === c.config)).toBe(true);
    expect(calls[12].previous?.epochs).toBe(3);

    // Ranking: one row per candidate, furthest rung first.
    expect(result.ranking).toHaveLength(9);
    expect(result.ranking.map((t) => t.epochs)).toEqual([9, 3, 3, 1, 1, 1, 1, 1, 1]);
    expect(result.ranking[0]).toBe(result.best);
  });

  it('hands a survivor its model to resume, and disposes the dropped ones', async () => {
    const models: ReturnType<typeof fakeModel>[] = [];
    const objective: Objective<Point> = (config, epochs, context) => {
      const model = (context.previous?.model as ReturnType<typeof fakeModel>) ?? fakeModel();
      if (!context.previous) models.push(model);
      return { score: quality(config), loss: 0, seconds: epochs, model };
    };
    const result = await successiveHalving(SPACE, objective, { candidates: 9, minEpochs: 1, maxEpochs: 9, seed: 3, onTrial: quiet });
    const kept = models[result.best.candidate - 1];
    expect(result.best.model).toBe(kept);
    expect(kept.disposed).toBe(0);
    expect(models.filter((m) => m !== kept).every((m) => m.disposed === 1)).toBe(true);
    expect(result.trials.filter((t) => t.model !== undefined)).toEqual([result.best]);
  });

  it('labels its lines with the rung and the epochs', async () => {
    const lines: string[] = [];
    await successiveHalving(SPACE, fakeObjective(), { candidates: 3, minEpochs: 1, maxEpochs: 3, seed: 1, onTrial: (t) => lines.push(trialLine(t)) });
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^Essai 1\/4 \(palier 1\/2, 1 époque\) : x=/);
    expect(lines[3]).toMatch(/^Essai 4\/4 \(palier 2\/2, 3 époques\) : x=/);
  });
});

describe('progress lines and results', () => {
  const trial: Trial<{ filters: number; units: number; dropout: number; learningRate: number; loss: string }> = {
    index: 3,
    total: 8,
    candidate: 3,
    rung: 1,
    rungs: 1,
    epochs: 1,
    config: { filters: 32, units: 128, dropout: 0.25, learningRate: 0.001, loss: 'categoricalCrossentropy' },
    score: 0.87123,
    loss: 0.35,
    seconds: 12.34,
  };

  it('formats a trial as one French line', () => {
    expect(trialLine(trial)).toBe(
      'Essai 3/8 : filtres=32, neurones=128, dropout=0.25, lr=0.0010, perte=categoricalCrossentropy → précision validation 0.8712 (12.3 s)',
    );
  });

  it('tabulates the results best first with French headers', async () => {
    const result = await randomSearch(
      { filters: choice([16, 32, 64]), learningRate: choice([0.001]) },
      (config) => ({ score: config.filters / 100, loss: 1 - config.filters / 100, seconds: 1.5 }),
      { trials: 3, seed: 0, onTrial: quiet },
    );
    const rows = resultRows(result);
    expect(rows.map((r) => r.rank)).toEqual([1, 2, 3]);
    expect(rows.map((r) => r['param:filters'])).toEqual(['64', '32', '16']);
    const text = resultsText(result);
    const [header, , first] = text.split('\n');
    expect(header).toMatch(/^Rang\s+Essai\s+Époques\s+filtres\s+lr\s+Précision validation\s+Erreur validation\s+Durée \(s\)$/);
    expect(first).toMatch(/^\s*1\s+\d\s+1\s+64\s+0\.0010\s+0\.6400\s+0\.3600\s+1\.5$/);
    const figure = searchFigure(result);
    expect(figure.data).toHaveLength(1);
    expect(figure.layout.title?.text).toMatch(/Recherche aléatoire/);
  });

  it('sums a halving candidate’s durations and draws one line per candidate', async () => {
    const result = await successiveHalving(SPACE, fakeObjective(), { candidates: 3, minEpochs: 1, maxEpochs: 3, seed: 1, onTrial: quiet });
    const rows = resultRows(result);
    expect(rows[0].epochs).toBe(3);
    expect(rows[0].seconds).toBe(1 + 3);
    expect(resultsText(result).split('\n')[0]).toMatch(/^Rang\s+Candidat\s+Époques/);
    const figure = searchFigure(result);
    expect(figure.data).toHaveLength(3);
  });
});

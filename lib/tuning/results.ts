/** Showing a search's results (table, figure) and saving the chosen model with its configuration. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { writeFileAtomic } from '../io/atomic';
import { saveModel, type SavedModelFiles } from '../io/model';
import { barFigure, lineFigure, PALETTE, type Figure } from '../plot/figures';
import { showTable, tableText, type TableColumn, type TableValue } from '../plot/table';
import { formatParameterValue, PARAMETER_LABELS, type SearchResult } from './search';
import type { ParameterValue } from './space';

/** One row of the results table; hyperparameters are under `param:<name>`. */
export type ResultRow = Record<string, TableValue>;

/** The results table's rows, best first: one per configuration (its last evaluation), durations summed over its evaluations. */
export function resultRows<C extends object>(result: SearchResult<C>): ResultRow[] {
  return result.ranking.map((trial, i) => {
    const row: ResultRow = { rank: i + 1, candidate: trial.candidate, epochs: trial.epochs };
    for (const [name, value] of Object.entries(trial.config)) row[`param:${name}`] = formatParameterValue(value as ParameterValue);
    row.score = trial.score;
    row.loss = trial.loss;
    row.seconds = result.trials.filter((t) => t.candidate === trial.candidate).reduce((sum, t) => sum + t.seconds, 0);
    return row;
  });
}

/** The table's columns with French headers (hyperparameters named with `labels`). */
export function resultColumns<C extends object>(result: SearchResult<C>, labels: Readonly<Record<string, string>> = PARAMETER_LABELS): TableColumn<ResultRow>[] {
  const names = result.ranking.length > 0 ? Object.keys(result.ranking[0].config) : [];
  return [
    { key: 'rank', header: 'Rang' },
    { key: 'candidate', header: result.method === 'halving' ? 'Candidat' : 'Essai' },
    { key: 'epochs', header: 'Époques' },
    ...names.map((name) => ({ key: `param:${name}`, header: labels[name] ?? name })),
    { key: 'score', header: 'Précision validation', decimals: 4 },
    { key: 'loss', header: 'Erreur validation', decimals: 4 },
    { key: 'seconds', header: 'Durée (s)', decimals: 1 },
  ];
}

/** The results table as aligned text (what `showResults` prints outside a notebook). */
export function resultsText<C extends object>(result: SearchResult<C>, labels?: Readonly<Record<string, string>>): string {
  return tableText(resultRows(result), resultColumns(result, labels));
}

/** Shows the results table, best first (HTML in a notebook, text in a terminal). */
export function showResults<C extends object>(result: SearchResult<C>, labels?: Readonly<Record<string, string>>): void {
  showTable(resultRows(result), resultColumns(result, labels));
}

/** Validation accuracy per evaluation: bars per trial (best in orange), or for halving one line per candidate across its rungs. */
export function searchFigure<C extends object>(result: SearchResult<C>, title?: string): Figure {
  if (result.method === 'halving') {
    const candidates = [...new Set(result.trials.map((t) => t.candidate))].sort((a, b) => a - b);
    return lineFigure({
      title: title ?? 'Divisions successives : précision de validation par palier',
      xTitle: "Époques d'apprentissage",
      yTitle: 'Précision (validation)',
      markers: true,
      series: candidates.map((candidate) => {
        const own = result.trials.filter((t) => t.candidate === candidate);
        return { name: `Candidat ${candidate}`, x: own.map((t) => t.epochs), y: own.map((t) => t.score) };
      }),
    });
  }
  return barFigure({
    title: title ?? 'Recherche aléatoire : précision de validation par essai',
    categories: result.trials.map((t) => `Essai ${t.index}`),
    series: [{ name: 'Précision (validation)', values: result.trials.map((t) => t.score), color: result.trials.map((t) => (t === result.best ? PALETTE[1] : PALETTE[0])) }],
    yTitle: 'Précision (validation)',
    valueLabels: (value) => value.toFixed(3),
  });
}

/** File name of the configuration saved next to the model. */
export const CONFIG_JSON = 'configuration.json';

/** What `saveTunedModel` wrote. */
export interface SavedTunedModel extends SavedModelFiles {
  readonly configPath: string;
}

/** The configuration file's content. */
export interface TunedModelDescription<C = Record<string, ParameterValue>> {
  configuration: C;
  savedAt: string;
  [detail: string]: unknown;
}

/** Saves a model in `dir` with `saveModel`, then its configuration and `details` as configuration.json, atomically. */
export async function saveTunedModel<C extends object>(model: tfTypes.LayersModel, configuration: C, dir: string, details: Record<string, unknown> = {}): Promise<SavedTunedModel> {
  if (!model) throw new Error("Aucun modèle à sauvegarder (l'objectif de la recherche ne renvoie pas de modèle ?).");
  const files = await saveModel(model, dir);
  const configPath = join(dir, CONFIG_JSON);
  const description = { configuration, ...details, savedAt: new Date().toISOString() };
  writeFileAtomic(configPath, `${JSON.stringify(description, null, 2)}\n`);
  return { ...files, configPath };
}

/** Reads the configuration.json that `saveTunedModel` wrote in `dir`. */
export function loadTunedConfiguration<C = Record<string, ParameterValue>>(dir: string): TunedModelDescription<C> {
  const configPath = join(dir, CONFIG_JSON);
  if (!existsSync(configPath)) throw new Error(`${configPath} introuvable : aucune configuration sauvegardée dans ce dossier.`);
  let description: TunedModelDescription<C>;
  try {
    description = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (error) {
    throw new Error(`${configPath} n'est pas un JSON valide : ${(error as Error).message}.`);
  }
  if (!description || typeof description.configuration !== 'object' || description.configuration === null) {
    throw new Error(`${configPath} ne contient pas de champ « configuration ».`);
  }
  return description;
}


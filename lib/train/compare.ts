/**
 * Comparing trained models as the course's slides do: one row per model with its epochs, test
 * accuracy, test loss and training time, shown as a French table.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { showTable, type TableColumn } from '../plot/table';
import { evaluate, kerasHistory, progressDisplay, type TrainingHistory } from './index';

/** One model's results in a comparison. */
export interface ComparisonRow {
  /** The name shown in the table. */
  model: string;
  /** Epochs actually run (fewer than asked when early stopping stopped the training). */
  epochs: number;
  /** Epoch whose weights the model kept, 1-based as printed; only when early stopping restored them. */
  bestEpoch?: number;
  testAccuracy: number;
  testLoss: number;
  /** Wall time of `fit` alone, in seconds (evaluation excluded). */
  seconds: number;
  /** The per-epoch metrics, for the training curves. */
  history: TrainingHistory;
}

/** What a comparison reads from an early-stopping callback, if the training used one. */
export interface RestoredEpochSource {
  readonly restoredEpoch?: number | undefined;
}

/**
 * Times a training the notebook writes itself (`() => model.fit(...)`), then evaluates the model
 * on the test set: the fit call stays visible where the student reads it.
 */
export async function measureTraining(
  name: string,
  model: tfTypes.LayersModel,
  fit: () => Promise<tfTypes.History>,
  test: [tfTypes.Tensor, tfTypes.Tensor],
  earlyStopping?: RestoredEpochSource,
): Promise<ComparisonRow> {
  const started = performance.now();
  const fitted = await fit();
  const seconds = (performance.now() - started) / 1000;
  const { loss, accuracy } = await evaluate(model, test[0], test[1]);
  const restored = earlyStopping?.restoredEpoch;
  return {
    model: name,
    epochs: fitted.epoch.length,
    ...(restored !== undefined && restored !== null ? { bestEpoch: restored + 1 } : {}),
    testAccuracy: accuracy,
    testLoss: loss,
    seconds,
    history: { ...kerasHistory(fitted), epochSeconds: [] },
  };
}

/** A model to train in `compareModels`: its name, the compiled model, and its fit settings. */
export interface ComparedModel {
  name: string;
  model: tfTypes.LayersModel;
  epochs: number;
  batchSize: number;
  /** Extra callbacks, e.g. an `earlyStopping(...)`; the first one with `restoredEpoch` fills the best-epoch column. */
  callbacks?: tfTypes.CustomCallback[];
}

/** Data shared by every model of a comparison. */
export interface ComparisonData {
  xs: tfTypes.Tensor;
  ys: tfTypes.Tensor;
  validationData?: [tfTypes.Tensor, tfTypes.Tensor];
  test: [tfTypes.Tensor, tfTypes.Tensor];
}

/** Trains each model in turn (Keras-like progress unless `verbose: false`) and returns one row per model. */
export async function compareModels(models: readonly ComparedModel[], data: ComparisonData, options: { verbose?: boolean } = {}): Promise<ComparisonRow[]> {
  const verbose = options.verbose !== false;
  const rows: ComparisonRow[] = [];
  for (const entry of models) {
    if (verbose) console.log(`— ${entry.name} —`);
    const callbacks = [...(entry.callbacks ?? []), ...(verbose ? [progressDisplay()] : [])];
    const stopper = (entry.callbacks ?? []).find((callback) => 'restoredEpoch' in callback) as RestoredEpochSource | undefined;
    const fit = () =>
      entry.model.fit(data.xs, data.ys, { epochs: entry.epochs, batchSize: entry.batchSize, validationData: data.validationData, shuffle: true, callbacks, verbose: 0 });
    rows.push(await measureTraining(entry.name, entry.model, fit, data.test, stopper));
  }
  return rows;
}

/** The table's columns, in French; « Meilleure époque » only when some row has one. */
export function comparisonColumns(rows: readonly ComparisonRow[]): TableColumn<ComparisonRow>[] {
  return [
    { key: 'model', header: 'Modèle' },
    { key: 'epochs', header: 'Époques' },
    ...(rows.some((row) => row.bestEpoch !== undefined) ? [{ key: 'bestEpoch' as const, header: 'Meilleure époque' }] : []),
    { key: 'testAccuracy', header: 'Précision test', decimals: 4 },
    { key: 'testLoss', header: 'Erreur test', decimals: 4 },
    { key: 'seconds', header: "Temps d'apprentissage (s)", decimals: 1 },
  ];
}

/** Shows the comparison as a table (HTML in a notebook, aligned text on the console). */
export function showComparison(rows: readonly ComparisonRow[]): void {
  showTable(rows, comparisonColumns(rows));
}

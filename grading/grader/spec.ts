/**
 * The grading spec: which notebooks a submission holds, the points of each check, the accuracy
 * bands for partial credit, and the limits (time, memory, processes, disk, output). A JSON file overrides
 * any part of the default, which fits this lab.
 */
import { readFileSync } from 'node:fs';

/** The checks the grader runs, in pipeline order. */
export const CHECK_IDS = [
  'notebooks-valid',
  'classification-runs',
  'test-model-runs',
  'model-files',
  'model-architecture',
  'test-accuracy',
  'reported-accuracy',
  'test-model-predictions',
] as const;

/** One check's id. */
export type CheckId = (typeof CHECK_IDS)[number];

/** Partial credit: at least `min` accuracy earns `fraction` of the check's points. */
export interface AccuracyBand {
  min: number;
  fraction: number;
}

/** Everything the grader needs to know about the assignment. */
export interface GradingSpec {
  /** Shown in the reports. */
  title: string;
  notebooks: { classification: string; testModel: string };
  /** The saved-model folder inside a submission. */
  modelDir: string;
  points: Record<CheckId, number>;
  accuracy: {
    /** Full points (and the check passes) from this test accuracy on. */
    pass: number;
    /** Lower bands for partial credit, best first. */
    bands: AccuracyBand[];
    /** How far the accuracy the notebook prints may be from the one the grader measures. */
    reportedTolerance: number;
  };
  timeouts: {
    /** Per code cell. */
    cellSeconds: number;
    /** Per notebook, kernel start included. */
    notebookSeconds: number;
    /** Loading and evaluating the saved model. */
    evaluateSeconds: number;
  };
  limits: {
    /** Resident memory of everything a submission runs (kernel and its children). */
    memoryMb: number;
    /** Largest weights file accepted. */
    modelMb: number;
    /** Processes and threads a submission may run at once (RLIMIT_NPROC inside its sandbox). */
    processes: number;
    /** Disk a submission may fill under its scratch folder (its private /tmp included). */
    diskMb: number;
    /** Files one process of a submission may hold open (RLIMIT_NOFILE). */
    openFiles: number;
  };
  /** What the runner keeps of a notebook's outputs; the rest is dropped as it arrives, with a French note. */
  output: {
    /** Lines of text (streams, text/plain) kept per cell. */
    cellLines: number;
    /** Bytes of output (text and data) kept per cell, in MB. */
    cellMb: number;
    /** Bytes of output kept for the whole notebook, in MB. */
    notebookMb: number;
  };
  /** Run classification on an empty model folder, so the model graded is the one the notebook makes. */
  freshModel: boolean;
}

/** The default spec for this lab: full points from 0.90 test accuracy, as the course's first CNN reaches. */
export const DEFAULT_SPEC: GradingSpec = {
  title: 'Analyse d’image : classification de Fashion-MNIST',
  notebooks: { classification: 'classification.ipynb', testModel: 'test_model.ipynb' },
  modelDir: 'modele',
  points: {
    'notebooks-valid': 1,
    'classification-runs': 3,
    'test-model-runs': 2,
    'model-files': 2,
    'model-architecture': 2,
    'test-accuracy': 8,
    'reported-accuracy': 1,
    'test-model-predictions': 1,
  },
  accuracy: {
    pass: 0.9,
    bands: [
      { min: 0.88, fraction: 0.75 },
      { min: 0.85, fraction: 0.5 },
      { min: 0.8, fraction: 0.25 },
    ],
    reportedTolerance: 0.02,
  },
  timeouts: { cellSeconds: 3600, notebookSeconds: 2 * 3600, evaluateSeconds: 300 },
  limits: { memoryMb: 6144, modelMb: 200, processes: 256, diskMb: 2048, openFiles: 1024 },
  output: { cellLines: 10_000, cellMb: 1, notebookMb: 20 },
  freshModel: true,
};

/** A spec file that cannot be used; the message names the file and the field. */
export class SpecError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge<T>(base: T, override: unknown, path: string, file: string): T {
  if (override === undefined) return base;
  if (isObject(base)) {
    if (!isObject(override)) throw new SpecError(`${file}: "${path}" doit être un objet.`);
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) {
      if (!(key in base)) throw new SpecError(`${file}: clé inconnue "${path ? `${path}.` : ''}${key}" (clés possibles : ${Object.keys(base).join(', ')}).`);
      out[key] = merge((base as Record<string, unknown>)[key], value, path ? `${path}.${key}` : key, file);
    }
    return out as T;
  }
  if (Array.isArray(base)) {
    if (!Array.isArray(override)) throw new SpecError(`${file}: "${path}" doit être une liste.`);
    return override as T;
  }
  if (typeof override !== typeof base) throw new SpecError(`${file}: "${path}" doit être de type ${typeof base}, pas ${JSON.stringify(override)}.`);
  return override as T;
}

/** Checks the values a merged spec holds; throws a SpecError naming the field. */
export function validateSpec(spec: GradingSpec, file = 'spec'): GradingSpec {
  const fail = (field: string, what: string) => {
    throw new SpecError(`${file}: "${field}" ${what}.`);
  };
  for (const id of CHECK_IDS) if (!(spec.points[id] >= 0)) fail(`points.${id}`, 'doit être un nombre positif ou nul');
  const inUnit = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;
  if (!inUnit(spec.accuracy.pass)) fail('accuracy.pass', 'doit être entre 0 et 1');
  spec.accuracy.bands.forEach((band, i) => {
    if (!isObject(band) || !inUnit(band.min) || !inUnit(band.fraction)) fail(`accuracy.bands[${i}]`, 'doit être { "min": 0..1, "fraction": 0..1 }');
    if (band.min >= spec.accuracy.pass) fail(`accuracy.bands[${i}].min`, `doit être sous accuracy.pass (${spec.accuracy.pass})`);
  });
  if (!(spec.accuracy.reportedTolerance >= 0)) fail('accuracy.reportedTolerance', 'doit être positif');
  for (const [key, value] of Object.entries(spec.timeouts)) if (!(value > 0)) fail(`timeouts.${key}`, 'doit être un nombre de secondes positif');
  for (const [key, value] of Object.entries(spec.limits)) if (!(value > 0)) fail(`limits.${key}`, key.endsWith('Mb') ? 'doit être un nombre de Mo positif' : 'doit être un nombre entier positif');
  for (const key of ['processes', 'openFiles'] as const) if (!Number.isInteger(spec.limits[key])) fail(`limits.${key}`, 'doit être un nombre entier positif');
  for (const [key, value] of Object.entries(spec.output)) if (!(value > 0)) fail(`output.${key}`, key.endsWith('Mb') ? 'doit être un nombre de Mo positif' : 'doit être un nombre entier positif');
  for (const [key, value] of Object.entries(spec.notebooks)) if (!/^[^/\\]+\.ipynb$/.test(value)) fail(`notebooks.${key}`, 'doit être un nom de fichier .ipynb');
  if (!/^[^/\\.][^/\\]*$/.test(spec.modelDir)) fail('modelDir', 'doit être un nom de dossier');
  return spec;
}

/** The default spec with `override` (an object read from JSON) applied. */
export function specFrom(override: unknown, file = 'spec'): GradingSpec {
  return validateSpec(merge(DEFAULT_SPEC, override, '', file), file);
}

/** Reads a JSON spec file over the default; errors name the file and what is wrong. */
export function loadSpec(file: string): GradingSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SpecError(`${file}: fichier de barème illisible (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SpecError(`${file}: JSON invalide (${(error as Error).message}).`);
  }
  return specFrom(json, file);
}

/** Total points of a spec. */
export function maxScore(spec: GradingSpec): number {
  return CHECK_IDS.reduce((sum, id) => sum + spec.points[id], 0);
}

/** Fraction of the accuracy check's points earned at `accuracy`. */
export function accuracyFraction(spec: GradingSpec, accuracy: number): number {
  if (accuracy >= spec.accuracy.pass) return 1;
  const band = [...spec.accuracy.bands].sort((a, b) => b.min - a.min).find((b) => accuracy >= b.min);
  return band ? band.fraction : 0;
}

/**
 * Showing figures and pictures in a tslab notebook: one display_data per figure carrying the plotly
 * JSON (interactive in JupyterLab through the plotly extension, trusted or not), a PNG (nbconvert
 * HTML, GitHub, JupyterLab without the extension) and a text line. No HTML and no plotly.js go into
 * the notebook, so a saved notebook stays small and renders offline.
 */
import { writeFileSync } from 'node:fs';
import { describe, type Figure, type HistoryLike, trainingCurvesFigures } from './figures';
import { cssSize, DEFAULT_SCALE, renderPng } from './raster';

/** What tslab's `lastWriteDisplayData` receives: a Jupyter display_data content. */
export interface DisplayContent {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

/** tslab's function that sends display_data (or update_display_data) for the running cell. */
export type DisplayWriter = (content: DisplayContent, update?: boolean) => void;

const TSLAB_JUPYTER = /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/;

/**
 * tslab's display hook, or undefined outside a tslab kernel. tslab sets `lastWriteDisplayData` at the
 * start of each execution; its public `display.raw` sends one mime type per output, which would split
 * a figure into outputs that all renderers show. Only modules already loaded are looked at: requiring
 * tslab here would load TypeScript (a second) for nothing in plain Node.
 */
export function tslabDisplayWriter(): DisplayWriter | undefined {
  const candidates: unknown[] = [];
  try {
    candidates.push(require.cache[require.resolve('tslab/dist/jupyter')]?.exports);
  } catch {
    // tslab not installed next to this library: maybe a global tslab runs the kernel.
  }
  try {
    for (const path of Object.keys(require.cache)) if (TSLAB_JUPYTER.test(path)) candidates.push(require.cache[path]?.exports);
  } catch {
    // Some module systems (bundlers) have no enumerable cache.
  }
  for (const candidate of candidates) {
    const writer = (candidate as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof writer === 'function') return writer as DisplayWriter;
  }
  return undefined;
}

function isFigure(item: Figure | Buffer): item is Figure {
  return !Buffer.isBuffer(item);
}

/** The plotly JSON as plain data (typed arrays and undefined fields would not survive the notebook's JSON). */
function plainSpec(figure: Figure): { data: unknown; layout: unknown } {
  return JSON.parse(JSON.stringify({ data: figure.data, layout: figure.layout }));
}

/** The display_data content of a figure (plotly JSON + PNG + text) or of a PNG picture (PNG + text). */
export async function mimeBundle(item: Figure | Buffer, options: { scale?: number } = {}): Promise<{ data: Record<string, unknown>; metadata: Record<string, unknown> }> {
  if (isFigure(item)) {
    const png = await renderPng(item, { scale: options.scale ?? DEFAULT_SCALE });
    const { width, height } = await cssSize(png);
    return {
      data: { 'application/vnd.plotly.v1+json': plainSpec(item), 'image/png': png.toString('base64'), 'text/plain': describe(item) },
      // The PNG has 2x the pixels for sharpness; its CSS size keeps it as large as the interactive chart.
      metadata: { 'image/png': { width, height } },
    };
  }
  const { width, height, scale } = await cssSize(item);
  return {
    data: { 'image/png': item.toString('base64'), 'text/plain': `Image (${width} x ${height})` },
    metadata: scale !== 1 ? { 'image/png': { width, height } } : {},
  };
}

/** Options of `show`. */
export interface ShowOptions {
  /** Also (or, outside a notebook, only) write the PNG to this file. */
  file?: string;
  /** Device pixels per CSS pixel of a figure's PNG (default 2). */
  scale?: number;
}

async function pngOf(item: Figure | Buffer, scale?: number): Promise<Buffer> {
  return isFigure(item) ? renderPng(item, { scale }) : item;
}

function what(item: Figure | Buffer): string {
  return isFigure(item) ? `la figure « ${item.layout.title?.text ?? 'sans titre'} »` : "l'image";
}

let lastWrite: Promise<unknown> = Promise.resolve();

async function emit(item: Figure | Buffer, writer: DisplayWriter | undefined, options: ShowOptions, display?: { id: string; update: boolean }): Promise<void> {
  if (options.file) writeFileSync(options.file, await pngOf(item, options.scale));
  if (!writer) return;
  // Pictures render in parallel but reach the notebook in the order show was called (`show(a); show(b)` without await).
  const bundle = mimeBundle(item, { scale: options.scale });
  const write = lastWrite.then(async () => writer({ ...(await bundle), transient: display ? { display_id: display.id } : {} }, display?.update ?? false));
  lastWrite = write.catch(() => undefined);
  await write;
}

/** Shows a figure or a PNG in the notebook as one output; outside tslab writes `options.file` or prints a one-line note. */
export async function show(item: Figure | Buffer, options: ShowOptions = {}): Promise<void> {
  // Taken now: the output belongs to the cell that called show, even if rendering ends later.
  const writer = tslabDisplayWriter();
  if (!writer && !options.file) {
    console.log(`(${what(item)} s'affiche dans un notebook tslab ; ici, show(…, { file: 'image.png' }) l'enregistrerait)`);
    return;
  }
  await emit(item, writer, options);
  if (!writer) console.log(`${what(item)} : ${options.file}`);
}

let liveCounter = 0;

/** A figure shown once and then redrawn in place (update_display_data), e.g. a curve after each epoch. */
export interface LiveFigure {
  /** The Jupyter display id. */
  readonly id: string;
  /** Draws `item` in place of the previous picture; updates arriving while one renders collapse into the latest. */
  update(item: Figure | Buffer): Promise<void>;
}

/** A display redrawn in place: the first `update` shows it, the next ones replace it. */
export function liveFigure(options: ShowOptions = {}): LiveFigure {
  const id = `analyse-image-${process.pid}-${Date.now().toString(36)}-${++liveCounter}`;
  let shown = false;
  let noted = false;
  let pending: { item: Figure | Buffer; writer: DisplayWriter | undefined } | undefined;
  let queue = Promise.resolve();
  return {
    id,
    update(item) {
      pending = { item, writer: tslabDisplayWriter() };
      queue = queue.then(async () => {
        if (!pending) return;
        const { item: latest, writer } = pending;
        pending = undefined;
        if (!writer && !options.file) {
          if (!noted) console.log(`(${what(latest)} s'affiche et se met à jour dans un notebook tslab)`);
          noted = true;
          return;
        }
        await emit(latest, writer, options, { id, update: shown && writer !== undefined });
        if (writer) shown = true;
      });
      return queue;
    },
  };
}

/** Keras-style metric names of one epoch, as tfjs' `onEpochEnd` logs give them. */
export type EpochLogs = Record<string, number | undefined>;

/** The two training curves ('Précision du modèle', 'Erreur'), redrawn after each epoch: call `addEpoch(logs)` from `onEpochEnd`. */
export function liveTrainingCurves(options: ShowOptions = {}): { history: Required<Pick<HistoryLike, 'loss' | 'accuracy' | 'val_loss' | 'val_accuracy'>>; addEpoch(logs: EpochLogs): Promise<void> } {
  const history = { loss: [] as number[], accuracy: [] as number[], val_loss: [] as number[], val_accuracy: [] as number[] };
  const accuracy = liveFigure(options.file ? { ...options, file: options.file.replace(/(\.png)?$/i, '-precision.png') } : options);
  const loss = liveFigure(options.file ? { ...options, file: options.file.replace(/(\.png)?$/i, '-erreur.png') } : options);
  const push = (target: number[], value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) target.push(value);
  };
  return {
    history,
    async addEpoch(logs) {
      push(history.loss, logs.loss);
      push(history.accuracy, logs.acc ?? logs.accuracy);
      push(history.val_loss, logs.val_loss);
      push(history.val_accuracy, logs.val_acc ?? logs.val_accuracy);
      const [accuracyFigure, lossFigure] = trainingCurvesFigures(history);
      await accuracy.update(accuracyFigure);
      await loss.update(lossFigure);
    },
  };
}

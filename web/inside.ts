/**
 * "Dans le réseau": the served model seen from inside. The page computes in the browser: it
 * prepares the drawing with lib/preprocess bundled for the browser (web/static/preprocess.js,
 * `npm run build:inside`) and runs the served model (GET /dans-le-reseau/modele.json, poids.bin)
 * with TensorFlow.js from node_modules (GET /static/tf.min.js), every convolution, pooling and
 * dense layer at once. The server computes the same for photos (their decoding stays sharp's), for
 * the first picture while TensorFlow.js loads, and for ?calcul=serveur: POST /api/inside takes a
 * photo or the canvas' raw pixels and answers with the layers as float32 (binary for the page,
 * base64 in JSON otherwise). README: the latencies measured for both designs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../lib/backend';
import { modelArtifacts } from '../lib/io';
import type { PreprocessedPhoto, RawImage } from '../lib/preprocess';
import { LAYER_KIND_FR, layerActivations, layerKind, modelLabels, type LayerKind, type ModelLabels } from '../lib/theory';
import { escapeHtml, layout } from './pages';

/** Name of the weights file of the model the page loads (GET /dans-le-reseau/poids.bin). */
export const BROWSER_WEIGHTS = 'poids.bin';

/** The layers the page shows: convolutions, poolings and dense layers (dropout, flatten and normalisation are left out). */
const SHOWN: readonly LayerKind[] = ['convolution', 'pooling', 'dense'];

/** A shown layer, as the page lists it before any drawing. */
export interface InsideLayerInfo {
  name: string;
  className: string;
  kind: LayerKind;
  /** Output shape without the batch. */
  shape: number[];
  activation?: string;
  /** Trainable numbers of the layer (weights and biases). */
  parameters: number;
  /** One French line: "Convolution : 32 filtres 3 x 3 (320 paramètres)". */
  description: string;
}

/** One shown layer's output for a picture. */
export interface InsideLayerOutput {
  name: string;
  kind: LayerKind;
  shape: number[];
  /** Largest and smallest value, so the page scales the layer's pictures without a pass of its own. */
  min: number;
  max: number;
  /** The values, channels last. */
  values: Float32Array;
}

/** Everything the page shows for one picture. */
export interface InsideResult {
  /** The model's 784 input values: exactly what the preprocessing gave. */
  input: Float32Array;
  layers: InsideLayerOutput[];
  probabilities: number[];
  classIndex: number;
  label: string;
  /** Server time, in ms: preparing the picture and running the model. */
  timings: { prepareMs: number; modelMs: number };
}

/** What POST /api/inside answers in JSON: the result with every float32 array as base64 of its little-endian bytes. */
export interface InsideAnswer extends Omit<InsideResult, 'input' | 'layers'> {
  input: string;
  layers: (Omit<InsideLayerOutput, 'values'> & { values: string })[];
}

/** Float32 values as base64 of their little-endian bytes (what the page decodes with a Float32Array). */
export function float32Base64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** The inverse of float32Base64. */
export function base64Float32(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

function describeLayer(layer: tfTypes.layers.Layer, kind: LayerKind, shape: number[], parameters: number): string {
  const config = layer.getConfig() as { filters?: number; kernelSize?: number | number[]; poolSize?: number | number[]; strides?: number | number[]; units?: number; activation?: string };
  const pair = (value: number | number[] | undefined) => (Array.isArray(value) ? value.join(' x ') : `${value} x ${value}`);
  const count = parameters.toLocaleString('fr-FR');
  if (kind === 'convolution') return `${LAYER_KIND_FR.convolution} : ${config.filters} filtres ${pair(config.kernelSize)}, ${shape[2]} cartes de ${shape[0]} x ${shape[1]} (${count} paramètres)`;
  if (kind === 'pooling') {
    const how = /Max/.test(layer.getClassName()) ? 'maximum' : 'moyenne';
    return `${LAYER_KIND_FR.pooling} (${how}) ${pair(config.poolSize)}, pas ${Array.isArray(config.strides) ? config.strides[0] : config.strides} : ${shape[2]} cartes de ${shape[0]} x ${shape[1]}`;
  }
  if (config.activation === 'softmax') return `Sortie (softmax) : ${config.units} probabilités (${count} paramètres)`;
  return `${LAYER_KIND_FR.dense} : ${config.units} neurones${config.activation ? `, activation ${config.activation}` : ''} (${count} paramètres)`;
}

/** The served model prepared for the page: which layers to show and the class names. */
export class InsideModel {
  /** The shown layers, in the model's order. */
  readonly layers: InsideLayerInfo[];
  /** The class names of the outputs and where they come from. */
  readonly labels: ModelLabels;

  constructor(
    readonly model: tfTypes.LayersModel,
    readonly modelDir: string,
  ) {
    this.labels = modelLabels(model, modelDir);
    this.layers = model.layers
      .filter((layer) => SHOWN.includes(layerKind(layer.getClassName())))
      .map((layer) => {
        const kind = layerKind(layer.getClassName());
        const shape = (layer.outputShape as number[]).slice(1);
        const parameters = layer.countParams();
        const activation = (layer.getConfig() as { activation?: string }).activation;
        return { name: layer.name, className: layer.getClassName(), kind, shape, ...(activation && activation !== 'linear' ? { activation } : {}), parameters, description: describeLayer(layer, kind, shape, parameters) };
      });
    // The first call builds the multi-output model and warms TensorFlow up, before any visitor waits for it.
    layerActivations(loadNativeTf(), model, new Float32Array(784));
  }

  private browserFiles?: { json: string; weights: Buffer };

  /**
   * The model as the page's TensorFlow.js loads it: modele.json in TensorFlow.js' vocabulary and one
   * weights file, `poids.bin`, serialised once from the model served (so a Keras save works too).
   */
  browserModel(): { json: string; weights: Buffer } {
    if (!this.browserFiles) {
      const artifacts = modelArtifacts(this.model);
      const json = JSON.stringify({ format: artifacts.format, modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: [BROWSER_WEIGHTS], weights: artifacts.weightSpecs }] });
      this.browserFiles = { json, weights: Buffer.from(artifacts.weightData.buffer, artifacts.weightData.byteOffset, artifacts.weightData.byteLength) };
    }
    return this.browserFiles;
  }

  /** Every shown layer's output and the probabilities for one prepared picture. */
  compute(photo: PreprocessedPhoto, prepareMs = 0): InsideResult {
    const started = performance.now();
    const all = layerActivations(loadNativeTf(), this.model, photo.input);
    const names = new Set(this.layers.map((layer) => layer.name));
    const layers = all
      .filter((layer) => names.has(layer.name))
      .map((layer) => {
        let min = Infinity;
        let max = -Infinity;
        for (const value of layer.values) (min = Math.min(min, value)), (max = Math.max(max, value));
        return { name: layer.name, kind: layer.kind, shape: layer.shape, min, max, values: layer.values };
      });
    const probabilities = Array.from(all[all.length - 1].values);
    const classIndex = probabilities.indexOf(Math.max(...probabilities));
    return {
      input: photo.input,
      layers,
      probabilities,
      classIndex,
      label: this.labels.labels[classIndex] ?? `classe ${classIndex}`,
      timings: { prepareMs, modelMs: performance.now() - started },
    };
  }
}

/** The JSON answer of POST /api/inside (float32 arrays in base64). */
export function insideJson(result: InsideResult): InsideAnswer {
  return { ...result, input: float32Base64(result.input), layers: result.layers.map((layer) => ({ ...layer, values: float32Base64(layer.values) })) };
}

/**
 * The binary answer of POST /api/inside?format=binary, what the page asks for (no base64 to decode):
 * a uint32 (little-endian) giving the length of a JSON header, the header (the JSON answer without
 * the arrays, each replaced by its `offset` and `length` in floats), zeros up to a multiple of 4
 * bytes, then the float32 values: the input, then each layer's.
 */
export function insideBinary(result: InsideResult): Buffer {
  const arrays = [result.input, ...result.layers.map((layer) => layer.values)];
  const offsets: number[] = [];
  let floats = 0;
  for (const array of arrays) (offsets.push(floats), (floats += array.length));
  const header = Buffer.from(
    JSON.stringify({
      ...result,
      input: { offset: offsets[0], length: result.input.length },
      layers: result.layers.map((layer, i) => ({ ...layer, values: { offset: offsets[i + 1], length: layer.values.length } })),
    }),
  );
  const start = Math.ceil((4 + header.length) / 4) * 4;
  const out = Buffer.alloc(start + 4 * floats);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  arrays.forEach((array, i) => Buffer.from(array.buffer, array.byteOffset, array.byteLength).copy(out, start + 4 * offsets[i]));
  return out;
}

/** Reads insideBinary's bytes back (tests, benchmarks): the header and the float32 arrays. */
export function readInsideBinary(bytes: Uint8Array): InsideResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  const header = JSON.parse(Buffer.from(bytes.subarray(4, 4 + length)).toString('utf8'));
  const start = Math.ceil((4 + length) / 4) * 4;
  const copy = new Uint8Array(bytes.byteLength - start);
  copy.set(bytes.subarray(start));
  const floats = new Float32Array(copy.buffer);
  const slice = (where: { offset: number; length: number }) => floats.slice(where.offset, where.offset + where.length);
  return { ...header, input: slice(header.input), layers: header.layers.map((layer: { values: { offset: number; length: number } }) => ({ ...layer, values: slice(layer.values) })) };
}

/** Largest drawing accepted as raw pixels (the page's is 280 x 280). */
export const MAX_RAW_SIDE = 2048;

/**
 * A drawing sent as raw RGBA pixels (`width` x `height` x 4 bytes, what a canvas' getImageData
 * gives), as the RawImage a decoded photo would be; a French error when the size does not add up.
 */
export function rawDrawing(body: Buffer, width: number, height: number): RawImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > MAX_RAW_SIDE || height > MAX_RAW_SIDE) {
    throw new RangeError(`dessin de ${width} x ${height} pixels : il faut des entiers de 1 à ${MAX_RAW_SIDE} (paramètres width et height).`);
  }
  if (body.length !== width * height * 4) throw new RangeError(`dessin de ${width} x ${height} pixels : ${width * height * 4} octets RGBA attendus, ${body.length} reçus.`);
  return { width, height, channels: 4, data: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
}

/** The served model prepared for the page, or why it cannot be shown layer by layer (a French sentence); never throws. */
export function insideModelFor(model: tfTypes.LayersModel | undefined, modelDir: string): { inside?: InsideModel; problem?: string } {
  if (!model) return {};
  try {
    return { inside: new InsideModel(model, modelDir) };
  } catch (error) {
    return { problem: `le modèle ne peut pas être montré couche par couche : ${(error as Error).message}` };
  }
}

/** One of the page's scripts of web/static/ (inside.js, preprocess.js). */
export function insideScript(file = 'inside.js'): string {
  return readFileSync(join(__dirname, 'static', file), 'utf8');
}

/** A line through points in [0, 1] coordinates of the drawing area, or the polygon they enclose, filled. */
export interface ExampleShape {
  points: [number, number][];
  fill?: boolean;
}

/** Examples the keyboard (or a click) can draw: filled garments, as Fashion-MNIST shows them; digits as strokes. */
const EXAMPLES: Record<ModelLabels['dataset'], { name: string; shapes: ExampleShape[] }[]> = {
  fashion: [
    { name: 'un pantalon', shapes: [{ points: [[0.33, 0.1], [0.67, 0.1], [0.7, 0.9], [0.56, 0.9], [0.5, 0.32], [0.44, 0.9], [0.3, 0.9]], fill: true }] },
    { name: 'un T-shirt', shapes: [{ points: [[0.36, 0.14], [0.44, 0.2], [0.56, 0.2], [0.64, 0.14], [0.9, 0.3], [0.8, 0.46], [0.7, 0.4], [0.7, 0.88], [0.3, 0.88], [0.3, 0.4], [0.2, 0.46], [0.1, 0.3]], fill: true }] },
    { name: 'un sac', shapes: [{ points: [[0.14, 0.38], [0.86, 0.38], [0.82, 0.86], [0.18, 0.86]], fill: true }, { points: [[0.34, 0.4], [0.38, 0.16], [0.62, 0.16], [0.66, 0.4]] }] },
  ],
  digits: [
    { name: 'un 1', shapes: [{ points: [[0.38, 0.25], [0.52, 0.12], [0.52, 0.88]] }] },
    { name: 'un 7', shapes: [{ points: [[0.25, 0.15], [0.75, 0.15], [0.42, 0.88]] }] },
    { name: 'un 0', shapes: [{ points: [[0.5, 0.12], [0.72, 0.25], [0.76, 0.5], [0.72, 0.75], [0.5, 0.88], [0.28, 0.75], [0.24, 0.5], [0.28, 0.25], [0.5, 0.12]] }] },
  ],
  other: [],
};

/** The "Dans le réseau" page: drawing area, photo drop, and one section per shown layer (filled by the script). */
export function insidePage(inside: InsideModel | undefined, notice: string, limits: { maxUploadMB: number; maxMegapixels: number }): string {
  const what = inside?.labels.dataset === 'digits' ? 'un chiffre' : 'un vêtement';
  const examples = inside ? EXAMPLES[inside.labels.dataset] : [];
  const config = inside
    ? {
        labels: inside.labels.labels,
        dataset: inside.labels.dataset,
        layers: inside.layers,
        examples,
        // The page computes in the browser once these are loaded (the server until then, and with ?calcul=serveur).
        browser: { tf: '/static/tf.min.js', model: '/dans-le-reseau/modele.json' },
      }
    : undefined;
  const json = JSON.stringify(config ?? null).replace(/</g, '\\u003c');
  const layerSections = (inside?.layers ?? [])
    .map((layer, i) => {
      const maps = layer.shape.length === 3;
      const output = i === (inside?.layers.length ?? 0) - 1;
      return `<section class="layer" id="layer-${i}" data-kind="${layer.kind}" aria-labelledby="layer-${i}-title">
<h3 id="layer-${i}-title">${i + 1}. ${escapeHtml(layer.description)}</h3>
${output ? `<ol id="probabilities" class="bars" aria-label="Probabilités des ${layer.shape[0]} catégories"></ol>` : `<canvas class="${maps ? 'maps' : 'neurons'}" role="img" aria-label="${escapeHtml(layer.description)}"></canvas>`}
</section>`;
    })
    .join('\n');
  return layout(
    'Dans le réseau',
    '/dans-le-reseau',
    `${notice}
<h2>Dans le réseau</h2>
<p>Dessinez ${what} dans le cadre : à chaque trait, le modèle servi par cette application
(${inside ? `<code>${escapeHtml(inside.modelDir)}</code>` : 'aucun pour l’instant'}) reçoit votre dessin, préparé exactement comme une photo
(niveaux de gris, réduit à 20 pixels, centré sur 28 x 28, inversé), et chaque couche s'affiche : les cartes des convolutions et
des poolings (noir : 0, blanc : la plus grande valeur de la couche), les neurones des couches denses, puis les probabilités.
Dessinez grand et au centre : tout le cadre devient l'image de 28 x 28, comme une photo cadrée au plus près.</p>
<div class="inside">
  <div class="draw-column">
    <div class="pad">
      <canvas id="drawing" width="280" height="280" tabindex="0" role="application" aria-roledescription="zone de dessin"
        aria-label="Zone de dessin, 280 x 280. Au clavier : flèches pour déplacer le crayon (Maj + flèche : petits pas), Espace pour le poser ou le lever, Suppr pour tout effacer."
        aria-describedby="pen-state"></canvas>
      <canvas id="cursor" width="280" height="280" aria-hidden="true"></canvas>
    </div>
    <p id="pen-state" class="hint" aria-live="polite">Souris, doigt ou stylet : dessinez. Clavier : cliquez ou tabulez dans le cadre, flèches pour bouger, Espace pour poser le crayon.</p>
    <div class="tools">
      <button type="button" id="clear">Effacer</button>
      <label>Épaisseur <select id="thickness"><option value="12">fine</option><option value="24" selected>moyenne</option><option value="40">épaisse</option></select></label>
    </div>
    ${examples.length ? `<div class="tools" role="group" aria-label="Dessiner un exemple">Exemple : ${examples.map((example, i) => `<button type="button" class="example" data-example="${i}">${escapeHtml(example.name)}</button>`).join(' ')}</div>` : ''}
    <label id="drop" class="small-drop">Ou déposez une photo ici (cliquez pour en choisir une : ${limits.maxUploadMB} Mo, ${limits.maxMegapixels} mégapixels au plus).
      <input id="file" type="file" accept="image/png,image/jpeg,image/webp,image/gif" hidden></label>
    <div class="tools"><button type="button" id="choose">Choisir une photo…</button></div>
    <figure class="input-figure"><canvas id="input" width="28" height="28" role="img" aria-label="Ce que voit le modèle, 28 x 28"></canvas>
      <figcaption>Ce que voit le modèle (28 x 28)</figcaption></figure>
    <p id="verdict"></p>
    <p id="status" role="status"></p>
    <p id="engine" class="hint"></p>
  </div>
  <div class="layers" id="layers">
${layerSections}
  </div>
</div>
<style>
.inside { display: flex; gap: 1.5rem; align-items: flex-start; flex-wrap: wrap; }
.draw-column { flex: 0 0 300px; }
.pad { position: relative; width: 280px; height: 280px; }
.pad canvas { position: absolute; left: 0; top: 0; width: 280px; height: 280px; border-radius: 4px; }
#drawing { background: white; border: 1px solid #7a8fb8; touch-action: none; cursor: crosshair; }
#drawing:focus-visible { outline: 3px solid #e69f00; outline-offset: 2px; }
#cursor { pointer-events: none; }
.hint { font-size: 0.85rem; color: #444; }
.tools { margin: 0.5rem 0; display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
button { font: inherit; padding: 0.3rem 0.8rem; }
.small-drop { padding: 0.8rem !important; font-size: 0.9rem; }
.input-figure { margin: 1rem 0 0; }
#input { width: 168px; height: 168px; image-rendering: pixelated; border: 1px solid #ccc; background: black; }
.layers { flex: 1 1 420px; min-width: 0; }
.layer h3 { font-size: 1rem; margin: 0.8rem 0 0.3rem; }
.layer canvas { image-rendering: pixelated; max-width: 100%; background: #222; }
.bars { list-style: none; padding: 0; margin: 0; }
.bars li { display: grid; grid-template-columns: 11rem 1fr 4.5rem; gap: 0.5rem; align-items: center; margin: 2px 0; }
.bars .bar { height: 14px; background: #0072B2; min-width: 1px; }
.bars li.best .bar { background: #E69F00; }
.bars li.best { font-weight: bold; }
.bars .value { text-align: right; font-variant-numeric: tabular-nums; }
</style>
<script>window.INSIDE = ${json};</script>
<script src="/static/preprocess.js"></script>
<script src="/static/inside.js"></script>`,
  );
}

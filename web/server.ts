/**
 * The web app's HTTP server (node:http): the four French pages, the JSON API
 * (`POST /api/predict`, `POST /api/inside`, `GET /api/health`), and clear 4xx answers for bad uploads.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FASHION_CLASSES, imageAt, loadFashionMnist } from '../lib/data';
import { modelDir as defaultModelDir, PROJECT_ROOT } from '../lib/paths';
import { barFigure, confusionMatrixFigure, figureBox, fluidFigure, imageGridLayout, imageGridPng, probabilitiesFigure, type GreyImage } from '../lib/plot';
import { grayPng, ImageReadError, PhotoTimeoutError, preprocessPixels, type PreprocessedPhoto } from '../lib/preprocess';
import { BROWSER_WEIGHTS, insideBinary, insideJson, insideModelFor, insidePage, insideScript, rawDrawing } from './inside';
import { FormError, multipartBoundary, parseMultipart } from './multipart';
import { classifyPage, dataPage, escapeHtml, messagePage, modelPage, noModelNotice } from './pages';
import { HOW_TO_TRAIN, Predictor } from './predictor';
import { DEFAULT_PHOTO_TIMEOUT_MS, defaultWorkerCount, PreprocessPool } from './preprocess-pool';

/** Settings of the server; every limit is configurable. */
export interface ServerOptions {
  /** TCP port (0: any free port). Default 3000. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Folder of modele.json + modele.weights.bin. Default modele/ (ANALYSE_IMAGE_MODELE). */
  modelDir?: string;
  /** Largest accepted upload, in bytes. Default 10 MB. */
  maxUploadBytes?: number;
  /** Largest accepted image, in pixels. Default 40 megapixels. */
  maxPixels?: number;
  /** Worker threads preparing photos. Default: one per core; 0 prepares them on the main thread. */
  workers?: number;
  /** Longest time one photo may keep a worker, in ms; past it the worker is replaced and the photo refused. Default 2000. */
  photoTimeoutMs?: number;
  /** Most elongated image accepted (long side / short side), refused from its header. Default 20. */
  maxAspectRatio?: number;
}

/** A running server. */
export interface RunningServer {
  url: string;
  server: Server;
  predictor: Predictor;
  /** The workers preparing the uploaded photos. */
  pool: PreprocessPool;
  close(): Promise<void>;
}

/** Default upload limit: 10 MB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Default image limit: 40 megapixels (phone photos have 12 to 50; larger ones are refused before decoding). */
export const DEFAULT_MAX_PIXELS = 40_000_000;
/**
 * Default shape limit: 20 times longer than wide. Beyond it the course's 20-pixel long side leaves
 * less than one pixel across, so nothing of the garment would reach the model; phone photos (4:3,
 * 16:9) and even panoramas (up to about 10:1) pass. With 40 megapixels it caps the long side at
 * 28 284 pixels, so the costs that grow with a side (decoding row by row, Lanczos weights) stay small.
 */
export const DEFAULT_MAX_ASPECT_RATIO = 20;

/** The sample grid of "Les données": ten columns, each pixel a 3 x 3 square. */
const SAMPLES_GRID = { columns: 10, scale: 3 };

// plotly.js-dist ships plotly.js (and plotly.min.js in some versions): served from the project, no CDN.
const PLOTLY_FILES = ['plotly.min.js', 'plotly.js'].map((file) => join(PROJECT_ROOT, 'node_modules', 'plotly.js-dist', file));
// TensorFlow.js for the browser (« Dans le réseau »), from node_modules too.
const TFJS_BUNDLE = join(PROJECT_ROOT, 'node_modules', '@tensorflow', 'tfjs', 'dist', 'tf.min.js');

/** An answer the API gives instead of a prediction: HTTP status and French message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

const megabytes = (bytes: number) => (bytes / 1024 / 1024).toLocaleString('fr-FR', { maximumFractionDigits: 1 });

/** The request body, refused with 413 past `limit` bytes (the rest is drained, not kept). */
function readBody(req: IncomingMessage, limit: number, shownLimit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpError(413, `fichier trop volumineux : ${megabytes(shownLimit)} Mo au plus.`);
    const announced = Number(req.headers['content-length']);
    if (Number.isFinite(announced) && announced > limit) {
      req.resume();
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => !refused && resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const modelDir = options.modelDir ?? defaultModelDir();
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxAspectRatio = options.maxAspectRatio ?? DEFAULT_MAX_ASPECT_RATIO;
  const predictor = await Predictor.load(modelDir);
  const pool = new PreprocessPool(options.workers ?? defaultWorkerCount(), { photoTimeoutMs: options.photoTimeoutMs ?? DEFAULT_PHOTO_TIMEOUT_MS });
  const limits = { maxUploadMB: Number(megabytes(maxUploadBytes).replace(',', '.')), maxMegapixels: Math.round(maxPixels / 1e6) };
  // Multipart headers and boundaries add a little to the file itself.
  const bodyLimit = maxUploadBytes + 64 * 1024;
  // "Dans le réseau": the served model's layers, prepared once (web/inside.ts).
  const { inside, problem: insideProblem } = insideModelFor(predictor.model, modelDir);
  const staticScripts: Record<string, string> = {};
  let dataPageCache: Promise<string> | undefined;
  let samplesPng: Promise<Buffer> | undefined;

  const noModel = () => noModelNotice(predictor.problem ?? '', HOW_TO_TRAIN);

  /** The uploaded picture (multipart field « image ») prepared by the course's preprocessing, or a 4xx HttpError. */
  async function uploadedPhoto(req: IncomingMessage): Promise<PreprocessedPhoto> {
    if (!predictor.model) {
      req.resume();
      throw new HttpError(503, `pas de modèle entraîné (${predictor.problem}) ${HOW_TO_TRAIN}`);
    }
    const boundary = multipartBoundary(req.headers['content-type']);
    if (!boundary) {
      req.resume();
      throw new HttpError(415, 'envoyez l’image dans un formulaire multipart/form-data, dans le champ « image ».');
    }
    const body = await readBody(req, bodyLimit, maxUploadBytes);
    let parts;
    try {
      parts = parseMultipart(body, boundary);
    } catch (error) {
      if (error instanceof FormError) throw new HttpError(400, error.message);
      throw error;
    }
    const image = parts.find((part) => part.name === 'image');
    if (!image) throw new HttpError(400, `le champ « image » est absent du formulaire (champs reçus : ${parts.map((p) => p.name).join(', ') || 'aucun'}).`);
    const name = image.filename || 'image envoyée';
    if (image.data.length === 0) throw new HttpError(400, `l’image « ${name} » est vide (0 octet).`);
    if (image.data.length > maxUploadBytes) throw new HttpError(413, `fichier trop volumineux : ${megabytes(maxUploadBytes)} Mo au plus.`);
    try {
      return await pool.prepare(image.data, { maxPixels, maxAspectRatio, name });
    } catch (error) {
      if (error instanceof ImageReadError) throw new HttpError(/trop grande/.test(error.reason) ? 413 : 422, error.message);
      // 422, not 503: the same photo would take as long again, so waiting and retrying does not help.
      if (error instanceof PhotoTimeoutError) throw new HttpError(422, error.message);
      throw error;
    }
  }

  /**
   * "Dans le réseau": a photo (multipart, as /api/predict) or the page's drawing as raw RGBA pixels
   * (application/octet-stream, ?width=&height=), prepared by the same preprocessing; every layer's
   * output in JSON, or binary with ?format=binary (web/inside.ts).
   */
  async function insideRoute(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = performance.now();
    let photo: PreprocessedPhoto;
    if ((req.headers['content-type'] ?? '').startsWith('application/octet-stream')) {
      if (!inside) {
        req.resume();
        throw new HttpError(503, insideProblem ?? `pas de modèle entraîné (${predictor.problem}) ${HOW_TO_TRAIN}`);
      }
      const body = await readBody(req, bodyLimit, maxUploadBytes);
      try {
        // A drawing is small (280 x 280): prepared here, it skips the round trip to a worker.
        photo = preprocessPixels(rawDrawing(body, Number(url.searchParams.get('width')), Number(url.searchParams.get('height'))));
      } catch (error) {
        if (error instanceof RangeError) throw new HttpError(400, error.message);
        throw error;
      }
    } else {
      photo = await uploadedPhoto(req);
    }
    if (!inside) throw new HttpError(503, insideProblem ?? 'pas de modèle.');
    const result = inside.compute(photo, performance.now() - started);
    res.setHeader('server-timing', `prepare;dur=${result.timings.prepareMs.toFixed(2)}, model;dur=${result.timings.modelMs.toFixed(2)}`);
    if (url.searchParams.get('format') !== 'binary') return sendJson(res, 200, insideJson(result));
    const bytes = insideBinary(result);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length, 'cache-control': 'no-store' });
    res.end(bytes);
  }

  async function predictRoute(req: IncomingMessage, res: ServerResponse, details: boolean): Promise<void> {
    const photo = await uploadedPhoto(req);
    const prediction = await predictor.predict(photo);
    if (!details) return sendJson(res, 200, prediction);
    const inputPng = `data:image/png;base64,${(await grayPng({ width: 28, height: 28, data: photo.display })).toString('base64')}`;
    const figure = probabilitiesFigure(prediction.probabilities, FASHION_CLASSES, { decimalComma: true });
    // The page draws it in a box of its size at most, fitted to the page's width (web/pages.ts drawFigure).
    sendJson(res, 200, { ...prediction, inputPng, figure: fluidFigure(figure), box: figureBox(figure) });
  }

  async function dataRoute(): Promise<string> {
    const train = loadFashionMnist('train');
    const test = loadFashionMnist('test');
    const count = (labels: Uint8Array) => FASHION_CLASSES.map((_, c) => labels.reduce((n, label) => n + (label === c ? 1 : 0), 0));
    const figure = barFigure({
      title: 'Images par catégorie',
      categories: [...FASHION_CLASSES],
      series: [
        { name: 'apprentissage', values: count(train.labels) },
        { name: 'test', values: count(test.labels) },
      ],
      yTitle: "Nombre d'images",
      decimalComma: true,
    });
    // The sample grid's CSS size, so that the page reserves its box before the PNG arrives.
    const { width, height } = imageGridLayout(sampleImages(test), SAMPLES_GRID);
    return dataPage(figure, { train: train.count, test: test.count }, { width, height });
  }

  /** Two test images of each class, with their class as caption. */
  function sampleImages(test = loadFashionMnist('test')): GreyImage[] {
    const picked: number[] = [];
    for (let c = 0; c < 10; c++) for (let i = 0, found = 0; i < test.count && found < 2; i++) if (test.labels[i] === c) (picked.push(i), found++);
    return picked.map((i) => ({ pixels: imageAt(test, i), caption: FASHION_CLASSES[test.labels[i]] }));
  }

  async function samples(): Promise<Buffer> {
    return imageGridPng(sampleImages(), SAMPLES_GRID);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/api/predict') {
      if (req.method !== 'POST') throw new HttpError(405, 'utilisez POST (formulaire multipart, champ « image »).');
      return predictRoute(req, res, url.searchParams.get('details') === '1');
    }
    if (path === '/api/inside') {
      if (req.method !== 'POST') throw new HttpError(405, 'utilisez POST (formulaire multipart, champ « image », ou pixels RGBA bruts avec ?width=…&height=…).');
      return insideRoute(req, res, url);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `méthode ${req.method} non prise en charge ici.`);
    if (path === '/api/health') {
      return sendJson(res, 200, { status: 'ok', model: predictor.model ? 'chargé' : 'absent', ...(predictor.problem ? { message: `${predictor.problem} ${HOW_TO_TRAIN}` } : {}), modelDir });
    }
    if (path === '/static/plotly.min.js') {
      const file = PLOTLY_FILES.find((candidate) => existsSync(candidate));
      if (!file) throw new HttpError(500, 'plotly.js est introuvable dans node_modules/plotly.js-dist : relancez `npm install`.');
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=86400' });
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
      return;
    }
    if (path === '/') return sendHtml(res, 200, classifyPage(predictor.model ? '' : noModel(), limits));
    if (path === '/dans-le-reseau') {
      const notice = !predictor.model ? noModel() : insideProblem ? `<p class="notice">${escapeHtml(insideProblem)}</p>` : '';
      return sendHtml(res, 200, insidePage(inside, notice, limits));
    }
    if (path === '/static/inside.js' || path === '/static/preprocess.js') {
      const script = (staticScripts[path] ??= insideScript(path.slice('/static/'.length)));
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': Buffer.byteLength(script), 'cache-control': 'no-cache' });
      return void res.end(script);
    }
    if (path === '/static/tf.min.js') {
      // TensorFlow.js' browser bundle, from the tfjs that tfjs-node brings: served from the project, no CDN.
      if (!existsSync(TFJS_BUNDLE)) throw new HttpError(500, 'TensorFlow.js est introuvable dans node_modules/@tensorflow/tfjs : relancez `npm install`.');
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=86400' });
      createReadStream(TFJS_BUNDLE).on('error', () => res.destroy()).pipe(res);
      return;
    }
    if (path === '/dans-le-reseau/modele.json' || path === `/dans-le-reseau/${BROWSER_WEIGHTS}`) {
      if (!inside) throw new HttpError(503, insideProblem ?? `pas de modèle entraîné (${predictor.problem}) ${HOW_TO_TRAIN}`);
      const files = inside.browserModel();
      const json = path.endsWith('.json');
      const body = json ? Buffer.from(files.json) : files.weights;
      res.writeHead(200, { 'content-type': json ? 'application/json; charset=utf-8' : 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache' });
      return void res.end(body);
    }
    if (path === '/donnees') {
      dataPageCache ??= dataRoute();
      dataPageCache.catch(() => (dataPageCache = undefined));
      return sendHtml(res, 200, await dataPageCache);
    }
    if (path === '/donnees/exemples.png') {
      samplesPng ??= samples();
      samplesPng.catch(() => (samplesPng = undefined));
      const png = await samplesPng;
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
      return void res.end(png);
    }
    if (path === '/modele') {
      if (!predictor.model) return sendHtml(res, 503, messagePage('Le modèle', '/modele', noModel()));
      const evaluation = await predictor.evaluate();
      return sendHtml(res, 200, modelPage(predictor.summary(), evaluation, confusionMatrixFigure(evaluation.confusion, FASHION_CLASSES), modelDir));
    }
    throw new HttpError(404, `page introuvable : ${path}`);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: Error) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError ? error.message : `erreur interne du serveur : ${error.message}`;
      if (status === 500) console.error(error);
      if (res.headersSent) return void res.end();
      const wantsJson = (req.url ?? '').startsWith('/api/') || !(req.headers.accept ?? '').includes('text/html');
      // Refused uploads may still be arriving: close the connection once the answer is sent.
      if (status === 413 || status === 415) res.setHeader('connection', 'close');
      if (wantsJson) sendJson(res, status, { error: message });
      else sendHtml(res, status, messagePage('Erreur', '', `<p class="error">${escapeHtml(message)}</p>`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    predictor,
    pool,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}

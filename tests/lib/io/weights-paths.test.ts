import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../../../lib/backend';
import { loadModel, MODEL_JSON, MODEL_WEIGHTS, readModelArtifacts, saveModel } from '../../../lib/io';
import { loadPretrained } from '../../../lib/models/transfer';
import { temporaryFolder } from '../../helpers/fixtures';

const tf = loadNativeTf();

function tinyModel(): tfTypes.LayersModel {
  return tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, activation: 'softmax' })] });
}

/** Escapes a string for a RegExp. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('weights paths of a model.json stay plain files of the model folder', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);
  // The attack of issue 14: a classmate's valid save, reachable from the student's folder.
  const classmate = join(dir, 'camarade', 'modele');
  const original = join(dir, 'original', 'modele');
  const input = tf.tensor2d([[0.1, 0.2, 0.3], [1, -1, 0.5]]);
  let expected: number[];
  let count = 0;

  beforeAll(async () => {
    await saveModel(tinyModel(), classmate);
    const model = tinyModel();
    await saveModel(model, original);
    expected = Array.from((model.predict(input) as tfTypes.Tensor).dataSync());
  });

  /** A fresh copy of the original save, under `<dir>/eleveN/modele/` (two levels below `dir`, like the classmate's). */
  function student(): { folder: string; jsonPath: string; description: Record<string, any>; write: () => void } {
    const folder = join(dir, `eleve${++count}`, 'modele');
    mkdirSync(folder, { recursive: true });
    for (const file of [MODEL_JSON, MODEL_WEIGHTS]) copyFileSync(join(original, file), join(folder, file));
    const jsonPath = join(folder, MODEL_JSON);
    const description = JSON.parse(readFileSync(jsonPath, 'utf8'));
    return { folder, jsonPath, description, write: () => writeFileSync(jsonPath, JSON.stringify(description)) };
  }

  /** A student folder whose manifest names `path` and whose JSON is otherwise the classmate's (so only the path check can refuse it). */
  function pointingAt(path: unknown): { folder: string; jsonPath: string } {
    const { folder, jsonPath } = student();
    const description = JSON.parse(readFileSync(join(classmate, MODEL_JSON), 'utf8'));
    description.weightsManifest[0].paths = [path];
    writeFileSync(jsonPath, JSON.stringify(description));
    return { folder, jsonPath };
  }

  function refusal(jsonPath: string, path: string, reason: string): RegExp {
    return new RegExp(`^${literal(jsonPath)} : le chemin de poids « ${literal(path)} » ${literal(reason)} ; les poids doivent être des fichiers du dossier .*modele/\\. Sauvegardez le modèle à nouveau \\(saveModel\\)\\.$`);
  }

  it('refuses ../ climbing to a classmate’s valid weights of the right size', async () => {
    const path = '../../camarade/modele/modele.weights.bin';
    const { folder, jsonPath } = pointingAt(path);
    // Without the check this would load: the file exists, has the announced size and the checksum the JSON records.
    expect(statSync(join(folder, path)).size).toBe(statSync(join(original, MODEL_WEIGHTS)).size);
    expect(() => readModelArtifacts(folder)).toThrow(refusal(jsonPath, path, 'sort du dossier du modèle'));
    await expect(loadModel(folder)).rejects.toThrow(refusal(jsonPath, path, 'sort du dossier du modèle'));
  });

  it('refuses an absolute path, backslashes, NUL, an empty name, a sub-folder and "."', () => {
    const absolute = join(classmate, MODEL_WEIGHTS);
    expect(() => readModelArtifacts(pointingAt(absolute).folder)).toThrow(/« \/.*\/camarade\/modele\/modele\.weights\.bin » est un chemin absolu et sort du dossier du modèle/);
    expect(() => readModelArtifacts(pointingAt('..\\..\\camarade\\modele\\modele.weights.bin').folder)).toThrow(/« \.\.\\\\\.\.\\\\camarade.* » contient une barre oblique inverse/);
    expect(() => readModelArtifacts(pointingAt('modele.weights.bin\u0000.png').folder)).toThrow(/« modele\.weights\.bin\\u0000\.png » contient un caractère nul/);
    expect(() => readModelArtifacts(pointingAt('').folder)).toThrow(/«  » est vide/);
    expect(() => readModelArtifacts(pointingAt('a/../modele.weights.bin').folder)).toThrow(/« a\/\.\.\/modele\.weights\.bin » sort du dossier du modèle/);
    expect(() => readModelArtifacts(pointingAt('./modele.weights.bin').folder)).toThrow(/« \.\/modele\.weights\.bin » contient « \/ » : seul un nom de fichier du dossier est accepté/);
    expect(() => readModelArtifacts(pointingAt('.').folder)).toThrow(/« \. » ne nomme pas un fichier/);
  });

  it('refuses a symbolic link, whether it leads out of the folder, to /dev/zero or to a file beside it', () => {
    const out = student();
    unlinkSync(join(out.folder, MODEL_WEIGHTS));
    symlinkSync(join(classmate, MODEL_WEIGHTS), join(out.folder, MODEL_WEIGHTS));
    copyFileSync(join(classmate, MODEL_JSON), out.jsonPath);
    expect(() => readModelArtifacts(out.folder)).toThrow(refusal(out.jsonPath, MODEL_WEIGHTS, 'est un lien symbolique (un lien peut mener hors du dossier : il n’est pas suivi)'));

    const zero = student();
    symlinkSync('/dev/zero', join(zero.folder, 'zero.bin'));
    zero.description.weightsManifest[0].paths = ['zero.bin'];
    zero.write();
    expect(() => readModelArtifacts(zero.folder)).toThrow(refusal(zero.jsonPath, 'zero.bin', 'est un lien symbolique (un lien peut mener hors du dossier : il n’est pas suivi)'));

    // Even a harmless link is refused: saveModel never writes one, and following none is simpler to trust.
    const beside = student();
    symlinkSync(MODEL_WEIGHTS, join(beside.folder, 'alias.bin'));
    beside.description.weightsManifest[0].paths = ['alias.bin'];
    beside.write();
    expect(() => readModelArtifacts(beside.folder)).toThrow(/« alias\.bin » est un lien symbolique/);
  });

  it('refuses a directory and a FIFO without blocking on it', () => {
    const folder = student();
    mkdirSync(join(folder.folder, 'dossier.bin'));
    folder.description.weightsManifest[0].paths = ['dossier.bin'];
    folder.write();
    expect(() => readModelArtifacts(folder.folder)).toThrow(refusal(folder.jsonPath, 'dossier.bin', 'est un dossier, pas un fichier'));

    const fifo = student();
    execFileSync('mkfifo', [join(fifo.folder, 'tube.bin')]);
    fifo.description.weightsManifest[0].paths = ['tube.bin'];
    fifo.write();
    expect(() => readModelArtifacts(fifo.folder)).toThrow(refusal(fifo.jsonPath, 'tube.bin', 'est un tube nommé (FIFO), pas un fichier ordinaire'));
  });

  it('refuses a modele.json that is itself a FIFO or a link to /dev/zero, without reading it', () => {
    const fifo = student();
    unlinkSync(fifo.jsonPath);
    execFileSync('mkfifo', [fifo.jsonPath]);
    expect(() => readModelArtifacts(fifo.folder)).toThrow(/modele\.json n'est pas un fichier ordinaire/);
    const zero = student();
    unlinkSync(zero.jsonPath);
    symlinkSync('/dev/zero', zero.jsonPath);
    expect(() => readModelArtifacts(zero.folder)).toThrow(/modele\.json n'est pas un fichier ordinaire/);
  });

  it('refuses a manifest of the wrong shape with a message, not a TypeError', () => {
    const cases: [unknown, RegExp][] = [
      [{ paths: [MODEL_WEIGHTS] }, /« weightsManifest » mal formé \(une liste de groupes \{ paths, weights \} est attendue\)/],
      [['modele.weights.bin'], /le groupe 1 n'est pas un objet/],
      [[{ paths: MODEL_WEIGHTS, weights: [] }], /« paths » du groupe 1 doit être une liste de noms de fichiers/],
      [[{ paths: [MODEL_WEIGHTS], weights: { name: 'x' } }], /« weights » du groupe 1 doit être une liste de tenseurs/],
      [[{ paths: [MODEL_WEIGHTS], weights: [{ name: 'noyau', dtype: 'float32', shape: '3x2' }] }], /le tenseur 1 \(noyau\) du groupe 1 n'a pas de « name », « dtype » et « shape »/],
      [[{ paths: [MODEL_WEIGHTS], weights: [{ name: 'noyau', dtype: 'float32', shape: [3, -2] }] }], /le tenseur 1 \(noyau\) du groupe 1/],
    ];
    for (const [manifest, message] of cases) {
      const folder = student();
      folder.description.weightsManifest = manifest;
      folder.write();
      expect(() => readModelArtifacts(folder.folder)).toThrow(message);
    }
    const folder = student();
    folder.description.weightsManifest[0].paths = [42];
    folder.write();
    expect(() => readModelArtifacts(folder.folder)).toThrow(refusal(folder.jsonPath, '42', "n'est pas un nom de fichier (texte attendu)"));
  });

  it('compares sizes before reading: a weights file of 1 GiB is refused without being loaded', () => {
    const { folder } = student();
    const weights = join(folder, MODEL_WEIGHTS);
    // Sparse: costs no disk, but reading it whole would take 1 GiB of memory and seconds.
    truncateSync(weights, 2 ** 30);
    const before = process.memoryUsage().rss;
    const started = Date.now();
    expect(() => readModelArtifacts(folder)).toThrow(new RegExp(`modele\\.weights\\.bin : ${2 ** 30} octets alors que modele\\.json en annonce \\d+ \\(fichier trop long`));
    expect(Date.now() - started).toBeLessThan(500);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20);
  });

  it('still loads the untouched model, which predicts as before', async () => {
    const { folder } = student();
    const loaded = await loadModel(folder);
    expect(Array.from((loaded.predict(input) as tfTypes.Tensor).dataSync())).toEqual(expected);
  });

  it('loadPretrained checks folders and file:// URLs alike', async () => {
    const { folder, jsonPath } = student();
    for (const where of [folder, pathToFileURL(folder).href, pathToFileURL(jsonPath).href]) {
      const loaded = await loadPretrained(where);
      expect(Array.from((loaded.predict(input) as tfTypes.Tensor).dataSync())).toEqual(expected);
    }
    const path = '../../camarade/modele/modele.weights.bin';
    const hostile = pointingAt(path);
    expect(existsSync(join(hostile.folder, path))).toBe(true);
    await expect(loadPretrained(hostile.folder)).rejects.toThrow(refusal(hostile.jsonPath, path, 'sort du dossier du modèle'));
    await expect(loadPretrained(pathToFileURL(hostile.jsonPath).href)).rejects.toThrow(refusal(hostile.jsonPath, path, 'sort du dossier du modèle'));
    await expect(loadPretrained('file://autre-machine/modele/model.json')).rejects.toThrow(/adresse file:\/\/ invalide/);
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs-node';
import * as yazl from 'yazl';
import { loadNativeTf } from '../../../lib/backend';
import { dataDir } from '../../../lib/paths';
import { imagesToTensor, labelsToOneHot, loadFashionMnist } from '../../../lib/data';
import { checkSavedModel, loadModel, locateSavedModel, saveKerasModel } from '../../../lib/io';
import { kerasModelJson, kerasWeightsLocations, loadH5wasm, readKerasArchive, toSnakeCase, writeH5 } from '../../../lib/io/keras';
import { buildModel } from '../../../lib/models';
import { temporaryFolder } from '../../helpers/fixtures';
import { needsPython } from '../../helpers/tools';
import { Predictor } from '../../../web/predictor';

const tf = loadNativeTf();
const FIXTURE = join(__dirname, 'keras_course.py');

function predictions(model: tfTypes.LayersModel, input: tfTypes.Tensor): number[] {
  return Array.from(tf.tidy(() => (model.predict(input) as tfTypes.Tensor).dataSync()));
}

function maxDifference(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((worst, value, i) => Math.max(worst, Math.abs(value - b[i])), 0);
}

/** A small course-like model (conv, batch norm, pooling, dropout, dense) with non-trivial batch-norm statistics. */
function smallModel(): tfTypes.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.dropout({ rate: 0.2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  const norm = model.layers[1];
  norm.setWeights(norm.getWeights().map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 1.5 : 0.5, 'float32', i)));
  return model;
}

/** A zip holding `entries` (name -> bytes); names are written as given, `../` included (yazl refuses them, so a placeholder of the same length is patched). */
async function zipOf(entries: Record<string, Uint8Array | string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const patches: [string, string][] = [];
  for (const [name, data] of Object.entries(entries)) {
    const safe = name.includes('..') ? name.replace(/\.\./g, 'xx') : name;
    if (safe !== name) patches.push([safe, name]);
    zip.addBuffer(Buffer.from(data), safe);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  let bytes = Buffer.concat(chunks);
  for (const [safe, name] of patches) bytes = Buffer.from(bytes.toString('latin1').split(safe).join(name), 'latin1');
  return bytes;
}

describe('Keras 3 saves, read and written in TypeScript', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);
  const input = tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 7);

  it('names weight groups as Keras 3 does (class in snake case, numbered per model)', () => {
    expect(['Conv2D', 'MaxPooling2D', 'BatchNormalization', 'InputLayer', 'GlobalAveragePooling2D', 'Dense'].map(toSnakeCase)).toEqual(['conv2d', 'max_pooling2d', 'batch_normalization', 'input_layer', 'global_average_pooling2d', 'dense']);
    const description = kerasModelJson(smallModel());
    expect(kerasWeightsLocations(description).map((l) => l.group)).toEqual(['layers/conv2d', 'layers/batch_normalization', 'layers/max_pooling2d', 'layers/conv2d_1', 'layers/dropout', 'layers/flatten', 'layers/dense']);
  });

  it('saveKerasModel writes modele.json + modele.weights.h5 (and modele.keras) that loadModel reads back exactly', async () => {
    const model = smallModel();
    const folder = join(dir, 'aller-retour');
    const files = await saveKerasModel(model, folder, { format: 'both' });
    expect(readdirSync(folder).sort()).toEqual(['modele.json', 'modele.keras', 'modele.weights.h5']);
    const description = JSON.parse(readFileSync(files.jsonPath!, 'utf8'));
    expect(description.class_name).toBe('Sequential');
    expect(description.config.layers[0]).toMatchObject({ class_name: 'InputLayer', config: { batch_shape: [null, 28, 28, 1] } });
    expect(description.config.layers[1]).toMatchObject({ module: 'keras.layers', class_name: 'Conv2D', config: { groups: 1, dtype: { class_name: 'DTypePolicy' } } });
    expect(locateSavedModel(folder).format).toBe('keras-json');
    expect(maxDifference(predictions(await loadModel(folder), input), predictions(model, input))).toBe(0);
    const archive = await readKerasArchive(readFileSync(files.kerasPath!), 'modele.keras');
    expect(JSON.parse(archive.metadata!).keras_version).toMatch(/^3\./);
    expect(maxDifference(predictions(await loadModel(files.kerasPath!), input), predictions(model, input))).toBe(0);
    // A folder holding only a .keras is found by content too.
    const alone = join(dir, 'seul');
    await saveKerasModel(model, alone, { format: 'keras', stem: 'mon-modele' });
    expect(locateSavedModel(alone)).toMatchObject({ format: 'keras-zip' });
    expect(await checkSavedModel(alone)).toMatchObject({ format: 'keras-zip' });
  });

  it('the web app serves a Keras save (its Predictor goes through loadModel)', async () => {
    const folder = join(dir, 'web');
    await saveKerasModel(buildModel('one-conv'), folder);
    const predictor = await Predictor.load(folder);
    expect(predictor.problem).toBeUndefined();
    expect(predictor.model!.outputs[0].shape).toEqual([null, 10]);
  });

  it('saves functional models too (the transfer notebook builds them)', async () => {
    const inputs = tf.input({ shape: [28, 28, 1], name: 'image' });
    const a = tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'gauche' }).apply(inputs) as tfTypes.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'droite' }).apply(inputs) as tfTypes.SymbolicTensor;
    const merged = tf.layers.concatenate({ name: 'fusion' }).apply([a, b]) as tfTypes.SymbolicTensor;
    const out = tf.layers.dense({ units: 10, activation: 'softmax', name: 'sortie' }).apply(tf.layers.flatten({ name: 'aplatir' }).apply(merged)) as tfTypes.SymbolicTensor;
    const model = tf.model({ inputs, outputs: out, name: 'fonctionnel' });
    const folder = join(dir, 'fonctionnel');
    await saveKerasModel(model, folder);
    expect(maxDifference(predictions(await loadModel(folder), input), predictions(model, input))).toBe(0);
  });

  describe('refuses hostile or foreign files with French messages', () => {
    let good: string;
    beforeAll(async () => {
      good = join(dir, 'bon');
      await saveKerasModel(smallModel(), good, { format: 'both' });
    });

    /** A model folder with the good description and `weights` as modele.weights.h5. */
    function folderWith(name: string, weights: Uint8Array | string, description?: string): string {
      const folder = join(dir, name);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'modele.json'), description ?? readFileSync(join(good, 'modele.json')));
      writeFileSync(join(folder, 'modele.weights.h5'), weights);
      return folder;
    }

    it('a file named .h5 that is not HDF5, and a truncated one', async () => {
      await expect(loadModel(folderWith('pas-hdf5', 'ceci n’est pas un fichier HDF5'))).rejects.toThrow(/modele\.weights\.h5 n'est pas un fichier HDF5 \(signature absente\)/);
      const truncated = readFileSync(join(good, 'modele.weights.h5')).subarray(0, 3000);
      await expect(loadModel(folderWith('tronque', truncated))).rejects.toThrow(/modele\.weights\.h5 n'est pas un fichier HDF5 lisible/);
    });

    it('an HDF5 external link or soft link', async () => {
      const { h5, module } = await loadH5wasm();
      const make = (kind: 'externe' | 'symbolique') => {
        const path = `/analyse-image/test-${kind}.h5`;
        const file = new h5.File(path, 'w');
        const vars = file.create_group('layers').create_group('conv2d').create_group('vars');
        vars.create_dataset({ name: '1', data: new Float32Array(4), shape: [4], dtype: '<f' });
        if (kind === 'externe') vars.create_external_link('/etc/passwd', '/secret', '0');
        else vars.create_soft_link('/layers/conv2d/vars/1', '0');
        file.close();
        const bytes = (module.FS as unknown as { readFile(p: string): Uint8Array }).readFile(path);
        return new Uint8Array(bytes);
      };
      await expect(loadModel(folderWith('lien-externe', make('externe')))).rejects.toThrow(/contient un lien externe HDF5 \(« layers\/conv2d\/vars\/0 » -> fichier « \/etc\/passwd » \) : refusé|contient un lien externe HDF5 \(« layers\/conv2d\/vars\/0 » -> fichier « \/etc\/passwd »\) : refusé/);
      await expect(loadModel(folderWith('lien-symbolique', make('symbolique')))).rejects.toThrow(/contient un lien symbolique HDF5/);
    });

    it('a weights file that is a symbolic link, and weights of another model', async () => {
      const folder = join(dir, 'lien');
      mkdirSync(folder);
      writeFileSync(join(folder, 'modele.json'), readFileSync(join(good, 'modele.json')));
      symlinkSync(join(good, 'modele.weights.h5'), join(folder, 'modele.weights.h5'));
      await expect(loadModel(folder)).rejects.toThrow(/modele\.weights\.h5 est un lien symbolique.* : refusé/);
      const other = join(dir, 'autre');
      await saveKerasModel(buildModel('one-conv'), other);
      await expect(loadModel(folderWith('melange', readFileSync(join(other, 'modele.weights.h5'))))).rejects.toThrow(/a la forme \[3, 3, 1, 32\] alors que la couche .* attend \[3, 3, 1, 4\]/);
    });

    it('a .keras zip with ../ entries, or without weights', async () => {
      const archive = await readKerasArchive(readFileSync(join(good, 'modele.keras')), 'x');
      const escaping = await zipOf({ 'config.json': archive.config, 'model.weights.h5': archive.weights, '../../evil.txt': 'x' });
      writeFileSync(join(dir, 'evasion.keras'), escaping);
      await expect(loadModel(join(dir, 'evasion.keras'))).rejects.toThrow(/evasion\.keras contient une entrée au nom refusé \(invalid relative path: \.\.\/\.\.\/evil\.txt\)|evasion\.keras : l'entrée « \.\.\/\.\.\/evil\.txt » remonte hors de l’archive/);
      writeFileSync(join(dir, 'sans-poids.keras'), await zipOf({ 'config.json': archive.config }));
      await expect(loadModel(join(dir, 'sans-poids.keras'))).rejects.toThrow(/sans-poids\.keras n'a pas d'entrée « model\.weights\.h5 »/);
      writeFileSync(join(dir, 'pas-zip.keras'), 'bonjour');
      await expect(loadModel(join(dir, 'pas-zip.keras'))).rejects.toThrow(/pas-zip\.keras n'est pas une archive \.keras lisible/);
    });

    it('a Keras layer or option that TensorFlow.js lacks, named', async () => {
      const weights = readFileSync(join(good, 'modele.weights.h5'));
      const edit = (change: (d: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }) => void) => {
        const description = JSON.parse(readFileSync(join(good, 'modele.json'), 'utf8'));
        change(description);
        return JSON.stringify(description);
      };
      await expect(loadModel(folderWith('couche', weights, edit((d) => (d.config.layers[2].class_name = 'MultiHeadAttention'))))).rejects.toThrow(/la couche Keras « MultiHeadAttention » n'existe pas dans TensorFlow\.js/);
      await expect(loadModel(folderWith('groupes', weights, edit((d) => (d.config.layers[1].config.groups = 2))))).rejects.toThrow(/utilise l'option Keras « groups » = 2 \(les convolutions groupées\), que TensorFlow\.js n'a pas/);
      await expect(loadModel(folderWith('precision', weights, edit((d) => (d.config.layers[1].config.dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'mixed_float16' } }))))).rejects.toThrow(/calcule en « mixed_float16 »/);
      await expect(loadModel(folderWith('activation', weights, edit((d) => (d.config.layers[1].config.activation = 'hard_sigmoid'))))).rejects.toThrow(/l'activation Keras « hard_sigmoid »/);
    });

    it('a JSON that is neither format, and a description without its weights', async () => {
      const folder = join(dir, 'ni-l-un');
      mkdirSync(folder);
      writeFileSync(join(folder, 'modele.json'), '{"bonjour": 1}');
      await expect(loadModel(folder)).rejects.toThrow(/ne décrit pas un modèle TensorFlow\.js .* ni un modèle Keras/);
      const alone = join(dir, 'sans-h5');
      mkdirSync(alone);
      writeFileSync(join(alone, 'modele.json'), readFileSync(join(good, 'modele.json')));
      await expect(loadModel(alone)).rejects.toThrow(/modele\.weights\.h5 introuvable : .*modele\.json est une description Keras/);
    });
  });
});

// Keras 3 in the project's .venv (npm run setup:python): the course's own code on both sides.
const keras = needsPython(['keras', 'tensorflow', 'h5py'], 'KERAS_PYTHON');

keras.describe('the Python course and the TypeScript one exchange models', () => {
  const { dir, cleanup } = temporaryFolder();
  let reference: { input: number[]; predictions: Record<string, number[][]>; evaluate: Record<string, { loss: number; accuracy: number }> };
  let testInput: tfTypes.Tensor4D;
  beforeAll(() => {
    const started = Date.now();
    const run = spawnSync(keras.python!, [FIXTURE, 'train', dir, dataDir()], { encoding: 'utf8', timeout: 600_000 });
    if (run.status !== 0) throw new Error(`keras_course.py train failed: ${run.stderr}`);
    reference = JSON.parse(readFileSync(join(dir, 'predictions.json'), 'utf8'));
    testInput = tf.tensor4d(reference.input, [100, 28, 28, 1]);
    process.stdout.write(`Keras training of the two course models (1 epoch, 3000 images) and saving: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }, 600_000);
  afterAll(cleanup);

  it.each(['one-conv', 'four-conv'])('%s trained in Keras and saved the course\'s way (JSON + .weights.h5, and .keras) predicts the same in TypeScript', async (name) => {
    const expected = reference.predictions[name].flat();
    const pair = maxDifference(predictions(await loadModel(join(dir, name)), testInput), expected);
    const archive = maxDifference(predictions(await loadModel(join(dir, `${name}.keras`)), testInput), expected);
    process.stdout.write(`${name}: max |Δp| on 100 test images, Keras -> TypeScript: ${pair.toExponential(2)} (modele.json + .weights.h5), ${archive.toExponential(2)} (.keras)\n`);
    expect(pair).toBeLessThan(1e-5);
    expect(archive).toBeLessThan(1e-5);
  }, 120_000);

  it('the TypeScript evaluation of the Keras model matches Keras\' evaluate within 1e-4', async () => {
    const test = loadFashionMnist('test');
    const xs = imagesToTensor(test);
    const ys = labelsToOneHot(test);
    const model = await loadModel(join(dir, 'one-conv'));
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const [loss, accuracy] = (model.evaluate(xs, ys, { batchSize: 256 }) as tfTypes.Scalar[]).map((t) => t.dataSync()[0]);
    tf.dispose([xs, ys]);
    process.stdout.write(`one-conv on 10 000 test images: accuracy ${accuracy} (Keras ${reference.evaluate['one-conv'].accuracy}), loss ${loss} (Keras ${reference.evaluate['one-conv'].loss})\n`);
    expect(Math.abs(accuracy - reference.evaluate['one-conv'].accuracy)).toBeLessThan(1e-4);
  }, 120_000);

  it.each(['one-conv', 'four-conv'] as const)('%s trained in TypeScript and saved with saveKerasModel opens in Keras with the course\'s code and predicts the same', async (name) => {
    const train = loadFashionMnist('train');
    const count = 2000;
    const subset = { count, labels: train.labels.subarray(0, count), pixels: train.pixels.subarray(0, count * 784) };
    const xs = imagesToTensor(subset);
    const ys = labelsToOneHot(subset);
    const model = buildModel(name); // compiled as the course does (Adam)
    await model.fit(xs, ys, { epochs: 1, batchSize: 256, verbose: 0 });
    tf.dispose([xs, ys]);
    const folder = join(dir, `ts-${name}`);
    await saveKerasModel(model, folder, { format: 'both' });
    const run = spawnSync(keras.python!, [FIXTURE, 'predict', folder, dataDir()], { encoding: 'utf8', timeout: 300_000 });
    if (run.status !== 0) throw new Error(`keras_course.py predict failed: ${run.stderr}`);
    const fromKeras = JSON.parse(run.stdout.trim().split('\n').pop()!) as { json: number[][]; keras: number[][] };
    const ours = predictions(model, testInput);
    const pair = maxDifference(fromKeras.json.flat(), ours);
    const archive = maxDifference(fromKeras.keras.flat(), ours);
    process.stdout.write(`${name}: max |Δp| on 100 test images, TypeScript -> Keras: ${pair.toExponential(2)} (model_from_json + load_weights), ${archive.toExponential(2)} (load_model .keras)\n`);
    expect(pair).toBeLessThan(1e-5);
    expect(archive).toBeLessThan(1e-5);
  }, 300_000);

  it('hostile HDF5 files written by h5py are refused before any data is read', async () => {
    const small = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 2, 1] }), tf.layers.dense({ units: 2, activation: 'softmax', name: 'dense' })] });
    writeFileSync(join(dir, 'description.json'), JSON.stringify(kerasModelJson(small)));
    const run = spawnSync(keras.python!, [FIXTURE, 'hostile', dir], { encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) throw new Error(`keras_course.py hostile failed: ${run.stderr}`);
    await expect(loadModel(join(dir, 'lien-externe'))).rejects.toThrow(/lien externe HDF5 .*« \/etc\/passwd »/);
    await expect(loadModel(join(dir, 'donnees-externes'))).rejects.toThrow(/« layers\/dense\/vars\/0 » ne se lit pas .*fichier de données externe, il est refusé/);
    await expect(loadModel(join(dir, 'virtuel'))).rejects.toThrow(/« layers\/dense\/vars\/0 » est virtuel et lit ses valeurs dans « \/etc\/autre\.h5 »/);
    await expect(loadModel(join(dir, 'enorme'))).rejects.toThrow(/déclare 100000 x 100000 x 100 valeurs .* refusé sans être lu/);
    expect(existsSync(join(dir, 'enorme', 'modele.weights.h5'))).toBe(true);
  }, 120_000);

  it('writeH5 output is read by h5py as Keras lays it out', () => {
    return writeH5({ groups: [{ path: 'layers' }, { path: 'layers/dense' }, { path: 'layers/dense/vars', attributes: { name: 'dense' } }], datasets: [{ path: 'layers/dense/vars/0', shape: [2, 2], values: new Float32Array([1, 2, 3, 4]) }] }).then((bytes) => {
      const file = join(dir, 'simple.h5');
      writeFileSync(file, bytes);
      const run = spawnSync(keras.python!, ['-c', `import h5py; f = h5py.File(${JSON.stringify(file)}); print(f["layers/dense/vars"].attrs["name"], f["layers/dense/vars/0"][()].tolist(), f["layers/dense/vars/0"].dtype)`], { encoding: 'utf8' });
      expect(run.stdout.trim()).toBe('dense [[1.0, 2.0], [3.0, 4.0]] float32');
    });
  });
});

import { readdirSync, readFileSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNativeTf } from '../../../lib/backend';
import { loadModel, MODEL_JSON, MODEL_WEIGHTS, readModelArtifacts, saveModel } from '../../../lib/io';
import { temporaryFolder } from '../../helpers/fixtures';

describe('saving and loading a model in modele/', () => {
  const tf = loadNativeTf();
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  function tinyModel(units = 4) {
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })],
    });
    model.compile({ loss: 'categoricalCrossentropy', optimizer: 'adam', metrics: ['accuracy'] });
    return model;
  }

  it('writes modele.json and modele.weights.bin and loads the same model back', async () => {
    const folder = join(dir, 'ok');
    const model = tinyModel();
    const files = await saveModel(model, folder);
    expect(readdirSync(folder).sort()).toEqual([MODEL_JSON, MODEL_WEIGHTS]);
    const description = JSON.parse(readFileSync(files.jsonPath, 'utf8'));
    expect(description.weightsManifest[0].paths).toEqual([MODEL_WEIGHTS]);
    expect(description.userDefinedMetadata.analyseImage.weightsBytes).toBe(files.weightsBytes);
    const loaded = await loadModel(folder);
    const input = tf.randomUniform([3, 28, 28, 1]);
    const expected = (model.predict(input) as import('@tensorflow/tfjs-node').Tensor).dataSync();
    const actual = (loaded.predict(input) as import('@tensorflow/tfjs-node').Tensor).dataSync();
    expect(Array.from(actual)).toEqual(Array.from(expected));
  });

  it('overwrites an existing save without leaving temporary files', async () => {
    const folder = join(dir, 'ok');
    await saveModel(tinyModel(), folder);
    expect(readdirSync(folder).sort()).toEqual([MODEL_JSON, MODEL_WEIGHTS]);
  });

  it('explains a missing model in French, naming the file', async () => {
    await expect(loadModel(join(dir, 'nothing-here'))).rejects.toThrow(/modele\.json introuvable : aucun modèle sauvegardé/);
  });

  it('detects truncated weights, naming the weights file', async () => {
    const folder = join(dir, 'truncated');
    const files = await saveModel(tinyModel(), folder);
    truncateSync(files.weightsPath, files.weightsBytes - 100);
    expect(() => readModelArtifacts(folder)).toThrow(/modele\.weights\.bin : \d+ octets alors que modele\.json en annonce \d+ \(fichier tronqué/);
  });

  it('detects weights from another save of the same size', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await saveModel(tinyModel(), a);
    await saveModel(tinyModel(), b);
    copyFileSync(join(b, MODEL_WEIGHTS), join(a, MODEL_WEIGHTS));
    expect(() => readModelArtifacts(a)).toThrow(/ne correspond pas à modele\.json \(somme de contrôle différente/);
  });

  it('detects weights of another architecture', async () => {
    const a = join(dir, 'arch-a');
    const b = join(dir, 'arch-b');
    await saveModel(tinyModel(4), a);
    await saveModel(tinyModel(8), b);
    copyFileSync(join(b, MODEL_WEIGHTS), join(a, MODEL_WEIGHTS));
    expect(() => readModelArtifacts(a)).toThrow(/trop long/);
  });

  it('rejects a modele.json that is not JSON or not a model', async () => {
    const folder = join(dir, 'bad-json');
    const files = await saveModel(tinyModel(), folder);
    writeFileSync(files.jsonPath, readFileSync(files.jsonPath, 'utf8').slice(0, 50));
    expect(() => readModelArtifacts(folder)).toThrow(/modele\.json n'est pas un JSON valide/);
    writeFileSync(files.jsonPath, '{"hello": 1}');
    expect(() => readModelArtifacts(folder)).toThrow(/modelTopology/);
  });
});

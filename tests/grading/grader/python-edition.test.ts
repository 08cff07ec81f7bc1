/**
 * A Python-edition submission (notebooks on the python3 kernel, Keras 3, modele.json from
 * to_json() + modele.weights.h5 from save_weights(), as the course does), executed by the student
 * in the .venv's Keras, then graded: with --no-execute (stored outputs, the model evaluated in
 * TypeScript) and with execution (ipykernel started in the sandbox).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, PROJECT_ROOT } from '../../../lib/paths';
import { gradeSubmission, type SubmissionGrade } from '../../../grading/grader/pipeline';
import { printedAccuracies } from '../../../grading/grader/steps/compare-outputs';
import { notebookEdition } from '../../../grading/grader/steps/validate-notebooks';
import { chooseSandbox } from '../../../grading/grader/sandbox';
import { gradesJson } from '../../../grading/grader/reports/data';
import { feedbackPage } from '../../../grading/grader/reports/html';
import { readNotebook } from '../../../grading/runner';
import { temporaryFolder } from '../../helpers/fixtures';
import { needsPython } from '../../helpers/tools';
import { fixtureSpec } from './submissions';

type Cell = { cell_type: 'code' | 'markdown'; source: string };

function notebook(cells: Cell[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' }, language_info: { name: 'python' } },
    cells: cells.map((c, i) => ({ id: `c${i}`, cell_type: c.cell_type, metadata: {}, source: c.source, ...(c.cell_type === 'code' ? { outputs: [], execution_count: null } : {}) })),
  });
}

/** The course's classification notebook, Python edition (pandas and matplotlib as in the course; one epoch on 3000 images). */
const CLASSIFICATION = notebook([
  { cell_type: 'markdown', source: '# Classification (édition Python)' },
  {
    cell_type: 'code',
    source: `import os
import pandas as pd
import matplotlib.pyplot as plt
import tensorflow as tf
import keras

observations_apprentissage = pd.read_csv('datas/fashion-mnist_train.csv', nrows=3000)
observations_test = pd.read_csv('datas/fashion-mnist_test.csv')
X_apprentissage = observations_apprentissage.iloc[:, 1:].to_numpy().reshape(-1, 28, 28, 1).astype('float32') / 255
y_apprentissage = keras.utils.to_categorical(observations_apprentissage.iloc[:, 0], 10)
X_test = observations_test.iloc[:, 1:].to_numpy().reshape(-1, 28, 28, 1).astype('float32') / 255
y_test = keras.utils.to_categorical(observations_test.iloc[:, 0], 10)
print(X_apprentissage.shape, X_test.shape)`,
  },
  {
    cell_type: 'code',
    source: `from keras.models import Sequential
from keras.layers import Dense, Dropout, Flatten, Input, Conv2D, MaxPooling2D
keras.utils.set_random_seed(13)
reseauNeurone1Convolution = Sequential()
reseauNeurone1Convolution.add(Input(shape=(28, 28, 1)))
reseauNeurone1Convolution.add(Conv2D(32, kernel_size=(3, 3), activation='relu'))
reseauNeurone1Convolution.add(MaxPooling2D(pool_size=(2, 2)))
reseauNeurone1Convolution.add(Dropout(0.2))
reseauNeurone1Convolution.add(Flatten())
reseauNeurone1Convolution.add(Dense(128, activation='relu'))
reseauNeurone1Convolution.add(Dense(10, activation='softmax'))
reseauNeurone1Convolution.compile(loss=keras.losses.categorical_crossentropy, optimizer=tf.keras.optimizers.Adam(), metrics=['accuracy'])
historique_apprentissage = reseauNeurone1Convolution.fit(X_apprentissage, y_apprentissage, batch_size=256, epochs=1, verbose=0)`,
  },
  {
    cell_type: 'code',
    source: `evaluation = reseauNeurone1Convolution.evaluate(X_test, y_test, verbose=0)
print('Erreur:', evaluation[0])
print('Précision:', evaluation[1])`,
  },
  {
    cell_type: 'code',
    source: `%matplotlib inline
plt.plot(historique_apprentissage.history['accuracy'], label='Apprentissage')
plt.title('Précision du modèle')
plt.legend()
plt.show()`,
  },
  {
    cell_type: 'code',
    source: `os.makedirs('modele', exist_ok=True)
model_json = reseauNeurone1Convolution.to_json()
with open("modele/modele.json", "w") as json_file:
    json_file.write(model_json)
reseauNeurone1Convolution.save_weights("modele/modele.weights.h5")
print("Modèle sauvegardé !")`,
  },
]);

/** The course's test_model notebook, Python edition (its own preprocessing, for every photo of images/). */
const TEST_MODEL = notebook([
  {
    cell_type: 'code',
    source: `import os
import numpy as np
from PIL import Image, ImageFilter
fichier_json = open('modele/modele.json', 'r')
modele_json = fichier_json.read()
fichier_json.close()
from keras.models import model_from_json
modele = model_from_json(modele_json)
modele.load_weights("modele/modele.weights.h5")
classes = ["Un T-shirt/haut", "Un pantalon", "Un pull", "Une robe", "Un manteau", "Des sandales", "Une chemise", "Des baskets", "Un sac", "Des bottes de cheville"]`,
  },
  {
    cell_type: 'code',
    source: `def load_and_preprocess_image(image_path, target_size=28, content_size=20):
    image = Image.open(image_path).convert('L')
    width, height = image.size
    if width > height:
        new_width, new_height = content_size, max(1, round(content_size * height / width))
    else:
        new_height, new_width = content_size, max(1, round(content_size * width / height))
    resized = image.resize((new_width, new_height), Image.LANCZOS).filter(ImageFilter.SHARPEN)
    canvas = Image.new('L', (target_size, target_size), 255)
    canvas.paste(resized, ((target_size - new_width) // 2, (target_size - new_height) // 2))
    pixels = np.array(canvas.getdata(), dtype=np.float32)
    return ((255 - pixels) / 255.0).reshape(1, target_size, target_size, 1)

for fichier in sorted(os.listdir('images')):
    probabilities = modele.predict(load_and_preprocess_image(os.path.join('images', fichier)), verbose=0)[0]
    predicted_class = np.argmax(probabilities)
    print(fichier)
    print(f"Selon moi l'image est : {classes[predicted_class]}\\n")`,
  },
]);

// The .venv of npm run setup:python: Keras for the student's side, ipykernel for the grader's kernel, nbclient to execute.
const python = needsPython(['keras', 'tensorflow', 'ipykernel', 'nbclient', 'PIL', 'pandas', 'matplotlib'], 'KERAS_PYTHON');

python.describe('a Python-edition submission (Keras 3, the course\'s modele.json + modele.weights.h5)', () => {
  const { dir, cleanup } = temporaryFolder();
  const submission = join(dir, 'classe', 'alice');
  // All the course's photos, the transparent one included: the course's Pillow code turns its background black
  // (the TypeScript edition makes it white), and the grader prepares photos as the student's edition does.
  const photos = join(dir, 'photos');
  let kerasAccuracy = NaN;
  beforeAll(() => {
    mkdirSync(submission, { recursive: true });
    mkdirSync(photos);
    for (const file of readdirSync(join(PROJECT_ROOT, 'images'))) copyFileSync(join(PROJECT_ROOT, 'images', file), join(photos, file));
    writeFileSync(join(submission, 'classification.ipynb'), CLASSIFICATION);
    writeFileSync(join(submission, 'test_model.ipynb'), TEST_MODEL);
    // The student's folder, as in the course: the data in datas/, the photos in images/.
    symlinkSync(dataDir(), join(submission, 'datas'));
    mkdirSync(join(submission, 'images'));
    for (const file of readdirSync(photos)) copyFileSync(join(photos, file), join(submission, 'images', file));
    const started = Date.now();
    const script = `import nbformat, sys\nfrom nbclient import NotebookClient\nfor name in sys.argv[2:]:\n    nb = nbformat.read(name, as_version=4)\n    NotebookClient(nb, kernel_name='python3', timeout=600, resources={'metadata': {'path': sys.argv[1]}}).execute()\n    nbformat.write(nb, name)`;
    const run = spawnSync(python.python!, ['-c', script, submission, join(submission, 'classification.ipynb'), join(submission, 'test_model.ipynb')], { encoding: 'utf8', timeout: 600_000, cwd: submission, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    if (run.status !== 0) throw new Error(`nbclient failed: ${run.stderr.slice(-3000)}`);
    process.stdout.write(`the student's run in Keras (nbclient, python3 kernel): ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const printed = printedIn(join(submission, 'classification.ipynb'));
    expect(printed).toHaveLength(1);
    kerasAccuracy = printed[0];
  }, 600_000);
  afterAll(cleanup);

  /** The accuracies a notebook printed ("Précision: ..."). */
  function printedIn(file: string): number[] {
    return printedAccuracies(readNotebook(file).cells.map((c) => (c.cell_type === 'code' ? c.outputs.map((o) => (o.output_type === 'stream' ? (Array.isArray(o.text) ? o.text.join('') : o.text) : '')).join('') : '')));
  }

  function expectPassed(grade: SubmissionGrade, label: string, kerasAccuracy: number): void {
    const failed = grade.checks.filter((c) => !c.passed);
    expect(failed).toEqual([]);
    expect(grade.edition).toBe('python');
    expect(grade.modelFormat).toBe('keras-json');
    process.stdout.write(`${label}: measured accuracy ${grade.accuracy} (Keras' evaluate printed ${kerasAccuracy}, |Δ| ${Math.abs(grade.accuracy! - kerasAccuracy).toExponential(2)}), ${grade.score}/${grade.maxScore}, ${(grade.durationMs / 1000).toFixed(1)} s\n`);
    expect(Math.abs(grade.accuracy! - kerasAccuracy)).toBeLessThan(1e-4);
  }

  it('is recognised as the Python edition', () => {
    expect(notebookEdition(readNotebook(join(submission, 'classification.ipynb')))).toBe('python');
  });

  it('graded with --no-execute: stored outputs judged, the model evaluated in TypeScript equals Keras\' evaluate', async () => {
    const scratchRoot = join(dir, 'travail-1');
    mkdirSync(scratchRoot);
    const grade = await gradeSubmission(submission, 'alice', { spec: fixtureSpec(), execute: false, sandbox: chooseSandbox(), index: 0, scratchRoot, imagesDir: photos });
    expectPassed(grade, '--no-execute', kerasAccuracy);
    expect(grade.checks.find((c) => c.id === 'model-files')!.message).toMatch(/Keras 3 \(modele\.json de to_json\(\) \+ modele\.weights\.h5 de save_weights\(\)\)/);
    const json = JSON.parse(gradesJson({ title: 'TP', gradedAt: new Date().toISOString(), executed: false, sandbox: grade.sandbox, submissions: [grade] }));
    expect(json.submissions[0]).toMatchObject({ edition: 'python', modelFormat: 'keras-json' });
    expect(feedbackPage(grade, { title: 'TP', gradedAt: new Date().toISOString() })).toContain('édition Python (noyau python3, Keras)');
  }, 300_000);

  it('graded with execution: the notebooks run on the .venv\'s python3 kernel in the sandbox', async () => {
    const scratchRoot = join(dir, 'travail-2');
    mkdirSync(scratchRoot);
    const spec = fixtureSpec({ timeouts: { cellSeconds: 180, notebookSeconds: 480, evaluateSeconds: 120 }, limits: { memoryMb: 4000 } });
    const outputRoot = join(dir, 'executes');
    const grade = await gradeSubmission(submission, 'alice', { spec, execute: true, sandbox: chooseSandbox(), index: 1, scratchRoot, imagesDir: photos, outputRoot });
    expect(grade.checks.find((c) => c.id === 'classification-runs')!.message).toMatch(/cellules exécutées sans erreur/);
    // The model graded is the one the grader's run trained (the submitted modele/ is dropped): Keras' evaluate of that run.
    const printed = printedIn(join(outputRoot, 'alice', 'classification.executed.ipynb'));
    expect(printed).toHaveLength(1);
    expectPassed(grade, `execution (sandbox ${grade.sandbox})`, printed[0]);
  }, 600_000);
});

/**
 * The model behind the web app: loaded once from modele/, predictions of concurrent requests
 * batched into one model call, and the test-set evaluation computed on first request.
 */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../lib/backend';
import { FASHION_CLASSES, imagesToTensor, labelsToOneHot, loadFashionMnist } from '../lib/data';
import { loadModel } from '../lib/io';
import { photosToTensor, type PreprocessedPhoto } from '../lib/preprocess';
import { confusionMatrix, evaluate, predictClasses } from '../lib/train';

/** What the API answers for one photo. */
export interface Prediction {
  classIndex: number;
  label: string;
  probabilities: number[];
}

/** The model's figures on the 10 000 test images, as the notebook prints them. */
export interface ModelEvaluation {
  loss: number;
  accuracy: number;
  confusion: number[][];
  seconds: number;
}

/** How to get a model, in French, shown when modele/ has none. */
export const HOW_TO_TRAIN = 'Entraînez-en un : `npm run lab` (ou le notebook classification.ipynb dans `npm start`), qui l’enregistre dans modele/.';

interface Pending {
  photo: PreprocessedPhoto;
  resolve: (prediction: Prediction) => void;
  reject: (error: Error) => void;
}

/** A loaded model (or the reason there is none) serving predictions. */
export class Predictor {
  private queue: Pending[] = [];
  private evaluation?: Promise<ModelEvaluation>;

  private constructor(
    readonly model: tfTypes.LayersModel | undefined,
    /** Why there is no usable model, in French (undefined when there is one). */
    readonly problem: string | undefined,
    readonly modelDir: string,
  ) {}

  /** Loads the model of `dir`; never throws: a missing or invalid model becomes `problem`. */
  static async load(dir: string): Promise<Predictor> {
    loadNativeTf();
    try {
      const model = await loadModel(dir);
      const input = model.inputs[0].shape;
      const output = model.outputs[0].shape;
      if (input.length !== 4 || input[1] !== 28 || input[2] !== 28 || input[3] !== 1 || output[output.length - 1] !== 10) {
        return new Predictor(undefined, `le modèle de ${dir} attend des entrées [${input.join(', ')}] et donne [${output.join(', ')}] ; il faut des images 28 x 28 x 1 et 10 classes.`, dir);
      }
      // One prediction now, so the first request does not pay for TensorFlow's warm-up.
      loadNativeTf().tidy(() => model.predict(loadNativeTf().zeros([1, 28, 28, 1])));
      return new Predictor(model, undefined, dir);
    } catch (error) {
      return new Predictor(undefined, `aucun modèle utilisable : ${(error as Error).message}`, dir);
    }
  }

  /** The probabilities of each class for one prepared photo; concurrent calls share one model call. */
  predict(photo: PreprocessedPhoto): Promise<Prediction> {
    if (!this.model) return Promise.reject(new Error(this.problem));
    return new Promise((resolve, reject) => {
      this.queue.push({ photo, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    const tf = loadNativeTf();
    try {
      const values = tf.tidy(() => (this.model!.predict(photosToTensor(tf, batch.map((p) => p.photo))) as tfTypes.Tensor).dataSync());
      batch.forEach((pending, i) => {
        const probabilities = Array.from(values.subarray(i * 10, (i + 1) * 10));
        const classIndex = probabilities.indexOf(Math.max(...probabilities));
        pending.resolve({ classIndex, label: FASHION_CLASSES[classIndex], probabilities });
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error as Error);
    }
  }

  /** The model's summary, line by line (as `model.summary()` prints it). */
  summary(): string[] {
    const lines: string[] = [];
    this.model?.summary(90, undefined, (line: string) => lines.push(line));
    return lines;
  }

  /** Test loss, accuracy and confusion matrix on the 10 000 test images, computed once on first call. */
  evaluate(): Promise<ModelEvaluation> {
    if (!this.model) return Promise.reject(new Error(this.problem));
    this.evaluation ??= (async () => {
      const started = performance.now();
      // A model saved without its training configuration is not compiled: evaluate needs the loss and metric.
      if (!this.model!.optimizer) this.model!.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      const test = loadFashionMnist('test');
      const tf = loadNativeTf();
      const xs = imagesToTensor(test);
      const ys = labelsToOneHot(test);
      try {
        const { loss, accuracy } = await evaluate(this.model!, xs, ys);
        const predicted = await predictClasses(this.model!, xs);
        return { loss, accuracy, confusion: confusionMatrix(test.labels, predicted), seconds: (performance.now() - started) / 1000 };
      } finally {
        tf.dispose([xs, ys]);
      }
    })();
    // A failure (e.g. datas/ missing) is reported, and retried on the next request.
    this.evaluation.catch(() => (this.evaluation = undefined));
    return this.evaluation;
  }
}

/** From bytes to the tensors a Keras-style model trains on: images [n,28,28,1] in [0,1], one-hot labels [n,10]. */
import type * as tfTypes from '@tensorflow/tfjs-node';
import { loadNativeTf } from '../backend';
import { IMAGE_PIXELS, IMAGE_SIDE } from './classes';
import type { LabelledImages } from './images';

/** Images as a float32 tensor [n, 28, 28, 1], each pixel divided by 255 (the course's scaling). */
export function imagesToTensor(set: LabelledImages): tfTypes.Tensor4D {
  const tf = loadNativeTf();
  const scaled = new Float32Array(set.count * IMAGE_PIXELS);
  const pixels = set.pixels;
  for (let i = 0; i < scaled.length; i++) scaled[i] = pixels[i] / 255;
  return tf.tensor4d(scaled, [set.count, IMAGE_SIDE, IMAGE_SIDE, 1]);
}

/** Labels as one-hot float32 rows [n, classCount] (Keras' `to_categorical`). */
export function labelsToOneHot(set: LabelledImages, classCount = 10): tfTypes.Tensor2D {
  const oneHot = new Float32Array(set.count * classCount);
  for (let i = 0; i < set.count; i++) {
    const label = set.labels[i];
    if (label >= classCount) throw new RangeError(`Label ${label} of image ${i} is not below ${classCount}.`);
    oneHot[i * classCount + label] = 1;
  }
  return loadNativeTf().tensor2d(oneHot, [set.count, classCount]);
}

/** Both tensors of a set: `xs` (images) and `ys` (one-hot labels). */
export function toTensors(set: LabelledImages, classCount = 10): { xs: tfTypes.Tensor4D; ys: tfTypes.Tensor2D } {
  return { xs: imagesToTensor(set), ys: labelsToOneHot(set, classCount) };
}

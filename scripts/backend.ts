/** `npm run backend`: reports the TensorFlow backend and proves it trains (one conv step), or says what to fix. */
import { describeBackend, loadNativeTf } from '../lib/backend';

try {
  const report = describeBackend();
  console.log(`backend: ${report.backend}`);
  console.log(`@tensorflow/tfjs-node: ${report.tfjsNodeVersion}`);
  console.log(`libtensorflow: ${report.tensorflowVersion ?? 'unknown'} (${report.route ?? 'installed by tfjs-node itself'})`);
  console.log(`oneDNN: ${report.oneDnn ? 'on' : 'off'}, cores: ${report.cores}`);
  const tf = loadNativeTf();
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const xs = tf.randomUniform([32, 28, 28, 1]);
  const ys = tf.oneHot(tf.randomUniform([32], 0, 10, 'int32'), 10).toFloat();
  const started = Date.now();
  model
    .trainOnBatch(xs, ys)
    .then((loss) => {
      console.log(`training step: ok (loss ${Number(loss).toFixed(3)}, ${Date.now() - started} ms)`);
    })
    .catch((error: Error) => {
      console.error(`training step failed: ${error.message}`);
      process.exit(1);
    });
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

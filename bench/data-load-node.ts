/** One measured run of this project's loader: CSV to training tensors. Prints a JSON line. */
import { performance } from 'node:perf_hooks';
import { loadNativeTf } from '../lib/backend';
import { readImageCsv } from '../lib/data/csv';
import { imagesToTensor, labelsToOneHot } from '../lib/data/tensors';

const file = process.argv[2];
loadNativeTf();
const started = performance.now();
const set = readImageCsv(file);
const parsed = performance.now();
const xs = imagesToTensor(set);
const ys = labelsToOneHot(set);
const done = performance.now();
console.log(
  JSON.stringify({
    rows: set.count,
    shape: xs.shape,
    labelsShape: ys.shape,
    parseSeconds: (parsed - started) / 1000,
    tensorSeconds: (done - parsed) / 1000,
    totalSeconds: (done - started) / 1000,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);

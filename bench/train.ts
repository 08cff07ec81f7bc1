/**
 * `npm run bench:train [-- --model one|four --epochs N --repeats R]`: trains a course model with the
 * project's own training path (as notebooks/classification.ipynb does) and, in the same run, the same
 * model and settings in Keras, alternating fresh processes; prints each side's median epoch time, the
 * ratio analyse-image / Keras (targets: 0.55 for the 1-conv, 0.75 for the 4-conv), both test accuracies, and each side's epoch against the
 * floor: the model's FLOPs at the speed of a matmul measured in the same run (bench/floor.ts).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fashionCsvPath } from '../lib/data/fashion';
import { PROJECT_ROOT } from '../lib/paths';
import { ensurePythonEnv } from '../scripts/python-env';
import { cpuTicks, describeSteal } from './steal';

const HELP = `npm run bench:train [-- options]

Trains a course model with analyse-image (model.fit, as the notebooks do) and with Keras on the same
machine, alternating fresh processes, and prints the median time per epoch of each and their ratio,
and each against the floor: the model's FLOPs per epoch at the speed of a float32 matmul measured in
the same run.

Options:
  --model one|four   the lab's 1-convolution or 4-convolution model (default: one)
  --epochs N         epochs per run (default: 3; the course trains 10)
  --repeats R        runs per side (default: 2; 6 with --augment, whose 5 % target is smaller
                     than the run-to-run noise of a shared machine)
  --batch B          batch size (default: 256, as the course)
  --no-keras         the project's figures alone
  --augment          instead: the project's plain epochs against its epochs on augmented batches
                     (rotation, shifts, shear, zoom, as the notebook; target <= 1.05x)

Keras runs in the project's .venv (tensorflow_cpu==2.21.0 from pip's index, made on first use).`;

/** What bench/floor.ts prints. */
interface Floor {
  epochFlops: number;
  matmulGflops: number;
  floorSeconds: number;
}

interface Run {
  side: string;
  epochSeconds: number[];
  fitSeconds: number;
  testLoss: number;
  testAccuracy: number;
  version: string;
}

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Runs one child, echoing its progress lines indented, and returns its final JSON line. */
function runChild<T = Run>(label: string, command: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stdout += text;
      for (const line of text.split(/[\r\n]+/)) {
        // Epoch summaries only: Keras' "188/188 - 12s - 64ms/step - ...", ours "188/188 [███] 12 s 64 ms/pas - ...".
        if (/ms\/pas|^\d+\/\d+ - \d/.test(line)) process.stdout.write(`    ${label}: ${line.trim()}\n`);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`${label} failed (exit ${code}):\n${stderr.split('\n').slice(-15).join('\n')}`));
      resolve(JSON.parse(last) as T);
    });
  });
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) return void console.log(HELP);
  const short = option('--model', 'one');
  const model = short.startsWith('four') ? 'four-conv' : short.startsWith('one') ? 'one-conv' : undefined;
  if (!model) throw new Error(`unknown model "${short}": use one or four`);
  const epochs = option('--epochs', '3');
  const augment = process.argv.includes('--augment');
  const repeats = Number(option('--repeats', augment ? '6' : '2'));
  const batch = option('--batch', '256');
  if (augment) return augmentBench(model, epochs, repeats, batch);
  let python: string | undefined;
  if (!process.argv.includes('--no-keras')) {
    try {
      python = ensurePythonEnv({ 'tensorflow_cpu==2.21.0': 'tensorflow', pandas: 'pandas' });
    } catch (error) {
      console.log(`Keras reference unavailable (${(error as Error).message}): printing this project's figures alone.\n`);
    }
  }
  console.log(`bench:train: ${model}, ${epochs} epochs, batch ${batch}, 48 000 / 12 000 split, ${repeats} alternating runs per side, each in a fresh process\n`);
  const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
  const floor = await runChild<Floor>('floor', tsx, [join('bench', 'floor.ts'), model, '48000', '12000']);
  console.log(`  floor: ${(floor.epochFlops / 1e12).toFixed(2)} TFLOP per epoch (training 48 000 + validation 12 000 images) at ${floor.matmulGflops.toFixed(0)} GFLOP/s (2048 x 2048 float32 matmul, now) = ${floor.floorSeconds.toFixed(2)} s per epoch\n`);
  const ours: Run[] = [];
  const keras: Run[] = [];
  const ticks = cpuTicks();
  for (let i = 0; i < repeats; i++) {
    // Alternate which side goes first, so slow drifts of the machine hit both alike.
    const order = i % 2 === 0 ? ['ours', 'keras'] : ['keras', 'ours'];
    for (const side of order) {
      if (side === 'ours') {
        const run = await runChild(`run ${i + 1} analyse-image`, tsx, [join('bench', 'train-project.ts'), model, epochs, batch]);
        ours.push(run);
        console.log(`  run ${i + 1} analyse-image: fit ${run.fitSeconds.toFixed(1)} s, test accuracy ${run.testAccuracy.toFixed(4)}`);
      } else if (python) {
        const run = await runChild(`run ${i + 1} Keras`, python, [join('bench', 'train_keras.py'), model, epochs, batch, fashionCsvPath('train'), fashionCsvPath('test')]);
        keras.push(run);
        console.log(`  run ${i + 1} Keras: fit ${run.fitSeconds.toFixed(1)} s, test accuracy ${run.testAccuracy.toFixed(4)}`);
      }
    }
  }
  const perEpoch = (runs: Run[]) => median(runs.flatMap((r) => r.epochSeconds));
  const row = (name: string, runs: Run[]) =>
    `${name.padEnd(46)} ${perEpoch(runs).toFixed(2).padStart(8)} s ${median(runs.map((r) => r.fitSeconds)).toFixed(1).padStart(8)} s ${median(runs.map((r) => r.testAccuracy)).toFixed(4).padStart(9)}`;
  console.log(`\n${'median over runs'.padEnd(46)} ${'s/epoch'.padStart(10)} ${'fit'.padStart(10)} ${'test acc.'.padStart(9)}`);
  console.log(row(`analyse-image (${ours[0].version})`, ours));
  if (keras.length) {
    console.log(row(keras[0].version, keras));
    const ratio = perEpoch(ours) / perEpoch(keras);
    const gap = median(ours.map((r) => r.testAccuracy)) - median(keras.map((r) => r.testAccuracy));
    console.log(`\nratio analyse-image / Keras, time per epoch: ${ratio.toFixed(2)} (target <= ${model === 'one-conv' ? '0.55' : '0.75'})`);
    console.log(`test accuracy, analyse-image - Keras: ${gap >= 0 ? '+' : ''}${gap.toFixed(4)} (same epochs; runs differ by their random initialisation)`);
  }
  const againstFloor = (runs: Run[]) => `${(perEpoch(runs) / floor.floorSeconds).toFixed(1)}x the floor`;
  console.log(`epoch against the floor (${floor.floorSeconds.toFixed(2)} s): analyse-image ${againstFloor(ours)}${keras.length ? `, Keras ${againstFloor(keras)}` : ''}`);
  const steal = describeSteal(ticks);
  if (steal) console.log(steal);
}

/** The project's plain epochs against its augmented ones (fitDataset on the augmentation flow). */
async function augmentBench(model: string, epochs: string, repeats: number, batch: string): Promise<void> {
  console.log(`bench:train --augment: ${model}, ${epochs} epochs, batch ${batch}, plain fit against fitDataset on augmented batches, ${repeats} alternating runs each\n`);
  const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
  const runs: Record<'plain' | 'augmented', Run[]> = { plain: [], augmented: [] };
  const ticks = cpuTicks();
  for (let i = 0; i < repeats; i++) {
    for (const mode of i % 2 === 0 ? (['plain', 'augmented'] as const) : (['augmented', 'plain'] as const)) {
      const run = await runChild(`run ${i + 1} ${mode}`, tsx, [join('bench', 'train-project.ts'), model, epochs, batch, mode]);
      runs[mode].push(run);
      console.log(`  run ${i + 1} ${mode}: fit ${run.fitSeconds.toFixed(1)} s, test accuracy ${run.testAccuracy.toFixed(4)}`);
    }
  }
  const perEpoch = (list: Run[]) => median(list.flatMap((r) => r.epochSeconds));
  console.log(`\n${'median over runs'.padEnd(30)} ${'s/epoch'.padStart(10)}`);
  for (const mode of ['plain', 'augmented'] as const) console.log(`${mode.padEnd(30)} ${perEpoch(runs[mode]).toFixed(2).padStart(8)} s`);
  console.log(`\nratio augmented / plain, time per epoch: ${(perEpoch(runs.augmented) / perEpoch(runs.plain)).toFixed(2)} (target <= 1.05)`);
  const steal = describeSteal(ticks);
  if (steal) console.log(steal);
}

main().catch((error: Error) => {
  console.error(`bench:train: ${error.message}`);
  process.exit(2);
});

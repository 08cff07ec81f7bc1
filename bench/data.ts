/**
 * `npm run bench:data`: loads the 133 MB train CSV into training tensors with this project's loader
 * and, in the same run, with the course's pandas code, alternating fresh processes; prints the
 * medians and the ratios (targets: time and peak memory <= pandas').
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fashionCsvPath } from '../lib/data/fashion';
import { PROJECT_ROOT } from '../lib/paths';
import { ensurePythonEnv } from '../scripts/python-env';

interface Run {
  totalSeconds: number;
  peakRssMB: number;
  [key: string]: unknown;
}

const repeats = Number(process.argv.find((a) => a.startsWith('--repeats='))?.split('=')[1] ?? 3);
const file = fashionCsvPath('train');

function runJson(command: string, args: string[]): Run {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: PROJECT_ROOT, maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}');
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function main(): void {
  console.log(`bench:data: ${file}, ${repeats} alternating runs per side, each in a fresh process\n`);
  let python: string | undefined;
  try {
    python = ensurePythonEnv({ pandas: 'pandas', numpy: 'numpy' });
  } catch (error) {
    console.log(`pandas reference unavailable (${(error as Error).message}): printing this project's figures alone.\n`);
  }
  const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
  const ours: Run[] = [];
  const theirs: Run[] = [];
  for (let i = 0; i < repeats; i++) {
    ours.push(runJson(tsx, [join('bench', 'data-load-node.ts'), file]));
    process.stdout.write(`  run ${i + 1}: analyse-image ${ours[i].totalSeconds.toFixed(2)} s, ${ours[i].peakRssMB.toFixed(0)} MB`);
    if (python) {
      theirs.push(runJson(python, [join('bench', 'data_load_pandas.py'), file]));
      process.stdout.write(` | pandas ${theirs[i].totalSeconds.toFixed(2)} s, ${theirs[i].peakRssMB.toFixed(0)} MB`);
    }
    process.stdout.write('\n');
  }
  const row = (name: string, runs: Run[], detail: string) =>
    `${name.padEnd(40)} ${median(runs.map((r) => r.totalSeconds)).toFixed(2).padStart(8)} s ${median(runs.map((r) => r.peakRssMB)).toFixed(0).padStart(8)} MB   ${detail}`;
  console.log(`\n${'median of runs'.padEnd(40)} ${'time'.padStart(10)} ${'peak RSS'.padStart(11)}`);
  const first = ours[0];
  console.log(row('analyse-image: CSV -> tensors', ours, `parse ${median(ours.map((r) => r.parseSeconds as number)).toFixed(2)} s + tensors ${median(ours.map((r) => r.tensorSeconds as number)).toFixed(2)} s; xs ${JSON.stringify(first.shape)}`));
  if (theirs.length) {
    console.log(row(`pandas ${theirs[0].pandas}: read_csv + iloc`, theirs, `read_csv ${median(theirs.map((r) => r.parseSeconds as number)).toFixed(2)} s + iloc ${median(theirs.map((r) => r.ilocSeconds as number)).toFixed(2)} s`));
    const timeRatio = median(ours.map((r) => r.totalSeconds)) / median(theirs.map((r) => r.totalSeconds));
    const memoryRatio = median(ours.map((r) => r.peakRssMB)) / median(theirs.map((r) => r.peakRssMB));
    console.log(`\nratio analyse-image / pandas: time ${timeRatio.toFixed(2)} (target <= 1.0), peak memory ${memoryRatio.toFixed(2)} (target <= 1.0)`);
  }
}

main();

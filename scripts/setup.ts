/**
 * `npm install` runs this after the packages are in place: native TensorFlow backend, the project's
 * compiled TensorFlow ops, data sets, Jupyter kernel, the grader's sandbox. Each step is idempotent,
 * so a second `npm install` is quick and changes nothing.
 */
import { ensureNativeBackend } from './setup/native-backend';
import { ensureCompiledOps } from './setup/compiled-ops';
import { ensureData } from './setup/data';
import { ensureKernel } from './setup/kernel';
import { ensureSandbox } from './setup/sandbox';
import { info, step } from './setup/log';

const STEPS: { title: string; run: () => Promise<void> }[] = [
  { title: 'moteur TensorFlow natif', run: ensureNativeBackend },
  { title: 'opérations compilées', run: ensureCompiledOps },
  { title: 'données', run: ensureData },
  { title: 'noyau Jupyter', run: ensureKernel },
  { title: 'bac à sable du correcteur', run: ensureSandbox },
];

async function main(): Promise<void> {
  const started = Date.now();
  for (const { title, run } of STEPS) {
    const stepStarted = Date.now();
    try {
      await run();
    } catch (error) {
      console.error(`\n[analyse-image] La mise en place a échoué (${title}) :\n${(error as Error).message}\n`);
      process.exit(1);
    }
    info(`(${title}: ${((Date.now() - stepStarted) / 1000).toFixed(1)} s)`);
  }
  step(`Prêt en ${((Date.now() - started) / 1000).toFixed(1)} s. Vérifiez avec \`npm test\`.`);
}

void main();

/**
 * Step: the grader's own look at the saved model, in a child process inside the sandbox
 * (checks `model-files`, `model-architecture`, `test-accuracy`): a printed "Précision" proves nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ModelProbe, ModelProbeRequest } from '../evaluate-model';
import { PROJECT_ROOT } from '../../../lib/paths';
import { kernelEnvironment } from '../scratch';
import { notebookEdition } from './validate-notebooks';
import { accuracyFraction } from '../spec';
import { recordCheck, type GradingContext } from './context';

const CHILD = join(__dirname, '..', 'evaluate-model.ts');

/** Most of the child's stdout kept: its answer is one line of a few kB. */
const MAX_STDOUT_BYTES = 4 * 1024 * 1024;

/** Runs evaluate-model.ts in the sandbox; resolves with its probe or a French reason. */
export async function runProbe(ctx: GradingContext): Promise<{ probe?: ModelProbe; problem?: string }> {
  const { sandbox, scratch, spec } = ctx;
  const request: ModelProbeRequest = {
    modelDir: sandbox.inside(join(scratch.dir, spec.modelDir)),
    imagesDir: sandbox.inside(join(scratch.dir, 'images')),
    maxModelBytes: spec.limits.modelMb * 1e6,
    // test_model's verdicts are compared with the grader's: the same photo preparation as the student's edition.
    asPythonCourse: notebookEdition(ctx.notebooks.testModel?.submitted) === 'python',
  };
  // From the project's folder with its tsconfig: a tsconfig.json the notebook wrote in its own folder
  // could otherwise remap the evaluation's imports (tsconfig "paths") to code of the student's.
  const argv = sandbox.wrap([process.execPath, '--require', require.resolve('tsx/cjs'), CHILD, JSON.stringify(request)], { cwd: PROJECT_ROOT });
  const env = { ...kernelEnvironment(sandbox.inside(scratch.dir), spec.modelDir), TSX_TSCONFIG_PATH: join(PROJECT_ROOT, 'tsconfig.json') };
  const limitMs = spec.timeouts.evaluateSeconds * 1000;
  const limited = await sandbox.withLimits(() =>
    new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean }>((resolve) => {
      const child = spawn(argv[0], argv.slice(1), { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      sandbox.track(child.pid);
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout.length < MAX_STDOUT_BYTES) stdout += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
      const timer = setTimeout(() => {
        timedOut = true;
        void sandbox.killAll();
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // the group already ended (killAll got it first)
        }
      }, limitMs);
      const finish = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, timedOut });
      };
      child.once('error', (error) => finish(null, error.message));
      child.once('close', finish);
    }),
  );
  await sandbox.killAll();
  const { code, signal, stdout, stderr, timedOut } = limited.value;
  if (limited.breach) return { problem: `l’évaluation du modèle a été arrêtée : ${limited.breach.message}` };
  if (timedOut) return { problem: `l’évaluation du modèle a dépassé ${spec.timeouts.evaluateSeconds} s.` };
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line) {
    const lines = stderr.trim().split('\n');
    const last = lines.filter((l) => /Error|error/.test(l))[0] ?? lines.pop() ?? '';
    return { problem: `l’évaluation du modèle a échoué (${signal ? `signal ${signal}` : `code ${code}`}) : ${last.slice(0, 300)}` };
  }
  return { probe: JSON.parse(line.slice('RESULT '.length)) as ModelProbe };
}

/** The step: probes the model and records its three checks. */
export async function probeModel(ctx: GradingContext): Promise<void> {
  ctx.onProgress?.('évaluation du modèle sur les 10 000 images de test');
  const { probe, problem } = await runProbe(ctx);
  ctx.probe = probe;
  ctx.probeProblem = problem;
  if (!probe) {
    for (const id of ['model-files', 'model-architecture', 'test-accuracy'] as const) recordCheck(ctx, id, 0, `Non vérifiable : ${problem}`);
    return;
  }
  recordCheck(ctx, 'model-files', probe.files.ok ? 1 : 0, probe.files.message);
  if (!probe.architecture) recordCheck(ctx, 'model-architecture', 0, 'Non vérifiable : les fichiers du modèle ne sont pas valides.');
  else recordCheck(ctx, 'model-architecture', probe.architecture.ok ? 1 : 0, probe.architecture.message);
  if (!probe.evaluation) {
    recordCheck(ctx, 'test-accuracy', 0, 'Non mesurable : le modèle sauvegardé n’est pas utilisable (voir les vérifications du modèle).');
    return;
  }
  const { accuracy, loss, images } = probe.evaluation;
  const fraction = accuracyFraction(ctx.spec, accuracy);
  const measured = `Précision mesurée par le correcteur sur les ${images.toLocaleString('fr-FR')} images de test : ${accuracy.toFixed(4)} (erreur ${loss.toFixed(4)})`;
  recordCheck(ctx, 'test-accuracy', fraction, fraction >= 1 ? `${measured} ≥ ${ctx.spec.accuracy.pass} : tous les points.` : `${measured} < ${ctx.spec.accuracy.pass} : ${fraction > 0 ? `${Math.round(fraction * 100)} % des points` : 'aucun point'}.`);
}

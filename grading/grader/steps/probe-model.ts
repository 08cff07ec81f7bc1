/**
 * Step: the grader's own look at the saved model, in a child process inside the sandbox
 * (checks `model-files`, `model-architecture`, `test-accuracy`): a printed "Précision" proves nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ModelProbe, ModelProbeRequest } from '../evaluate-model';
import { kernelEnvironment } from '../scratch';
import { accuracyFraction } from '../spec';
import { recordCheck, type GradingContext } from './context';

const CHILD = join(__dirname, '..', 'evaluate-model.ts');

/** Runs evaluate-model.ts in the sandbox; resolves with its probe or a French reason. */
export async function runProbe(ctx: GradingContext): Promise<{ probe?: ModelProbe; problem?: string }> {
  const request: ModelProbeRequest = {
    modelDir: join(ctx.scratch.dir, ctx.spec.modelDir),
    imagesDir: join(ctx.scratch.dir, 'images'),
    maxModelBytes: ctx.spec.limits.modelMb * 1e6,
  };
  const argv = ctx.sandbox.wrap([process.execPath, '--require', require.resolve('tsx/cjs'), CHILD, JSON.stringify(request)]);
  const limitMs = ctx.spec.timeouts.evaluateSeconds * 1000;
  const limited = await ctx.sandbox.withMemoryLimit(ctx.spec.limits.memoryMb, () =>
    new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean }>((resolve) => {
      const child = spawn(argv[0], argv.slice(1), { cwd: ctx.scratch.dir, env: kernelEnvironment(ctx.scratch.dir), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      ctx.sandbox.track(child.pid);
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
      const timer = setTimeout(() => {
        timedOut = true;
        void ctx.sandbox.killAll();
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
  await ctx.sandbox.killAll();
  const { code, signal, stdout, stderr, timedOut } = limited.value;
  if (limited.memoryExceeded !== undefined) return { problem: `l’évaluation du modèle a dépassé la mémoire permise (${Math.round(limited.memoryExceeded)} Mo pour ${ctx.spec.limits.memoryMb} Mo).` };
  if (timedOut) return { problem: `l’évaluation du modèle a dépassé ${ctx.spec.timeouts.evaluateSeconds} s.` };
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line) {
    const last = stderr.trim().split('\n').filter((l) => /Error|error/.test(l))[0] ?? stderr.trim().split('\n').pop() ?? '';
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

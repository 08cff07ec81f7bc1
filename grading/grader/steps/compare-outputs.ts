/**
 * Steps that hold what the notebooks printed against the grader's own measures: the accuracy the
 * classification notebook shows (`reported-accuracy`) and test_model's verdicts (`test-model-predictions`).
 */
import { printedText, recordCheck, type GradingContext } from './context';

/** Every accuracy a notebook printed on a line of its own ("Précision: 0.9066", "Précision : 91,2 %"). */
export function printedAccuracies(texts: string[]): number[] {
  const values: number[] = [];
  for (const text of texts) {
    for (const line of text.split(/\r?\n|\r/)) {
      const match = /^\s*Pr[ée]cision\s*:?\s*([0-9]+(?:[.,][0-9]+)?)\s*(%?)\s*$/i.exec(line);
      if (!match) continue;
      const value = Number(match[1].replace(',', '.'));
      values.push(match[2] || value > 1 ? value / 100 : value);
    }
  }
  return values;
}

/** test_model's verdicts: file name -> label, from lines "<file>" then "Selon moi l'image est : <label>". */
export function printedPredictions(texts: string[]): Map<string, string> {
  const found = new Map<string, string>();
  const pattern = /([^\s/\\]+\.(?:png|jpe?g|webp|gif))\s*\n\s*Selon moi l['’]image est\s*:\s*([^\n]+)/gi;
  for (const text of texts) for (const match of text.matchAll(pattern)) found.set(match[1], match[2].trim());
  return found;
}

/** The step: compares printed accuracies with the measured one. */
export function compareReportedAccuracy(ctx: GradingContext): void {
  const measured = ctx.probe?.evaluation?.accuracy;
  const printed = printedAccuracies(printedText(ctx.notebooks.classification));
  if (measured === undefined) {
    recordCheck(ctx, 'reported-accuracy', 0, 'Non vérifiable : le correcteur n’a pas pu mesurer la précision du modèle sauvegardé.');
    return;
  }
  if (printed.length === 0) {
    recordCheck(ctx, 'reported-accuracy', 0, `Le notebook ${ctx.spec.notebooks.classification} n’affiche aucune ligne « Précision: … » (résultat de model.evaluate).`);
    return;
  }
  const tolerance = ctx.spec.accuracy.reportedTolerance;
  const closest = printed.reduce((best, v) => (Math.abs(v - measured) < Math.abs(best - measured) ? v : best));
  const ok = Math.abs(closest - measured) <= tolerance;
  recordCheck(
    ctx,
    'reported-accuracy',
    ok ? 1 : 0,
    ok
      ? `Le notebook affiche Précision ${closest.toFixed(4)}, cohérente avec la mesure du correcteur (${measured.toFixed(4)}).`
      : `Le notebook affiche Précision ${printed.map((v) => v.toFixed(4)).join(', ')} mais le modèle sauvegardé n’obtient que ${measured.toFixed(4)} (écart > ${tolerance}) : la précision affichée n’est pas celle du modèle rendu.`,
  );
}

/** The step: compares test_model's printed verdicts with the grader's predictions on the same photos. */
export function compareTestModelPredictions(ctx: GradingContext): void {
  const expected = ctx.probe?.predictions;
  if (!expected) {
    recordCheck(ctx, 'test-model-predictions', 0, 'Non vérifiable : le modèle sauvegardé n’est pas utilisable.');
    return;
  }
  const printed = printedPredictions(printedText(ctx.notebooks.testModel));
  const compared = expected.filter((p) => printed.has(p.file));
  const missing = expected.filter((p) => !printed.has(p.file));
  const wrong = compared.filter((p) => printed.get(p.file) !== p.label);
  // With execution every photo must be classified; stored outputs are about the student's own photos.
  const problems: string[] = [];
  if (ctx.execute && missing.length) problems.push(`pas de verdict « Selon moi l'image est : … » pour ${missing.map((p) => p.file).join(', ')}`);
  if (!ctx.execute && compared.length === 0) problems.push('aucune prédiction vérifiable : aucune photo nommée dans les sorties n’est dans images/');
  for (const p of wrong) problems.push(`${p.file} : le notebook dit « ${printed.get(p.file)} », le modèle donne « ${p.label} »`);
  recordCheck(
    ctx,
    'test-model-predictions',
    problems.length ? 0 : 1,
    problems.length ? `${problems.join(' ; ')}.` : `Les ${compared.length} verdicts de ${ctx.spec.notebooks.testModel} sont ceux que le correcteur obtient avec le modèle sauvegardé sur les mêmes photos.`,
  );
}

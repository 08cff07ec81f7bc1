/** The verifier's French text: what it checked, each check with the grader's own message and points, the points expected. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_TITLES } from '../grader/reports';
import { maxScore, type GradingSpec } from '../grader/spec';
import { shownPath, type Verification, type VerifierTarget } from './verify';

/** A number as French writes it (0,9 ; 18,5). */
function fr(value: number): string {
  return value.toLocaleString('fr-FR', { maximumFractionDigits: 2 });
}

/** The spec in one line: total, and the accuracy giving all its points. */
export function describeSpec(spec: GradingSpec): string {
  return `${fr(maxScore(spec))} points ; tous les points de précision à partir de ${fr(spec.accuracy.pass)}`;
}

/** The header: which notebooks, model, photos and spec are checked. */
export function headerLines(target: VerifierTarget, cwd: string): string[] {
  const { spec } = target;
  const shown = (path: string) => shownPath(path, cwd);
  return [
    `Vérification avant de rendre : ${spec.title}`,
    `Notebooks : ${shown(join(target.folder, spec.notebooks.classification))}, ${shown(join(target.folder, spec.notebooks.testModel))}`,
    `Modèle : ${shown(target.modelDir)}/ (${target.modelOrigin}${existsSync(target.modelDir) ? '' : ' ; ce dossier n’existe pas'})`,
    `Photos des verdicts enregistrés : ${target.imagesDir ? `${shown(target.imagesDir)}/` : 'images/ du projet'}`,
    `Barème : ${target.specOrigin} (${describeSpec(spec)})`,
  ];
}

function indentMessage(label: string, message: string): string {
  return `    ${label}${message}`;
}

/** What to hand in, as found on disk: the two notebooks and the model folder (the grader wants them side by side, the folder named as the spec says). */
function handIn(target: VerifierTarget, cwd: string): string {
  const { spec } = target;
  const files = `${shownPath(join(target.folder, spec.notebooks.classification), cwd)}, ${shownPath(join(target.folder, spec.notebooks.testModel), cwd)}`;
  const model = shownPath(target.modelDir, cwd);
  return target.asIs ? `${files} et ${model}/` : `${files} et le dossier ${model}/ (rendu sous le nom ${spec.modelDir}/, à côté des deux notebooks)`;
}

/** The result, check by check, then the points expected and the verdict. */
export function resultLines(verification: Verification, cwd = process.cwd()): string[] {
  const quickRan = verification.quick !== undefined;
  const { spec } = verification.target;
  const lines: string[] = [];
  lines.push(quickRan ? 'Résultat (« enregistré » : vos sorties et votre modèle, comme npm run grade -- --no-execute ; « rapide » : l’exécution rapide) :' : 'Résultat (vos sorties enregistrées et votre modèle, comme npm run grade -- --no-execute) :');
  for (const check of verification.checks) {
    lines.push(`${check.passed ? '✔' : '✘'} ${CHECK_TITLES[check.id] ?? check.id} : ${fr(check.points)} / ${fr(check.maxPoints)}`);
    const { stored, quick } = check;
    if (!quick) {
      lines.push(indentMessage(quickRan ? 'enregistré : ' : '', stored.message));
      continue;
    }
    // A failure is shown from the run(s) that failed; a pass from the stored run, plus the quick run's proof that the notebook runs.
    const runCheck = check.id === 'classification-runs' || check.id === 'test-model-runs';
    const shown = [...(!stored.passed || check.passed ? [['enregistré : ', stored.message]] : []), ...(!quick.passed || (check.passed && runCheck) ? [['rapide : ', quick.message]] : [])];
    // Both run checks end with the same list of steps left (the grader's sentence): say it once.
    const sentence = check.id === 'classification-runs' ? verification.pendingSteps.classification : check.id === 'test-model-runs' ? verification.pendingSteps.testModel : undefined;
    const common = sentence !== undefined && shown.length === 2 && shown.every(([, message]) => message.endsWith(` ${sentence}`)) ? sentence : undefined;
    for (const [label, message] of shown) lines.push(indentMessage(label, common ? message.slice(0, -common.length - 1) : message));
    if (common) lines.push(indentMessage('', common));
  }
  const quickClassification = verification.checks.find((c) => c.id === 'classification-runs')?.quick;
  if (quickClassification && !quickClassification.passed && spec.freshModel && verification.checks.some((c) => c.id !== 'classification-runs' && c.quick && !c.quick.passed)) {
    lines.push(`  (le correcteur exécute ${spec.notebooks.classification} sur un dossier ${spec.modelDir}/ vide et note le modèle qu’il sauvegarde : tant que ce notebook ne s’exécute pas de bout en bout, les vérifications du modèle échouent aussi)`);
  }
  if (verification.quick?.accuracy !== undefined) {
    lines.push(`  (précision du modèle de l’exécution rapide : ${verification.quick.accuracy.toFixed(4)}, non comptée : le mode rapide n’apprend que sur un petit échantillon, une époque)`);
  }
  const notes = [...new Set([...verification.stored.notes, ...(verification.quick?.notes ?? [])])];
  if (notes.length) {
    lines.push('', 'Remarques du correcteur :');
    for (const note of notes) lines.push(`  - ${note}`);
  }
  lines.push('');
  const failed = verification.checks.filter((c) => !c.passed).length;
  lines.push(`Points attendus : ${fr(verification.score)} / ${fr(verification.maxScore)}${quickRan ? ' (pour chaque vérification, le moins bon des deux résultats : le correcteur exécute vos notebooks)' : ''}.`);
  if (!quickRan) lines.push('Attention : l’exécution rapide n’a pas été faite (--no-execute) ; rien ne prouve que vos notebooks s’exécutent de bout en bout.');
  if (verification.passed) {
    lines.push(`✔ Les ${verification.checks.length} vérifications réussissent${quickRan ? ', et vos notebooks s’exécutent de bout en bout' : ''} : vous pouvez rendre ${handIn(verification.target, cwd)}.`);
  } else {
    lines.push(`✘ ${failed} vérification${failed > 1 ? 's' : ''} sur ${verification.checks.length} échoue${failed > 1 ? 'nt' : ''} : corrigez ce qui est marqué ✘ avant de rendre votre travail.`);
  }
  return lines;
}

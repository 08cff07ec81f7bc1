/** The French HTML pages: one feedback page per student, and the class overview (index.html). */
import { FASHION_CLASSES } from '../../../lib/data/classes';
import type { IntegrityFlag, IntegrityFlagKind } from '../integrity';
import type { SubmissionGrade } from '../pipeline';
import type { CheckId } from '../spec';
import type { ClassReport } from './data';
import { FORMAT_LABELS } from '../../../lib/io/model';
import { EDITION_LABELS } from '../steps/context';

/** What each check verifies, in the students' words. */
export const CHECK_TITLES: Record<CheckId, string> = {
  'notebooks-valid': 'Les notebooks sont présents et lisibles',
  'classification-runs': 'classification.ipynb s’exécute sans erreur',
  'test-model-runs': 'test_model.ipynb s’exécute sans erreur',
  'model-files': 'Les fichiers du modèle (modele/) sont complets',
  'model-architecture': 'Le modèle prend une image 28 x 28 x 1 et donne 10 probabilités',
  'test-accuracy': 'Précision du modèle sur les 10 000 images de test',
  'reported-accuracy': 'La précision affichée est celle du modèle rendu',
  'test-model-predictions': 'test_model classe les photos comme le modèle rendu',
};

/** Escapes text for HTML. */
export function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 62rem; color: #1d2330; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.sub { color: #5a6270; margin-top: 0; }
.score { font-size: 2.4rem; font-weight: 700; } .score small { font-size: 1.1rem; color: #5a6270; font-weight: 400; }
.ok { color: #1a7f37; } .ko { color: #c0392b; }
table { border-collapse: collapse; margin-top: .6rem; }
th, td { padding: .4rem .6rem; border-bottom: 1px solid #e1e4ea; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.cm td { text-align: right; font-variant-numeric: tabular-nums; border: 1px solid #fff; min-width: 2.6rem; }
table.cm th { font-weight: 500; font-size: .85rem; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 1rem; font-size: .85rem; font-weight: 600; }
.badge.ok { background: #dafbe1; } .badge.ko { background: #ffe3e0; }
.badge.flag { background: #fff1c2; color: #7a5200; font-weight: 500; margin: .1rem 0; border-radius: .4rem; }
.badge.flag a, td code { white-space: nowrap; }
.notes li { color: #5a6270; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${htmlEscape(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}

function formatNumber(value: number, digits = 2): string {
  return value.toLocaleString('fr-FR', { maximumFractionDigits: digits });
}

/** The confusion matrix as a shaded table: rows are the true classes, columns the predicted ones. */
export function confusionTable(confusion: number[][], classes: readonly string[] = FASHION_CLASSES): string {
  const head = `<tr><th>vraie \\ prédite</th>${classes.map((c) => `<th>${htmlEscape(c)}</th>`).join('')}<th>bien classées</th></tr>`;
  const rows = confusion.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    const cells = row.map((count, j) => {
      const share = count / total;
      const color = i === j ? `rgba(26, 127, 55, ${(0.1 + 0.75 * share).toFixed(2)})` : `rgba(192, 57, 43, ${Math.min(0.85, 3 * share).toFixed(2)})`;
      return `<td style="background:${count ? color : 'transparent'}" title="${count} images « ${htmlEscape(classes[i])} » classées « ${htmlEscape(classes[j])} »">${count}</td>`;
    });
    return `<tr><th>${htmlEscape(classes[i])}</th>${cells.join('')}<td>${formatNumber((100 * row[i]) / total, 1)} %</td></tr>`;
  });
  return `<table class="cm">${head}${rows.join('')}</table>`;
}

/**
 * One student's feedback page, titled with the student's name. It never shows integrity flags:
 * they name classmates, and this page is the student's (flags are in index.html and grades.json).
 */
export function feedbackPage(grade: SubmissionGrade, report: Pick<ClassReport, 'title' | 'gradedAt'>, links: { label: string; href: string }[] = []): string {
  const verdict = grade.passed ? '<span class="badge ok">réussi</span>' : '<span class="badge ko">à reprendre</span>';
  const rows = grade.checks
    .map((c) => `<tr><td class="${c.passed ? 'ok' : 'ko'}">${c.passed ? '✔' : '✘'}</td><td><strong>${htmlEscape(CHECK_TITLES[c.id] ?? c.id)}</strong><br>${htmlEscape(c.message)}</td><td class="num">${formatNumber(c.points)} / ${formatNumber(c.maxPoints)}</td></tr>`)
    .join('\n');
  const how = grade.executed ? 'Les notebooks ont été exécutés par le correcteur' : 'Les sorties enregistrées dans les notebooks ont été corrigées (sans les exécuter)';
  const edition = `édition ${EDITION_LABELS[grade.edition ?? 'typescript']}${grade.modelFormat ? `, modèle ${FORMAT_LABELS[grade.modelFormat]}` : ''}`;
  const parts = [
    `<h1>${htmlEscape(grade.name)}</h1>`,
    `<p class="sub">${htmlEscape(report.title)}${grade.participant ? ` · participant n° ${htmlEscape(grade.participant)}` : ''} · corrigée le ${new Date(report.gradedAt).toLocaleString('fr-FR', { timeZone: 'Europe/Paris' })} · ${how} · ${htmlEscape(edition)}.</p>`,
    `<p class="score">${formatNumber(grade.score)} <small>/ ${formatNumber(grade.maxScore)} points</small> ${verdict}</p>`,
    `<h2>Vérifications</h2>\n<table><tr><th></th><th>Ce qui est vérifié, et ce que le correcteur a trouvé</th><th>Points</th></tr>\n${rows}\n</table>`,
  ];
  if (grade.confusion) {
    parts.push(`<h2>Matrice de confusion du modèle rendu</h2>\n<p class="sub">Sur les 10 000 images de test, mesurée par le correcteur (précision ${formatNumber(100 * (grade.accuracy ?? 0), 2)} %). En vert les images bien classées ; en rouge, les confusions.</p>\n${confusionTable(grade.confusion)}`);
  }
  if (grade.predictions?.length) {
    const preds = grade.predictions.map((p) => `<tr><td>${htmlEscape(p.file)}</td><td>${htmlEscape(p.label)}</td><td class="num">${formatNumber(100 * p.probability, 2)} %</td></tr>`).join('');
    parts.push(`<h2>Ce que le modèle rendu voit sur les photos</h2>\n<table><tr><th>Photo</th><th>Classe prédite</th><th>Probabilité</th></tr>${preds}</table>`);
  }
  if (links.length) parts.push(`<h2>Notebooks exécutés</h2>\n<ul>${links.map((l) => `<li><a href="${htmlEscape(l.href)}">${htmlEscape(l.label)}</a></li>`).join('')}</ul>`);
  if (grade.notes.length) parts.push(`<h2>Remarques</h2>\n<ul class="notes">${grade.notes.map((n) => `<li>${htmlEscape(n)}</li>`).join('')}</ul>`);
  return page(`${grade.name} : ${formatNumber(grade.score)} / ${formatNumber(grade.maxScore)}`, parts.join('\n'));
}

/** Short French labels of the integrity flags, for the class overview. */
const FLAG_LABELS: Record<IntegrityFlagKind, string> = {
  'identical-weights': 'poids identiques à',
  'identical-notebook': 'notebook identique à',
  'output-truncated': 'sorties tronquées',
};

/** A submission's integrity flags as badges linking to the other submissions' rows (instructor-facing only). */
function flagBadges(flags: readonly IntegrityFlag[]): string {
  return flags
    .map((f) => `<span class="badge flag" title="${htmlEscape(f.message)}">${FLAG_LABELS[f.kind] ?? f.kind} ${f.with.map((other) => `<a href="#${htmlEscape(`s-${other}`)}">${htmlEscape(other)}</a>`).join(', ')}</span>`)
    .join('<br>');
}

/** The class overview, for the instructor: one row per submission (name linking to its feedback page, id, integrity flags). */
export function indexPage(report: ClassReport, feedbackHref: (id: string) => string): string {
  const passed = report.submissions.filter((s) => s.passed).length;
  const flagged = report.submissions.filter((s) => s.flags.length).length;
  const participants = report.submissions.some((s) => s.participant);
  const rows = report.submissions
    .map((s) => `<tr id="${htmlEscape(`s-${s.id}`)}"><td><a href="${htmlEscape(feedbackHref(s.id))}">${htmlEscape(s.name)}</a></td><td><code>${htmlEscape(s.id)}</code></td>${participants ? `<td>${htmlEscape(s.participant ?? '')}</td>` : ''}<td class="num">${formatNumber(s.score)} / ${formatNumber(s.maxScore)}</td><td class="num">${s.accuracy === undefined ? '–' : `${formatNumber(100 * s.accuracy, 2)} %`}</td><td>${s.passed ? '<span class="badge ok">réussi</span>' : `<span class="badge ko">à reprendre</span> ${htmlEscape(s.checks.filter((c) => !c.passed).map((c) => c.id).join(', '))}`}</td><td>${flagBadges(s.flags)}</td></tr>`)
    .join('\n');
  return page(
    `${report.title} : notes`,
    `<h1>${htmlEscape(report.title)}</h1>\n<p class="sub">${report.submissions.length} soumissions, ${passed} réussies · ${flagged ? `${flagged} signalée${flagged > 1 ? 's' : ''} (poids ou notebook identiques, sorties tronquées : à examiner, sans effet sur la note)` : 'aucune soumission signalée'} · ${report.executed ? 'notebooks exécutés' : 'sorties enregistrées'} · isolation : <span title="${htmlEscape(report.sandboxReason ?? '')}">${htmlEscape(report.sandbox)}</span></p>${report.sandboxReason ? `\n<p class="sub">Isolation : ${htmlEscape(report.sandboxReason)}.</p>` : ''}\n<table><tr><th>Nom</th><th>Identifiant</th>${participants ? '<th>Participant</th>' : ''}<th>Note</th><th>Précision (test)</th><th>Résultat</th><th>Intégrité</th></tr>\n${rows}\n</table>`,
  );
}

/**
 * The auto-grader: `npm run grade -- <path> [options]`. <path> is one submission folder or a class
 * folder with one submission per subfolder. Run with --help.
 */
import { availableParallelism } from 'node:os';
import { relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import { loadNativeTf } from '../../lib/backend';
import { PROJECT_ROOT } from '../../lib/paths';
import { ClassProgress, discoverSubmissions, gradeClass, summaryTable } from '../grader/class-run';
import { flagIntegrity } from '../grader/integrity';
import { writeReports } from '../grader/reports';
import { chooseSandbox, type SandboxMode } from '../grader/sandbox';
import { makeScratchRoot } from '../grader/scratch';
import { DEFAULT_SPEC, loadSpec, maxScore, type GradingSpec } from '../grader/spec';

const USAGE = `Correcteur automatique du TP « Analyse d'image ».

Usage : npm run grade -- <chemin> [options]
  <chemin>  le dossier d'une soumission (classification.ipynb, test_model.ipynb, modele/)
            ou le dossier d'une classe (une soumission par sous-dossier, nommé par l'étudiant).

Options :
  --report DIR       où écrire grades.json, grades.csv, junit.xml, index.html, feedback/<id>.html
                     et executed/<id>/*.ipynb (défaut : reports/grading)
  --jobs N           soumissions corrigées en parallèle (défaut : 1 avec exécution, ${availableParallelism()} sans)
  --no-execute       ne pas exécuter les notebooks : corriger leurs sorties enregistrées
  --timeout S        limite par cellule en secondes (défaut du barème : ${DEFAULT_SPEC.timeouts.cellSeconds})
  --spec FILE        barème JSON (points, seuils de précision, limites) appliqué sur le barème par défaut
  --images DIR       photos que test_model doit classer (défaut : images/ du projet)
  --sandbox MODE     auto (défaut : bubblewrap s'il fonctionne, sinon user en root, sinon none),
                     bubblewrap (espaces de noms : la soumission ne voit que son dossier, pas de
                     réseau ; en root, un utilisateur système à part en plus), user (root : un
                     utilisateur système par soumission, via setpriv) ou none
  --keep-scratch     garder les dossiers de travail (pour déboguer)
  --print-spec       afficher le barème effectif (JSON) et quitter
  -h, --help         cette aide

La soumission n'est jamais modifiée : elle est copiée dans un dossier de travail. Le modèle
sauvegardé est évalué par le correcteur lui-même sur les 10 000 images de test.
Codes de sortie : 0 toutes les soumissions réussissent, 1 au moins une échoue une vérification,
2 le correcteur ne peut pas fonctionner (arguments, barème, moteur TensorFlow, erreur interne).`;

class UsageError extends Error {}

function positive(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} attend un nombre positif, pas ${JSON.stringify(value)}.`);
  return n;
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

async function main(): Promise<number> {
  // TensorFlow's start-up notices would bury the progress display.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      report: { type: 'string' },
      jobs: { type: 'string' },
      'no-execute': { type: 'boolean', default: false },
      timeout: { type: 'string' },
      spec: { type: 'string' },
      images: { type: 'string' },
      sandbox: { type: 'string', default: 'auto' },
      'keep-scratch': { type: 'boolean', default: false },
      'print-spec': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let spec: GradingSpec = values.spec ? loadSpec(values.spec) : DEFAULT_SPEC;
  const timeout = positive(values.timeout, '--timeout');
  if (timeout) spec = { ...spec, timeouts: { ...spec.timeouts, cellSeconds: timeout } };
  if (values['print-spec']) {
    console.log(JSON.stringify(spec, null, 2));
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `un seul chemin attendu, reçu : ${positionals.join(' ')}` : 'indiquez le dossier à corriger (npm run grade -- <chemin>).');
  if (!['auto', 'bubblewrap', 'user', 'none'].includes(values.sandbox!)) throw new UsageError(`--sandbox attend auto, bubblewrap, user ou none, pas ${values.sandbox}.`);
  const execute = !values['no-execute'];
  const jobs = Math.round(positive(values.jobs, '--jobs') ?? (execute ? 1 : availableParallelism()));
  const target = resolve(positionals[0]);
  const reportDir = resolve(values.report ?? resolve(PROJECT_ROOT, 'reports', 'grading'));
  if (isInside(reportDir, target)) throw new UsageError(`--report ${reportDir} est dans le dossier corrigé : choisissez un dossier à part (le correcteur ne modifie jamais les soumissions).`);
  const submissions = discoverSubmissions(target, spec);
  // The grader evaluates every model natively: fail now, with the fix, rather than once per student.
  loadNativeTf();
  const sandbox = chooseSandbox(values.sandbox as SandboxMode | 'auto');

  console.error(`${submissions.length} soumission${submissions.length > 1 ? 's' : ''} à corriger (${execute ? 'notebooks exécutés' : 'sorties enregistrées, sans exécution'}, ${jobs} en parallèle, barème sur ${maxScore(spec)} points).`);
  console.error(`Isolation : ${sandbox.reason}.\n`);
  const scratchRoot = makeScratchRoot();
  const progress = new ClassProgress();
  let grades;
  try {
    grades = await gradeClass(
      submissions,
      { spec, execute, sandbox, jobs, scratchRoot, outputRoot: execute ? resolve(reportDir, 'executed') : undefined, imagesDir: values.images ? resolve(values.images) : undefined, keepScratch: values['keep-scratch'] },
      (event) => progress.handle(event),
    );
  } finally {
    progress.finish();
    if (!values['keep-scratch']) rmSync(scratchRoot, { recursive: true, force: true });
  }
  // Class-level: identical weights or notebooks across submissions, flagged (never penalised).
  grades = await flagIntegrity(grades, submissions, spec);
  const flagged = grades.filter((g) => g.flags.length).length;
  const written = writeReports(reportDir, { title: spec.title, gradedAt: new Date().toISOString(), executed: execute, sandbox: sandbox.mode, sandboxReason: sandbox.reason, submissions: grades });
  console.log(`\n${summaryTable(grades)}\n`);
  console.log(flagged ? `Intégrité : ${flagged} soumission${flagged > 1 ? 's' : ''} signalée${flagged > 1 ? 's' : ''} (poids du modèle ou notebook identiques à ceux d’une autre, ou sorties tronquées ; voir index.html et grades.json, notes inchangées).` : 'Intégrité : aucune soumission n’a les poids du modèle ou le notebook d’une autre, ni de sortie tronquée.');
  console.log(`Rapports : ${isInside(reportDir, process.cwd()) ? relative(process.cwd(), reportDir) || '.' : reportDir}/ (${written.length} fichiers : grades.json, grades.csv, junit.xml, index.html, feedback/).`);
  const internal = grades.filter((g) => g.internalError);
  for (const g of internal) console.error(`Erreur interne du correcteur pour ${g.id} : ${g.internalError}`);
  if (internal.length) return 2;
  return grades.every((g) => g.passed) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    const message = error instanceof UsageError ? `${error.message}\nVoir npm run grade -- --help.` : (error as Error).message;
    console.error(`Correcteur : ${message}`);
    process.exit(2);
  },
);

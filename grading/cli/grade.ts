/**
 * The auto-grader: `npm run grade -- <path> [options]`. <path> is one submission folder, a class
 * folder with one submission per subfolder, or a zip of either (Moodle's "Download all submissions"
 * included: grading/lms/). Run with --help.
 */
import { availableParallelism } from 'node:os';
import { relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import { loadNativeTf } from '../../lib/backend';
import { PROJECT_ROOT } from '../../lib/paths';
import { ClassProgress, summaryTable } from '../grader/class-run';
import { flagIntegrity } from '../grader/integrity';
import { writeReports } from '../grader/reports';
import { chooseSandbox, type SandboxMode } from '../grader/sandbox';
import { makeScratchRoot } from '../grader/scratch';
import { DEFAULT_SPEC, loadSpec, maxScore, type GradingSpec } from '../grader/spec';
import { gradeInput, openGradingInput } from '../lms/input';
import { readWorksheet, writeMoodleFiles } from '../lms/moodle';

const USAGE = `Correcteur automatique du TP « Analyse d'image ».

Usage : npm run grade -- <chemin> [options]
  <chemin>  le dossier d'une soumission (classification.ipynb, test_model.ipynb, modele/)
            ou le dossier d'une classe (une soumission par sous-dossier, nommé par l'étudiant),
            ou un zip de l'un ou de l'autre : celui de « Télécharger tous les travaux remis » d'un
            devoir Moodle (un dossier par étudiant ; un zip déposé est décompressé, sans danger).

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
  --moodle-worksheet FICHIER
                     la feuille d'évaluation du devoir (« Télécharger la feuille d'évaluation »,
                     CSV en anglais ou en français) : rendue remplie (note, commentaire) dans
                     DIR/moodle/, avec retours-moodle.zip (une page de retour par étudiant)
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
      'moodle-worksheet': { type: 'string' },
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
  const worksheet = values['moodle-worksheet'] ? resolve(values['moodle-worksheet']) : undefined;
  // A worksheet that cannot be filled must fail now, not after hours of grading.
  if (worksheet) readWorksheet(worksheet);
  // Input adapter: a folder as it is, or a zip (Moodle's or not) unpacked into a temporary folder.
  const input = await openGradingInput(target, spec);
  const submissions = input.submissions;
  if (worksheet && !submissions.some((s) => s.participant)) {
    input.cleanup();
    throw new UsageError('--moodle-worksheet : aucune soumission n’a de numéro de participant Moodle (dossiers « Nom Prénom_123456_assignsubmission_file_ ») ; donnez le zip « Télécharger tous les travaux remis » du devoir.');
  }
  for (const line of input.messages) console.error(line);
  // The grader evaluates every model natively: fail now, with the fix, rather than once per student.
  loadNativeTf();
  const sandbox = chooseSandbox(values.sandbox as SandboxMode | 'auto');

  console.error(`${submissions.length} soumission${submissions.length > 1 ? 's' : ''} à corriger (${execute ? 'notebooks exécutés' : 'sorties enregistrées, sans exécution'}, ${jobs} en parallèle, barème sur ${maxScore(spec)} points).`);
  console.error(`Isolation : ${sandbox.reason}.\n`);
  const scratchRoot = makeScratchRoot();
  const progress = new ClassProgress();
  let grades;
  try {
    grades = await gradeInput(
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
  input.cleanup();
  const flagged = grades.filter((g) => g.flags.length).length;
  const report = { title: spec.title, gradedAt: new Date().toISOString(), executed: execute, sandbox: sandbox.mode, sandboxReason: sandbox.reason, submissions: grades };
  const written = writeReports(reportDir, report);
  // Output adapter: the worksheet filled in and the feedback zip, for Moodle's upload pages.
  const moodle = worksheet || input.moodle ? await writeMoodleFiles(reportDir, report, worksheet) : undefined;
  console.log(`\n${summaryTable(grades)}\n`);
  console.log(flagged ? `Intégrité : ${flagged} soumission${flagged > 1 ? 's' : ''} signalée${flagged > 1 ? 's' : ''} (poids du modèle ou notebook identiques à ceux d’une autre, ou sorties tronquées ; voir index.html et grades.json, notes inchangées).` : 'Intégrité : aucune soumission n’a les poids du modèle ou le notebook d’une autre, ni de sortie tronquée.');
  console.log(`Rapports : ${isInside(reportDir, process.cwd()) ? relative(process.cwd(), reportDir) || '.' : reportDir}/ (${written.length} fichiers : grades.json, grades.csv, junit.xml, index.html, feedback/${moodle ? ', moodle/' : ''}).`);
  for (const line of moodle?.messages ?? []) console.log(line);
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

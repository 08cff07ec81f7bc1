/**
 * The auto-grader: `npm run grade -- <path> [options]`. <path> is one submission folder, a class
 * folder with one submission per subfolder, or a zip of either (Moodle's "Download all submissions"
 * included: grading/lms/). Run with --help.
 */
import { availableParallelism } from 'node:os';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import { loadNativeTf } from '../../lib/backend';
import { PROJECT_ROOT, invocationDir, isInsideFolder } from '../../lib/paths';
import { ClassProgress, summaryTable } from '../grader/class-run';
import { flagIntegrity } from '../grader/integrity';
import { writeReports } from '../grader/reports';
import { chooseSandbox, type SandboxMode } from '../grader/sandbox';
import { ensureProjectLibTypes } from '../runner/lib-types';
import { makeScratchRoot } from '../grader/scratch';
import { DEFAULT_SPEC, loadSpec, maxScore, type GradingSpec } from '../grader/spec';
import { gradeInput, openGradingInput } from '../lms/input';
import { readWorksheet, writeMoodleFiles } from '../lms/moodle';
import { writeGradebook } from '../cluster/gradebook';
import { defaultShardCount, DEFAULT_MAX_SHARDS, gradeOnSlurm } from '../cluster/run-slurm';
import { ClusterOptionError, parseShard, selectShard, shardLabel } from '../cluster/shard';
import { makeShardReport, writeShardReport } from '../cluster/shard-report';

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

Répartir la correction (plusieurs machines, voir aussi npm run grade:merge -- --help) :
  --shard i/N        ne corriger que le fragment i sur N de la classe (chaque soumission va au fragment
                     que donne l’empreinte SHA-256 de son identifiant : ajouter un étudiant ne déplace
                     personne) ; --report reçoit les rapports du fragment et shard.json, à fusionner
  --slurm            corriger la classe en un tableau de tâches Slurm (sbatch, une tâche par fragment,
                     chacune dans son bac à sable), attendre sa fin (squeue, sacct) et fusionner dans
                     --report ; fragments, script et journaux dans <report>/fragments/
  --shards N         nombre de tâches avec --slurm (défaut : une par soumission, au plus ${DEFAULT_MAX_SHARDS})
  --partition P      partition Slurm (défaut : celle du cluster)
  --cpus-per-task C  cœurs par tâche (défaut : 1)
  --time T           temps maximal par tâche, au format de sbatch (minutes, HH:MM:SS, J-HH:MM…)
  Avec --slurm, le dossier de la classe, le barème (--spec), les photos (--images), le dossier des
  rapports et ce projet doivent être sur un système de fichiers que voient les nœuds, au même chemin
  (sur une seule machine, c’est le cas).

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

async function main(): Promise<number> {
  // Paths typed by the user are relative to where they typed the command, not to the project root npm run starts in.
  process.chdir(invocationDir('grade'));
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
      shard: { type: 'string' },
      slurm: { type: 'boolean', default: false },
      shards: { type: 'string' },
      partition: { type: 'string' },
      'cpus-per-task': { type: 'string' },
      time: { type: 'string' },
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
  if (isInsideFolder(reportDir, target)) throw new UsageError(`--report ${reportDir} est dans le dossier corrigé : choisissez un dossier à part (le correcteur ne modifie jamais les soumissions).`);
  const worksheet = values['moodle-worksheet'] ? resolve(values['moodle-worksheet']) : undefined;
  // Option mistakes before anything is unpacked.
  if (values.slurm && values.shard) throw new UsageError('--slurm et --shard s’excluent : --slurm lance lui-même un --shard par tâche.');
  if (values.shard && worksheet) throw new UsageError('--moodle-worksheet va avec la fusion des fragments (un fragment ne voit qu’une part de la classe) : npm run grade:merge -- <fragments>... --report <dossier> --moodle-worksheet <feuille.csv>.');
  if (!values.slurm && (values.shards ?? values.partition ?? values['cpus-per-task'] ?? values.time) !== undefined) throw new UsageError('--shards, --partition, --cpus-per-task et --time vont avec --slurm.');
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
  if (values.slurm) {
    // Each task runs this same CLI on its shard: the options it needs, with absolute paths (the nodes' working folder differs).
    const taskArgs = [
      ...(execute ? [] : ['--no-execute']),
      ...(values.jobs ? ['--jobs', String(jobs)] : []),
      ...(values.timeout ? ['--timeout', values.timeout] : []),
      ...(values.spec ? ['--spec', resolve(values.spec)] : []),
      ...(values.images ? ['--images', resolve(values.images)] : []),
      '--sandbox', values.sandbox!,
      ...(values['keep-scratch'] ? ['--keep-scratch'] : []),
    ];
    const shards = values.shards === undefined ? defaultShardCount(submissions.length) : Math.round(positive(values.shards, '--shards')!);
    const cpus = values['cpus-per-task'] === undefined ? undefined : Math.round(positive(values['cpus-per-task'], '--cpus-per-task')!);
    try {
      const result = await gradeOnSlurm({ classDir: target, classGiven: positionals[0], reportDir, submissions, gradeArgs: taskArgs, slurm: { shards, partition: values.partition, cpusPerTask: cpus, time: values.time }, worksheet });
      if (!result.ok) return result.exitCode;
      return await writeGradebook(reportDir, result.merged.report, { worksheet, moodle: input.moodle });
    } finally {
      input.cleanup();
    }
  }
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  const mine = shard ? selectShard(submissions, shard) : submissions;
  const processStartedAt = Math.round(performance.timeOrigin);
  // The grader evaluates every model natively: fail now, with the fix, rather than once per student.
  loadNativeTf();
  const sandbox = chooseSandbox(values.sandbox as SandboxMode | 'auto');
  if (execute) ensureProjectLibTypes();

  if (shard) console.error(`Fragment ${shardLabel(shard)} : ${mine.length} soumission${mine.length > 1 ? 's' : ''} sur les ${submissions.length} de la classe.`);
  console.error(`${mine.length} soumission${mine.length > 1 ? 's' : ''} à corriger (${execute ? 'notebooks exécutés' : 'sorties enregistrées, sans exécution'}, ${jobs} en parallèle, barème sur ${maxScore(spec)} points).`);
  console.error(`Isolation : ${sandbox.reason}.\n`);
  const scratchRoot = makeScratchRoot();
  const progress = new ClassProgress();
  let grades;
  const gradingStartedAt = Date.now();
  try {
    grades = await gradeInput(
      mine,
      { spec, execute, sandbox, jobs, scratchRoot, outputRoot: execute ? resolve(reportDir, 'executed') : undefined, imagesDir: values.images ? resolve(values.images) : undefined, keepScratch: values['keep-scratch'] },
      (event) => progress.handle(event),
    );
  } finally {
    progress.finish();
    if (!values['keep-scratch']) rmSync(scratchRoot, { recursive: true, force: true });
  }
  // Class-level: identical weights or notebooks across submissions, flagged (never penalised).
  // A shard sees only its share: the class-level flags are computed at the merge, over the whole class.
  if (!shard) grades = await flagIntegrity(grades, submissions, spec);
  input.cleanup();
  const flagged = grades.filter((g) => g.flags.length).length;
  const gradedAt = new Date().toISOString();
  const report = { title: spec.title, gradedAt, executed: execute, sandbox: sandbox.mode, sandboxReason: sandbox.reason, submissions: grades };
  const written = writeReports(reportDir, report);
  // Output adapter: the worksheet filled in and the feedback zip, for Moodle's upload pages.
  // A shard's Moodle files would hold a part of the class: they are written at the merge.
  const moodle = !shard && (worksheet || input.moodle) ? await writeMoodleFiles(reportDir, report, worksheet) : undefined;
  if (shard) {
    const classIds = submissions.map((s) => s.id);
    written.push(writeShardReport(reportDir, makeShardReport({ shard, classDir: target, classGiven: positionals[0], classIds, spec, gradedAt, executed: execute, sandbox: sandbox.mode, sandboxReason: sandbox.reason, timings: { processStartedAt, gradingStartedAt, finishedAt: Date.now() }, grades, argv: process.argv.slice(2), cwd: process.cwd() })));
  }
  console.log(`\n${summaryTable(grades)}\n`);
  if (shard) console.log(`Intégrité : les poids ou notebooks identiques se cherchent sur toute la classe, à la fusion (npm run grade:merge)${flagged ? ` ; ${flagged} soumission${flagged > 1 ? 's' : ''} de ce fragment ${flagged > 1 ? 'ont' : 'a'} une sortie tronquée` : ''}.`);
  else console.log(flagged ? `Intégrité : ${flagged} soumission${flagged > 1 ? 's' : ''} signalée${flagged > 1 ? 's' : ''} (poids du modèle ou notebook identiques à ceux d’une autre, ou sorties tronquées ; voir index.html et grades.json, notes inchangées).` : 'Intégrité : aucune soumission n’a les poids du modèle ou le notebook d’une autre, ni de sortie tronquée.');
  console.log(`Rapports : ${isInsideFolder(reportDir, process.cwd()) ? relative(process.cwd(), reportDir) || '.' : reportDir}/ (${written.length} fichiers : grades.json, grades.csv, junit.xml, index.html, feedback/${moodle ? ', moodle/' : ''}).`);
  for (const line of moodle?.messages ?? []) console.log(line);
  const internal = grades.filter((g) => g.internalError);
  for (const g of internal) console.error(`Erreur interne du correcteur pour ${g.id} : ${g.internalError}`);
  if (internal.length) return 2;
  return grades.every((g) => g.passed) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    const message = error instanceof UsageError || error instanceof ClusterOptionError ? `${error.message}\nVoir npm run grade -- --help.` : (error as Error).message;
    console.error(`Correcteur : ${message}`);
    process.exit(2);
  },
);

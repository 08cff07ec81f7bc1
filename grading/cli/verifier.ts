/**
 * The students' check before handing in: `npm run verifier -- [folder] [options]`. Runs the
 * grader's own pipeline on the student's folder (grading/verifier/verify.ts) and prints in French
 * what passes, what fails and the points expected. Run with --help.
 */
import { invocationDir } from '../../lib/paths';
import { parseArgs } from 'node:util';
import { loadNativeTf } from '../../lib/backend';
import { chooseSandbox } from '../grader/sandbox';
import { ensureProjectLibTypes } from '../runner/lib-types';
import { SpecError } from '../grader/spec';
import { headerLines, resultLines } from '../verifier/report';
import { FOLDER_SPEC_FILE, resolveTarget, verify, VerifierInputError } from '../verifier/verify';

const USAGE = `Vérification avant de rendre le TP « Analyse d'image » : ce que le correcteur fera de votre travail.

Usage : npm run verifier -- [DOSSIER] [options]
  DOSSIER   le dossier de vos notebooks (classification.ipynb, test_model.ipynb) ; par défaut,
            le dossier où vous tapez la commande s'il les contient, sinon notebooks/ du projet

Options :
  --model DIR      le dossier du modèle sauvegardé (défaut : modele/ à côté des notebooks s'il
                   existe, sinon modele/ du projet, où les notebooks du projet le sauvegardent)
  --spec FICHIER   le barème JSON du correcteur (défaut : ${FOLDER_SPEC_FILE} à côté des notebooks
                   s'il existe, sinon le barème par défaut de npm run grade)
  --no-execute     sans l'exécution rapide : seulement les sorties enregistrées et le modèle
                   (quelques secondes)
  -h, --help       cette aide

Ce qui est vérifié, avec les vérifications, les messages et les points du correcteur :
  1. vos sorties enregistrées et votre modèle, comme npm run grade -- --no-execute : notebooks
     lisibles et exécutés en entier sans erreur, fichiers et forme du modèle, sa précision mesurée
     sur les 10 000 images de test, la précision affichée, les verdicts de test_model ;
  2. une exécution rapide des deux notebooks (ANALYSE_IMAGE_QUICK=1 : petit échantillon, une
     époque ; environ une minute), du début à la fin, dans une copie de travail, comme le
     correcteur les exécute : votre modele/ n'est pas touché.
Les étapes encore à compléter (appels aCompleter) sont nommées. Les points attendus prennent,
pour chaque vérification, le moins bon des deux résultats ; la précision vient de votre modèle.
Votre dossier n'est jamais modifié.
Codes de sortie : 0 tout réussit, 1 au moins une vérification échoue, 2 la vérification n'a pas
pu se faire (arguments, barème, moteur TensorFlow, erreur du correcteur).`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  // TensorFlow's start-up notices would bury the progress lines.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        spec: { type: 'string' },
        'no-execute': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`argument invalide (${(error as Error).message}).`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`un seul dossier attendu, reçu : ${positionals.join(' ')}`);
  for (const flag of ['model', 'spec'] as const) if (values[flag] === '') throw new UsageError(`--${flag} attend un chemin.`);
  // Where the student typed the command (npm run starts scripts at the project root).
  const cwd = invocationDir('verifier');
  const target = resolveTarget({ folder: positionals[0], modelDir: values.model, specFile: values.spec, cwd });
  const quickRun = !values['no-execute'];
  process.stdout.write(`${headerLines(target, cwd).join('\n')}\n\n`);
  // The grader evaluates the model natively: say now, with the fix, if TensorFlow cannot load.
  loadNativeTf();
  const sandbox = chooseSandbox('auto');
  if (quickRun) ensureProjectLibTypes();
  const started = Date.now();
  const seconds = () => `${Math.round((Date.now() - started) / 1000)} s`;
  let phase: 'stored' | 'quick' | undefined;
  const verification = await verify(target, {
    sandbox,
    quickRun,
    onProgress: (run, status) => {
      if (run !== phase) {
        phase = run;
        process.stderr.write(
          run === 'stored'
            ? `${quickRun ? '1/2 ' : ''}Sorties enregistrées et modèle sauvegardé, corrigés comme par npm run grade -- --no-execute (dans une copie)…\n`
            : `2/2 Exécution rapide des deux notebooks (ANALYSE_IMAGE_QUICK=1), de bout en bout, dans une copie de travail : votre ${target.spec.modelDir}/ n’est pas touché (environ une minute)…\n`,
        );
      }
      process.stderr.write(`  [${seconds()}] ${status}\n`);
    },
  });
  process.stderr.write(`  [${seconds()}] terminé.\n\n`);
  process.stdout.write(`${resultLines(verification, cwd).join('\n')}\n`);
  if (verification.internalError) {
    process.stderr.write(`Erreur interne du correcteur : ${verification.internalError}\n`);
    return 2;
  }
  return verification.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    const known = error instanceof UsageError || error instanceof VerifierInputError || error instanceof SpecError;
    process.stderr.write(`Vérification : ${(error as Error).message}${known ? '\nVoir npm run verifier -- --help.' : ''}\n`);
    process.exit(2);
  },
);

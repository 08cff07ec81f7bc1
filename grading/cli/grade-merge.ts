/**
 * `npm run grade:merge -- <report>... --report <dir>`: merges the shard reports of one class
 * (npm run grade -- <class> --shard i/N) into one gradebook, as one run over the whole class
 * writes it. Run with --help.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT, invocationDir } from '../../lib/paths';
import { writeGradebook } from '../cluster/gradebook';
import { loadShards, MergeError, mergeShards, shown } from '../cluster/merge';
import { readWorksheet } from '../lms/moodle';

const USAGE = `Fusion des fragments d’une correction du TP « Analyse d'image ».

Usage : npm run grade:merge -- <rapport>... --report DIR [options]
  <rapport>  le dossier --report d’un fragment (npm run grade -- <classe> --shard i/N --report …),
             son shard.json, ou un dossier dont les sous-dossiers sont des fragments (comme
             <rapport>/fragments/ de --slurm, ou les artefacts d’une CI).

Options :
  --report DIR   où écrire le carnet de notes fusionné : grades.json, grades.csv, junit.xml,
                 index.html, feedback/<id>.html et executed/<id>/ (défaut : reports/grading)
  --class DIR    la classe (dossier ou zip), si elle n’est plus au chemin où les fragments l’ont
                 vue (une autre machine) : la fusion y recalcule les signalements d’intégrité
                 (poids ou notebook identiques) sur toute la classe
  --moodle-worksheet FILE
                 la feuille d’évaluation hors ligne exportée par Moodle, remplie dans
                 <report>/moodle/ avec le zip des retours, comme le fait npm run grade
  -h, --help     cette aide

La fusion refuse, en disant pourquoi : des fragments de classes différentes (ou d’une classe qui
a changé), découpés en un nombre de parts différent, corrigés avec un autre barème ou un autre
mode (--no-execute), un fragment donné deux fois, une soumission dans le mauvais fragment, et des
fragments manquants (elle donne la commande qui les corrige).
Codes de sortie : 0 toutes les soumissions réussissent, 1 au moins une échoue une vérification,
2 la fusion est impossible (fragments, arguments, erreur interne).`;

class UsageError extends Error {}

async function main(): Promise<number> {
  // Paths typed by the user are relative to where they typed the command, not to the project root npm run starts in.
  process.chdir(invocationDir('grade:merge'));
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      report: { type: 'string' },
      class: { type: 'string' },
      'moodle-worksheet': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('indiquez les rapports des fragments à fusionner (npm run grade:merge -- <rapport>... --report <dossier>).');
  const reportDir = resolve(values.report ?? resolve(PROJECT_ROOT, 'reports', 'grading'));
  const worksheet = values['moodle-worksheet'] ? resolve(values['moodle-worksheet']) : undefined;
  // A worksheet that cannot be filled must fail now, before the merge writes anything.
  if (worksheet) readWorksheet(worksheet);
  const shards = loadShards(positionals);
  for (const s of shards) {
    if (resolve(s.dir) === reportDir) throw new UsageError(`--report ${shown(reportDir)} est le dossier d’un fragment : choisissez un autre dossier pour le carnet fusionné.`);
  }
  console.error(`Fusion de ${shards.length} fragment${shards.length > 1 ? 's' : ''}...`);
  const merged = await mergeShards(shards, { reportDir, classDir: values.class });
  console.error(`Classe ${shown(merged.classDir)} : ${merged.report.submissions.length} soumission${merged.report.submissions.length > 1 ? 's' : ''} en ${merged.count} fragment${merged.count > 1 ? 's' : ''}, tous présents ; intégrité recalculée sur toute la classe.`);
  if (worksheet && !merged.report.submissions.some((s) => s.participant)) throw new UsageError('--moodle-worksheet : aucune soumission n’a de numéro de participant Moodle (dossiers « Nom Prénom_123456_assignsubmission_file_ ») ; corrigez le zip « Télécharger tous les travaux remis » du devoir.');
  return writeGradebook(reportDir, merged.report, { worksheet });
}

main().then(
  (code) => process.exit(code),
  (error) => {
    const message = error instanceof UsageError ? `${error.message}\nVoir npm run grade:merge -- --help.` : error instanceof MergeError ? `fusion impossible : ${error.message}` : (error as Error).message;
    console.error(`Fusion : ${message}`);
    process.exit(2);
  },
);

/**
 * The student version of the notebooks: `npm run assignment -- [--source DIR] [--out DIR]`.
 * Run with --help.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT, invocationDir } from '../../lib/paths';
import { ASSIGNMENT_EXTRAS } from '../assignment/extras';
import { makeStudentRepository } from '../assignment/repository';
import { makeAssignment } from '../assignment/student-version';

const USAGE = `Version étudiante des notebooks du TP « Analyse d'image ».

Usage : npm run assignment -- [--source DIR] [--out DIR]
        npm run assignment -- --repo DIR [--git]

Options :
  --source DIR   dossier des notebooks corrigés (défaut : notebooks/ du projet)
  --out DIR      dossier où écrire la version étudiante (défaut : assignment/ du projet) ;
                 il doit être différent de --source
  --repo DIR     écrire le dépôt à distribuer aux étudiants (un dossier neuf) : le projet tel
                 qu'il est commité, avec la version étudiante des notebooks du laboratoire et de
                 la théorie, sans notebooks/src/ (les solutions), tests/, .ci/, bench/ ni
                 templates/ ; chaque ligne des solutions y est cherchée, et une fuite arrête tout
  --git          avec --repo : en faire un dépôt git d'un seul commit (modèle GitHub Classroom)
  -h, --help     cette aide

Chaque notebook de --source (sauf les copies *.executed.ipynb et *.quick.ipynb) est écrit dans
--out avec :
  - chaque zone de code entre « // BEGIN SOLUTION » et « // END SOLUTION » (lignes comprises)
    remplacée par sa propre amorce, écrite au début de la zone entre « /* STUB » et « */ »
    (consignes « À COMPLÉTER » et appels aCompleter('étape') de lib/exercise, qui lèvent une
    erreur en français nommant l'étape), ou à défaut par « // À COMPLÉTER » et
    throw new Error("À compléter"), avec la même indentation ;
  - chaque zone de texte entre « <!-- BEGIN SOLUTION --> » et « <!-- END SOLUTION --> »
    remplacée par « *À compléter.* » ;
  - les sorties et les numéros d'exécution effacés, les métadonnées nbgrader et execution retirées.
Les fichiers de grading/assignment/extras.ts sont écrits ensuite à côté des notebooks.
Les notebooks de --source ne sont jamais modifiés.
Codes de sortie : 0 succès, 2 erreur (argument, notebook illisible, marqueurs mal appariés).`;

class UsageError extends Error {}

function plural(count: number, singular: string, pluralForm: string): string {
  // French uses the singular for 0 and 1.
  return `${count} ${count > 1 ? pluralForm : singular}`;
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function main(argv: string[]): number {
  // Paths typed by the user are relative to where they typed the command, not to the project root npm run starts in.
  process.chdir(invocationDir('assignment'));
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        source: { type: 'string' },
        out: { type: 'string' },
        repo: { type: 'string' },
        git: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(`argument invalide (${(error as Error).message}).`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  for (const flag of ['source', 'out', 'repo'] as const) {
    if (values[flag] === '') throw new UsageError(`--${flag} attend un dossier.`);
  }
  if (values.git && !values.repo) throw new UsageError('--git va avec --repo DIR.');
  if (values.repo) {
    if (values.source || values.out) throw new UsageError('--repo s’emploie seul : il part du dépôt du cours et écrit tout le dossier.');
    const repository = makeStudentRepository(resolve(values.repo), { git: values.git });
    for (const entry of repository.assignment.notebooks) process.stdout.write(`${basename(entry.source)} : ${plural(entry.regions, 'zone de solution remplacée', 'zones de solution remplacées')}\n`);
    process.stdout.write(`Dépôt des étudiants : ${shown(repository.dir)}/ (${repository.files} fichiers, aucune ligne des solutions${repository.commit ? `, commit ${repository.commit.slice(0, 12)}` : ''}).\n`);
    return 0;
  }
  const sourceDir = resolve(values.source ?? join(PROJECT_ROOT, 'notebooks'));
  const outDir = resolve(values.out ?? join(PROJECT_ROOT, 'assignment'));
  if (!existsSync(sourceDir) || !statSync(sourceDir).isDirectory()) throw new UsageError(`--source ${shown(sourceDir)} n'est pas un dossier existant.`);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out ${shown(outDir)} existe et n'est pas un dossier.`);

  const result = makeAssignment(sourceDir, outDir, { extras: ASSIGNMENT_EXTRAS });
  if (!result.notebooks.length) throw new Error(`aucun notebook .ipynb dans ${shown(sourceDir)} (les copies *.executed.ipynb et *.quick.ipynb sont ignorées).`);
  for (const entry of result.notebooks) {
    process.stdout.write(`${relative(sourceDir, entry.source)} : ${plural(entry.regions, 'zone de solution remplacée', 'zones de solution remplacées')} -> ${shown(entry.output)}\n`);
  }
  for (const extra of result.extras) process.stdout.write(`fichier joint -> ${shown(extra)}\n`);
  process.stdout.write(`${plural(result.written.length, 'notebook écrit', 'notebooks écrits')} dans ${shown(outDir)}/, ${plural(result.regions, 'zone de solution remplacée', 'zones de solution remplacées')} au total.\n`);
  if (result.regions === 0) {
    // Without markers the "student version" is the full solution minus its outputs: say so loudly.
    process.stderr.write(`Attention : aucun marqueur « // BEGIN SOLUTION » ou « <!-- BEGIN SOLUTION --> » trouvé ; les notebooks écrits contiennent les solutions complètes.\n`);
  }
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  const message = error instanceof UsageError ? `${error.message}\nVoir npm run assignment -- --help.` : (error as Error).message;
  process.stderr.write(`assignment : ${message}\n`);
  process.exitCode = 2;
}

/**
 * Class zips laid out as class folders (no grading): plain zips of a class or of one submission,
 * Moodle's flat download, uploads with notebooks in two places; and Moodle's names as its own
 * importers read them (cases of mod/assign/feedback/file/tests/importziplib_test.php).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openClassZip } from '../../../grading/lms/class-zip';
import { parseMoodleFlatFile, parseMoodleFolder, participantOfFeedbackPath, submissionFolderName } from '../../../grading/lms/moodle';
import { DEFAULT_SPEC } from '../../../grading/grader/spec';
import { temporaryFolder } from '../../helpers/fixtures';
import { testZipBuffer, writeTestZip } from './moodle-fixtures';

const folder = temporaryFolder('lms-class-zip-');
afterAll(() => folder.cleanup());

const NB = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}';
let n = 0;
async function open(entries: { name: string; data: Buffer | string }[], zipName = `classe-${++n}.zip`) {
  const path = join(folder.dir, zipName);
  await writeTestZip(path, entries);
  return openClassZip(path, DEFAULT_SPEC, { tmpRoot: folder.dir });
}

test('a plain zip of a class folder (inside a wrapper folder): one submission per subfolder, no participant', async () => {
  const zip = await open([
    { name: 'classe/alice/classification.ipynb', data: NB },
    { name: 'classe/alice/modele/model.json', data: '{}' },
    { name: 'classe/Bob Smith/test_model.ipynb', data: NB },
    { name: '__MACOSX/classe/._alice', data: 'x' },
  ]);
  try {
    expect(zip.moodle).toBe(false);
    expect(zip.submissions.map((s) => [s.id, s.name, s.participant, s.ungradable])).toEqual([
      ['alice', 'alice', undefined, undefined],
      ['bob-smith', 'Bob Smith', undefined, undefined],
    ]);
    expect(readFileSync(join(zip.submissions[0].dir, 'modele', 'model.json'), 'utf8')).toBe('{}');
  } finally {
    zip.cleanup();
  }
  expect(existsSync(zip.classDir)).toBe(false);
  expect(readdirSync(folder.dir).filter((f) => f.startsWith('analyse-image-zip-'))).toEqual([]);
});

test('a zip of one submission is one submission, named after the zip', async () => {
  const zip = await open([{ name: 'classification.ipynb', data: NB }, { name: 'test_model.ipynb', data: NB }], 'Élodie Durand.zip');
  try {
    expect(zip.submissions.map((s) => [s.id, s.name])).toEqual([['elodie-durand', 'Élodie Durand']]);
  } finally {
    zip.cleanup();
  }
});

test('Moodle\'s flat download (not in folders): files gathered per participant, with a note on the lost subfolders', async () => {
  const zip = await open([
    { name: 'Élodie Durand_100001_assignsubmission_file_classification.ipynb', data: NB },
    { name: 'Élodie Durand_100001_assignsubmission_file_test_model.ipynb', data: NB },
    { name: 'Élodie Durand_100001_assignsubmission_onlinetext_onlinetext.html', data: '<p>x</p>' },
  ]);
  try {
    expect(zip.moodle).toBe(true);
    expect(zip.submissions).toHaveLength(1);
    const [s] = zip.submissions;
    expect([s.id, s.name, s.participant, s.folder]).toEqual(['elodie-durand_100001', 'Élodie Durand', '100001', 'Élodie Durand_100001_assignsubmission_file_']);
    expect(readdirSync(s.dir).sort()).toEqual(['classification.ipynb', 'test_model.ipynb']);
    expect(s.notes[0]).toMatch(/sans l’option « Télécharger les travaux remis dans des dossiers »/);
  } finally {
    zip.cleanup();
  }
});

test('an upload with notebooks in two folders: the shallowest is graded, the other named', async () => {
  const inner = await testZipBuffer([
    { name: 'tp/classification.ipynb', data: NB },
    { name: 'tp/brouillon/vieux/classification.ipynb', data: NB },
    { name: 'autre/test_model.ipynb', data: NB },
  ]);
  const zip = await open([{ name: 'Jean Dupont_42_assignsubmission_file/rendu.zip', data: inner }]);
  try {
    const [s] = zip.submissions;
    expect(s.ungradable).toBeUndefined();
    expect(s.notes).toEqual(['rendu.zip a été décompressé par le correcteur.', 'Notebooks trouvés dans « autre/ » de rendu.zip : c’est ce dossier qui est corrigé (ignorés : « tp/ » de rendu.zip).']);
    expect(readdirSync(s.dir)).toEqual(['test_model.ipynb']);
  } finally {
    zip.cleanup();
  }
});

test('a zip with neither a submission nor student folders is refused in French', async () => {
  await expect(open([{ name: 'lisez-moi.txt', data: 'x' }], 'vide.zip')).rejects.toThrow(/^vide\.zip ne contient ni classification\.ipynb ni test_model\.ipynb/);
  expect(readdirSync(folder.dir).filter((f) => f.startsWith('analyse-image-zip-'))).toEqual([]);
});

test('Moodle\'s download names: folders before and since 4.1, flat files', () => {
  expect(parseMoodleFolder("Anne O'Brien_100003_assignsubmission_file_")).toEqual({ name: "Anne O'Brien", participant: '100003', plugin: 'file' });
  expect(parseMoodleFolder('Anne Marie_7_assignsubmission_onlinetext')).toEqual({ name: 'Anne Marie', participant: '7', plugin: 'onlinetext' });
  expect(parseMoodleFolder('bob_smith')).toBeUndefined();
  expect(parseMoodleFlatFile('Jean Dupont_12_assignsubmission_file_mon_fichier.ipynb')).toEqual({ name: 'Jean Dupont', participant: '12', plugin: 'file', file: 'mon_fichier.ipynb' });
  // Moodle replaces underscores in names by spaces, so that the importer can split on them.
  expect(submissionFolderName('Jean_Pierre Dupont', '5')).toBe('Jean Pierre Dupont_5_assignsubmission_file_');
  expect(submissionFolderName('a/b: c?', '5')).toBe('ab c_5_assignsubmission_file_');
});

test('feedback-zip paths read as Moodle\'s importer reads them (importziplib_test.php\'s cases)', () => {
  expect(participantOfFeedbackPath('.hiddenfile')).toBeUndefined();
  expect(participantOfFeedbackPath('~hiddenfile')).toBeUndefined();
  expect(participantOfFeedbackPath('some_path_here/RandomFile.txt')).toBeUndefined();
  expect(participantOfFeedbackPath('Student Name_StringID_assignsubmission_file_My_cool_filename.txt')).toBeUndefined();
  expect(participantOfFeedbackPath('Student Name_42_assignsubmission_noplugin_My_cool_filename.txt')).toBeUndefined();
  expect(participantOfFeedbackPath('Student Name_42_assignsubmission_file_My_cool_filename.txt')).toEqual({ participant: '42', file: 'My_cool_filename.txt' });
  expect(participantOfFeedbackPath('some_path_here/Student Name_42_assignsubmission_file_/some_path/My File.txt')).toEqual({ participant: '42', file: '/some_path/My File.txt' });
  // The grader's own layout: the page in the student's download folder.
  expect(participantOfFeedbackPath('Élodie Durand_100001_assignsubmission_file_/retour-correction.html')).toEqual({ participant: '100001', file: '/retour-correction.html' });
});

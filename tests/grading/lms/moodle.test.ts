/**
 * A class handed in through Moodle, graded from the zip of "Download all submissions" with
 * `--no-execute --moodle-worksheet`: seven students (accents, spaces, an apostrophe; files, a zip of
 * the folder, notebooks in a subfolder, Moodle 4.1's folder names, an online text beside the files,
 * an online text alone, no notebook, a hostile zip), the worksheet with two more participants who
 * handed in nothing. The worksheet written back and the feedback zip are read as Moodle's importers
 * read them (mod/assign/feedback/offline/importgradeslib.php, mod/assign/feedback/file/importziplib.php).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'csv-parse/sync';
import { PROJECT_ROOT } from '../../../lib/paths';
import { participantOfFeedbackPath } from '../../../grading/lms/moodle';
import { DEFAULT_SPEC } from '../../../grading/grader/spec';
import { temporaryFolder } from '../../helpers/fixtures';
import { rawZip } from './zip-fixtures';
import { downloadFolder, ENGLISH_HEADER, readTestZip, testZipBuffer, worksheetBytes, worksheetText, writeTestZip, type WorksheetStudent } from './moodle-fixtures';

const folder = temporaryFolder('lms-moodle-');
afterAll(() => folder.cleanup());
const zipPath = join(folder.dir, 'L3-AnalyseImage-TP CNN-4242.zip');
const worksheetPath = join(folder.dir, 'Grades-L3-AnalyseImage-TP CNN-4242.csv');
const reportDir = join(folder.dir, 'notes');
const tmp = join(folder.dir, 'tmp');

/** The class: participant number → full name, as Moodle knows them. */
const STUDENTS: Record<string, string> = {
  '100001': 'Élodie Durand',
  '100002': 'Jean-Éric Lefèvre',
  '100003': "Anne O'Brien",
  '100004': 'Zoé Lemaître',
  '100005': 'Noël Dupont',
  '100006': 'Chloé Bernard Simon',
  '100007': 'Marc Aurèle',
  '100008': 'Absent Étudiant',
  '100009': "Léa N'Guyen",
};

/** Every file of a folder, relative `/` paths and bytes. */
function filesOf(dir: string, prefix = ''): { name: string; data: Buffer }[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesOf(path, `${prefix}${entry}/`) : [{ name: `${prefix}${entry}`, data: readFileSync(path) }];
  });
}


/** Files named `evil.txt` anywhere under a folder. */
function findEvil(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((p) => p.endsWith('evil.txt'));
}

const worksheetStudents: WorksheetStudent[] = Object.entries(STUDENTS).map(([participant, name]) => ({ participant, name, status: participant === '100008' ? 'No submission' : undefined }));
worksheetStudents[3].onlineText = 'Mon travail est sur GitHub :\nhttps://github.example/zoe/tp-cnn, "branche" principale';
worksheetStudents[8] = { ...worksheetStudents[8], status: 'Submitted for grading - Graded', grade: '12.00', lastModifiedGrade: 'Monday, 13 January 2025, 9:00 AM', comments: 'Bien, mais la "précision" est à revoir, voir en TD.' };
const sourceText = worksheetText(worksheetStudents);
let zipHash = '';
let run: ReturnType<typeof spawnSync>;

beforeAll(async () => {
  const src = join(folder.dir, 'depots');
  const build = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', 'grader', 'stored-submission.ts'), src, 'elodie=true', 'jean=true', 'anne=0.97', 'chloe=true'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`building the submissions failed: ${build.stderr}`);
  const under = (dir: string, files: { name: string; data: Buffer }[]) => files.map((f) => ({ name: `${dir}/${f.name}`, data: f.data }));
  const onlineText = '<p>Voir mes fichiers.</p>';
  const entries = [
    ...under(downloadFolder(STUDENTS['100001'], '100001'), filesOf(join(src, 'elodie'))),
    { name: `${downloadFolder(STUDENTS['100002'], '100002')}/analyse_image.zip`, data: await testZipBuffer(under('analyse_image', filesOf(join(src, 'jean')))) },
    ...under(downloadFolder(STUDENTS['100003'], '100003'), filesOf(join(src, 'anne'))),
    { name: `${downloadFolder(STUDENTS['100003'], '100003', 'onlinetext')}/onlinetext.html`, data: onlineText },
    { name: `${downloadFolder(STUDENTS['100004'], '100004', 'onlinetext')}/onlinetext.html`, data: '<p>Mon travail est sur GitHub</p>' },
    { name: `${downloadFolder(STUDENTS['100005'], '100005')}/rapport.pdf`, data: '%PDF-1.4 rapport' },
    ...under(`${downloadFolder(STUDENTS['100006'], '100006', 'file', true)}/mon TP`, filesOf(join(src, 'chloe'))),
    { name: `${downloadFolder(STUDENTS['100007'], '100007')}/tp.zip`, data: rawZip([{ name: 'classification.ipynb', data: '{}' }, { name: '../../evil.txt', data: 'pwned' }]) },
  ];
  await writeTestZip(zipPath, entries);
  zipHash = createHash('sha256').update(readFileSync(zipPath)).digest('hex');
  writeFileSync(worksheetPath, worksheetBytes(sourceText));
  const specFile = join(folder.dir, 'bareme.json');
  writeFileSync(specFile, JSON.stringify({ accuracy: { pass: 0.6, bands: [] } }));
  mkdirSync(tmp);
  run = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(PROJECT_ROOT, 'grading', 'cli', 'grade.ts'), zipPath, '--no-execute', '--spec', specFile, '--moodle-worksheet', worksheetPath, '--report', reportDir, '--jobs', '2'], {
    encoding: 'utf8',
    cwd: folder.dir,
    env: { ...process.env, TMPDIR: tmp },
    timeout: 300_000,
  });
}, 420_000);

test('the zip is graded: exit 1 (some fail), no internal error, the zip untouched, the temporary folders gone, nothing escaped', () => {
  expect(run.stderr).not.toMatch(/Erreur interne/);
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/zip Moodle « Télécharger tous les travaux remis », 7 étudiants dont 3 sans rien à corriger \(note 0\)/);
  expect(createHash('sha256').update(readFileSync(zipPath)).digest('hex')).toBe(zipHash);
  // The extraction folder and the scratch folders are removed (tsx keeps its own cache there).
  expect(readdirSync(tmp).filter((name) => name.startsWith('analyse-image-'))).toEqual([]);
  expect(findEvil(folder.dir)).toEqual([]);
});

test('one submission per participant, online text merged, the right scores and French notes', () => {
  const grades = JSON.parse(readFileSync(join(reportDir, 'grades.json'), 'utf8')).submissions as { id: string; name: string; participant: string; score: number; passed: boolean; notes: string[]; checks: { id: string; passed: boolean; message: string }[] }[];
  const by = new Map(grades.map((g) => [g.participant, g]));
  expect(grades.map((g) => g.participant).sort()).toEqual(['100001', '100002', '100003', '100004', '100005', '100006', '100007']);
  expect(Object.fromEntries(grades.map((g) => [g.participant, g.name]))).toEqual(Object.fromEntries(Object.entries(STUDENTS).slice(0, 7)));
  expect(by.get('100001')).toMatchObject({ id: 'elodie-durand_100001', score: 20, passed: true });
  expect(by.get('100002')).toMatchObject({ id: 'jean-eric-lefevre_100002', score: 20, passed: true });
  expect(by.get('100002')!.notes.slice(0, 2)).toEqual(['analyse_image.zip a été décompressé par le correcteur.', 'Notebooks trouvés dans « analyse_image/ » de analyse_image.zip : c’est ce dossier qui est corrigé.']);
  expect(by.get('100003')).toMatchObject({ id: 'anne-obrien_100003', score: 20 - DEFAULT_SPEC.points['reported-accuracy'], passed: false });
  expect(by.get('100003')!.checks.filter((c) => !c.passed).map((c) => c.id)).toEqual(['reported-accuracy']);
  expect(by.get('100003')!.notes[0]).toBe('Un texte en ligne a aussi été remis sur Moodle : il n’est pas corrigé (seuls les fichiers le sont).');
  expect(by.get('100004')).toMatchObject({ score: 0, passed: false });
  expect(by.get('100004')!.notes[0]).toMatch(/^Seul un texte en ligne a été remis sur Moodle, aucun fichier : déposez classification\.ipynb, test_model\.ipynb et modele\/ /);
  expect(by.get('100005')).toMatchObject({ score: 0 });
  expect(by.get('100005')!.notes[0]).toBe('Aucun notebook (classification.ipynb, test_model.ipynb) dans ce que vous avez déposé sur Moodle (reçu : « rapport.pdf ») : rien à corriger, note 0.');
  expect(by.get('100006')).toMatchObject({ id: 'chloe-bernard-simon_100006', score: 20, passed: true });
  expect(by.get('100006')!.notes[0]).toBe('Notebooks trouvés dans « mon TP/ » : c’est ce dossier qui est corrigé.');
  expect(by.get('100007')).toMatchObject({ score: 0 });
  expect(by.get('100007')!.notes[0]).toMatch(/^Votre dépôt tp\.zip a été refusé par le correcteur : tp\.zip \(dépôt de Marc Aurèle\) contient un chemin qui sort du dossier d’extraction \(\.\.\) : « \.\.\/\.\.\/evil\.txt »/);
  // Their own pages say it too, in French.
  expect(readFileSync(join(reportDir, 'feedback', `${by.get('100004')!.id}.html`), 'utf8')).toContain('Seul un texte en ligne a été remis sur Moodle');
});

/** The worksheet written back, as text (BOM removed) and rows. */
function written(): { bytes: Buffer; text: string; rows: string[][] } {
  const bytes = readFileSync(join(reportDir, 'moodle', 'Grades-L3-AnalyseImage-TP CNN-4242.csv'));
  const text = bytes.subarray(3).toString('utf8');
  return { bytes, text, rows: parse(text, { relax_column_count: false }) as string[][] };
}

test('the worksheet comes back in Moodle\'s own format: BOM, same header, same rows in the same order, \\n line endings', () => {
  const { bytes, text, rows } = written();
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  expect(text.split('\n')[0]).toBe(sourceText.split('\n')[0]);
  expect(rows[0]).toEqual(ENGLISH_HEADER);
  expect(text).not.toContain('\r');
  const source = parse(sourceText) as string[][];
  expect(rows).toHaveLength(source.length);
  expect(rows.map((r) => r[0])).toEqual(source.map((r) => r[0]));
  // Only Grade and Feedback comments change, and only for the participants graded.
  const grade = ENGLISH_HEADER.indexOf('Grade');
  const comments = ENGLISH_HEADER.indexOf('Feedback comments');
  for (const [i, row] of rows.entries()) {
    for (const [j, cell] of row.entries()) if (j !== grade && j !== comments) expect(cell).toBe(source[i][j]);
  }
});

test('participants absent from the zip keep their rows byte for byte (an earlier grade and comment included)', () => {
  const { text } = written();
  const lines = (t: string) => t.split(/(?<=\n)(?="Participant )/);
  const source = lines(sourceText);
  const out = lines(text);
  for (const participant of ['100008', '100009']) {
    const original = source.find((l) => l.startsWith(`"Participant ${participant}"`))!;
    expect(out).toContain(original);
  }
  expect(out.find((l) => l.startsWith('"Participant 100009"'))).toContain('12.00,20.00,Yes');
});

test('as Moodle\'s importer reads it: Identifier minus "Participant ", Grade as a float within the maximum, the comment beside it', () => {
  const { rows } = written();
  const [header, ...body] = rows;
  const id = header.indexOf('Identifier');
  const grade = header.indexOf('Grade');
  const modified = header.indexOf('Last modified (grade)');
  const comment = header.indexOf('Feedback comments');
  expect([id, grade, modified, comment].every((i) => i >= 0)).toBe(true);
  const imported = Object.fromEntries(body.map((r) => [r[id].substring('Participant '.length), { grade: r[grade], comment: r[comment] }]));
  expect(imported['100001']).toEqual({ grade: '20.00', comment: 'Correction automatique : 20.00 / 20.00, toutes les vérifications sont réussies. Le détail est dans le fichier de retour retour-correction.html.' });
  expect(imported['100002'].grade).toBe('20.00');
  expect(imported['100003']).toEqual({ grade: '19.00', comment: 'Correction automatique : 19.00 / 20.00, à reprendre : la précision affichée est celle du modèle rendu. Le détail est dans le fichier de retour retour-correction.html.' });
  expect(imported['100004'].grade).toBe('0.00');
  expect(imported['100004'].comment).toMatch(/^Correction automatique : 0\.00 \/ 20\.00, à reprendre : Seul un texte en ligne a été remis sur Moodle, aucun fichier/);
  expect(imported['100005'].comment).toMatch(/à reprendre : Aucun notebook \(classification\.ipynb, test_model\.ipynb\) dans ce que vous avez déposé sur Moodle \(reçu : « rapport\.pdf »\) : rien à corriger, note 0\. Le détail/);
  expect(imported['100006'].grade).toBe('20.00');
  expect(imported['100007'].grade).toBe('0.00');
  expect(imported['100008']).toEqual({ grade: '', comment: '' });
  expect(imported['100009']).toEqual({ grade: '12.00', comment: 'Bien, mais la "précision" est à revoir, voir en TD.' });
  for (const row of body) if (row[grade]) expect(Number(row[grade])).toBeLessThanOrEqual(Number(row[header.indexOf('Maximum Grade')]));
});

test('the console says what was filled and what to upload where', () => {
  expect(run.stdout).toContain('Feuille de notes Moodle : 7 lignes remplies (colonne « Grade » et « Feedback comments »), 2 laissées telles quelles ; à déposer avec « Téléverser la feuille d’évaluation » (Upload grading worksheet).');
  expect(run.stdout).toContain('Retours Moodle : 7 pages dans retours-moodle.zip, à déposer avec « Téléverser plusieurs fichiers de feedback dans un zip » (Upload multiple feedback files in a zip).');
});

test('the feedback zip: one page per graded participant, in the folder Moodle\'s zip importer attaches to that participant', async () => {
  const entries = await readTestZip(join(reportDir, 'moodle', 'retours-moodle.zip'));
  expect([...entries.keys()].sort()).toEqual(
    ['100001', '100002', '100003', '100004', '100005', '100006', '100007'].map((p) => `${STUDENTS[p]}_${p}_assignsubmission_file_/retour-correction.html`).sort(),
  );
  for (const [name, data] of entries) {
    const target = participantOfFeedbackPath(name);
    expect(target).toBeDefined();
    expect(target!.file).toBe('/retour-correction.html');
    const html = data.toString('utf8');
    expect(html).toContain(`<h1>${STUDENTS[target!.participant]}</h1>`);
    expect(html).toContain(`participant n° ${target!.participant}`);
    // A student's page never names a classmate.
    for (const [other, otherName] of Object.entries(STUDENTS)) if (other !== target!.participant) expect(html).not.toContain(otherName);
  }
  expect(relative(reportDir, join(reportDir, 'moodle', 'retours-moodle.zip'))).toBe('moodle/retours-moodle.zip');
});

/**
 * The Moodle output adapter on synthetic grades: a French worksheet (headers, `Participant123456`,
 * `,` decimals, another maximum grade), an English one saved again by a spreadsheet (Windows-1252,
 * `;`, CRLF, no BOM), and worksheets the grader must refuse, in French, before grading.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import * as iconv from 'iconv-lite';
import type { SubmissionGrade } from '../../../grading/grader/pipeline';
import type { ClassReport } from '../../../grading/grader/reports';
import { CHECK_IDS, DEFAULT_SPEC } from '../../../grading/grader/spec';
import { readWorksheet, writeMoodleFiles } from '../../../grading/lms/moodle';
import { PROJECT_ROOT } from '../../../lib/paths';
import { temporaryFolder } from '../../helpers/fixtures';
import { FRENCH_HEADER, fputcsvLine, worksheetBytes, worksheetText, type WorksheetStudent } from './moodle-fixtures';

const folder = temporaryFolder('lms-worksheet-');
afterAll(() => folder.cleanup());

/** A graded submission: full marks, or every check but test-accuracy. */
function grade(participant: string, name: string, passed: boolean): SubmissionGrade {
  const checks = CHECK_IDS.map((id) => ({ id, passed: passed || id !== 'test-accuracy', points: passed || id !== 'test-accuracy' ? DEFAULT_SPEC.points[id] : 0, maxPoints: DEFAULT_SPEC.points[id], message: `message de ${id}` }));
  const score = checks.reduce((s, c) => s + c.points, 0);
  return { id: `${name.toLowerCase().replace(/\W+/g, '-')}_${participant}`, name, participant, folder: `${name}_${participant}_assignsubmission_file_`, flags: [], score, maxScore: 20, passed, checks, executed: false, sandbox: 'none', durationMs: 1000, notes: [] };
}

function report(submissions: SubmissionGrade[]): ClassReport {
  return { title: DEFAULT_SPEC.title, gradedAt: '2025-01-15T10:00:00.000Z', executed: false, sandbox: 'none', submissions };
}

const french: WorksheetStudent[] = [
  { participant: '100001', name: 'Élodie Durand' },
  { participant: '100002', name: "Jean-Éric L'Hôte", locked: true },
  { participant: '100003', name: 'Absent Étudiant', grade: '6,50', lastModifiedGrade: 'lundi 13 janvier 2025, 09:00', comments: 'Déjà noté, à la main.' },
];

test('a French worksheet: French headers, "Participant123456", decimals with a comma, grades brought to Moodle\'s maximum of 10', async () => {
  const path = join(folder.dir, 'Notes-TP.csv');
  const source = worksheetText(french, { language: 'fr', maxGrade: '10,00' });
  writeFileSync(path, worksheetBytes(source));
  const reportDir = join(folder.dir, 'rapport-fr');
  const result = await writeMoodleFiles(reportDir, report([grade('100001', 'Élodie Durand', false), grade('100002', "Jean-Éric L'Hôte", true), grade('100004', 'Inconnu Ailleurs', true)]), path);
  expect(result.worksheet).toBe(join(reportDir, 'moodle', 'Notes-TP.csv'));
  expect(result.filled).toEqual(['100001', '100002']);
  expect(result.untouched).toBe(1);
  expect(result.notInWorksheet).toEqual(['Inconnu Ailleurs (100004)']);
  const bytes = readFileSync(result.worksheet!);
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const text = bytes.subarray(3).toString('utf8');
  const rows = parse(text) as string[][];
  expect(rows[0]).toEqual(FRENCH_HEADER);
  const note = FRENCH_HEADER.indexOf('Note');
  const comment = FRENCH_HEADER.indexOf('Feedback par commentaires');
  // 12 / 20 on a maximum of 10 is 6,00; 20 / 20 is 10,00 (format_float: 2 decimals, the French separator).
  expect(rows[1][0]).toBe('Participant100001');
  expect(rows[1][note]).toBe('6,00');
  expect(rows[1][comment]).toBe('Correction automatique : 6,00 / 10,00, à reprendre : précision du modèle sur les 10 000 images de test. Le détail est dans le fichier de retour retour-correction.html.');
  expect(rows[2][note]).toBe('10,00');
  // The grade field holds the delimiter, so it is quoted as fputcsv quotes it.
  expect(text.split('\n')[1]).toContain(',"6,00","10,00",Oui,');
  expect(text.split('\n')[3]).toBe(source.split('\n')[3]);
  expect(result.messages).toContain('Notes ramenées de 20 points (barème du correcteur) à 10 (note maximale du devoir dans Moodle).');
  expect(result.messages).toContain("Notes verrouillées dans Moodle (« La note peut être modifiée » : Non), que Moodle ne changera pas : Jean-Éric L'Hôte.");
  expect(result.messages).toContain('Absents de la feuille de notes (autre devoir, ou désinscrits ?), non écrits : Inconnu Ailleurs (100004).');
});

test('a worksheet saved again by a spreadsheet keeps its encoding (Windows-1252), separator (;), CRLF and untouched rows byte for byte', async () => {
  const students: WorksheetStudent[] = [
    { participant: '7', name: 'Zoé Lemaître' },
    { participant: '8', name: 'Œdipe Bœuf', grade: '15.00', comments: 'Très bien ; « bravo ».' },
  ];
  const lines = worksheetText(students, { delimiter: ';' }).split('\n').filter(Boolean).map((l) => `${l}\r\n`);
  const path = join(folder.dir, 'excel.csv');
  writeFileSync(path, iconv.encode(lines.join(''), 'windows-1252'));
  const ws = readWorksheet(path);
  expect({ encoding: ws.encoding, bom: ws.bom, delimiter: ws.delimiter, language: ws.language, decimals: ws.decimals, maxGrade: ws.maxGrade }).toEqual({ encoding: 'windows-1252', bom: false, delimiter: ';', language: 'en', decimals: 2, maxGrade: 20 });
  const reportDir = join(folder.dir, 'rapport-excel');
  const result = await writeMoodleFiles(reportDir, report([grade('7', 'Zoé Lemaître', true)]), path);
  const bytes = readFileSync(result.worksheet!);
  const text = iconv.decode(bytes, 'windows-1252');
  const out = text.split(/(?<=\r\n)/);
  expect(out).toHaveLength(3);
  expect(out[0]).toBe(lines[0]);
  expect(iconv.encode(out[2], 'windows-1252').equals(iconv.encode(lines[2], 'windows-1252'))).toBe(true);
  expect(out[1].endsWith('\r\n')).toBe(true);
  expect(out[1].split(';').slice(0, 6)).toEqual(['"Participant 7"', '"Zoé Lemaître"', '7@etu.example.fr', '"Submitted for grading"', '20.00', '20.00']);
  // Feedback pages are filed under the worksheet's full names.
  expect(result.feedbackZip).toBe(join(reportDir, 'moodle', 'retours-moodle.zip'));
});

test('what is not a worksheet Moodle will read back is refused in French, naming the file', () => {
  const write = (name: string, text: string) => {
    const path = join(folder.dir, name);
    writeFileSync(path, worksheetBytes(text));
    return path;
  };
  expect(() => readWorksheet(write('grades.csv', 'id,name,participant,score\r\nalice,Alice,,20\r\n'))).toThrow(/^grades\.csv n’est pas une feuille de notes Moodle : sa première ligne n’a pas les colonnes « Identifier » et « Grade » \(ou « Identifiant » et « Note »\)/);
  const scale = fputcsvLine(['Identifier', 'Full name', 'Status', 'Grade', 'Scale', 'Last modified (grade)']) + fputcsvLine(['Participant 1', 'A B', '', '', 'Bien\nTrès bien', '-']);
  expect(() => readWorksheet(write('bareme.csv', scale))).toThrow(/^bareme\.csv : ce devoir est noté avec un barème \(colonne « Scale »\), pas sur des points/);
  const noModified = fputcsvLine(['Identifiant', 'Nom complet', 'Note', 'Note maximale']) + fputcsvLine(['Participant1', 'A B', '', '20,00']);
  expect(() => readWorksheet(write('incomplet.csv', noModified))).toThrow(/^incomplet\.csv : la colonne « Dernière modification \(note\) » manque ; Moodle refuserait la feuille/);
  expect(() => readWorksheet(join(folder.dir, 'absente.csv'))).toThrow(/absente\.csv : feuille de notes illisible \(ENOENT\)/);
});

test('npm run grade refuses a bad worksheet, and a worksheet without Moodle participants, before grading (exit 2)', () => {
  const bad = join(folder.dir, 'pas-moodle.csv');
  writeFileSync(bad, 'a,b\n1,2\n');
  const grade = (...args: string[]) => spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(PROJECT_ROOT, 'grading', 'cli', 'grade.ts'), ...args], { encoding: 'utf8', cwd: folder.dir, timeout: 120_000 });
  const classDir = join(folder.dir, 'classe');
  mkdirSync(join(classDir, 'alice'), { recursive: true });
  writeFileSync(join(classDir, 'alice', 'classification.ipynb'), '{}');
  const refused = grade(classDir, '--no-execute', '--moodle-worksheet', bad);
  expect(refused.status).toBe(2);
  expect(refused.stderr).toMatch(/Correcteur : pas-moodle\.csv n’est pas une feuille de notes Moodle/);
  const good = join(folder.dir, 'bonne.csv');
  writeFileSync(good, worksheetBytes(worksheetText([{ participant: '1', name: 'Alice' }])));
  const noParticipant = grade(classDir, '--no-execute', '--moodle-worksheet', good);
  expect(noParticipant.status).toBe(2);
  expect(noParticipant.stderr).toMatch(/--moodle-worksheet : aucune soumission n’a de numéro de participant Moodle/);
  expect(grade('--help').stdout).toMatch(/--moodle-worksheet FICHIER/);
});

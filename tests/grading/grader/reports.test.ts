/**
 * The class reports for folders whose names collide once made file-safe: one feedback page per
 * student, names with their accents, Moodle participant numbers, and integrity flags shown to the
 * instructor only. Grades are synthetic (no notebook is run).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoverSubmissions, summaryTable, type SubmissionRef } from '../../../grading/grader/class-run';
import { flagIntegrity } from '../../../grading/grader/integrity';
import type { SubmissionGrade } from '../../../grading/grader/pipeline';
import { gradesCsv, writeReports, type ClassReport } from '../../../grading/grader/reports';
import { CHECK_IDS, DEFAULT_SPEC } from '../../../grading/grader/spec';
import { temporaryFolder } from '../../helpers/fixtures';
import { TRICKY_FOLDERS } from './submissions';

const FOLDERS = TRICKY_FOLDERS;

const folder = temporaryFolder('grading-reports-');
afterAll(() => folder.cleanup());

/** A graded submission as the pipeline returns it, for a folder's identity. */
function gradeFor(ref: Pick<SubmissionRef, 'id' | 'name' | 'participant' | 'folder'>, score = 15): SubmissionGrade {
  const checks = CHECK_IDS.map((id) => ({ id, passed: id !== 'test-accuracy', points: id === 'test-accuracy' ? 0 : DEFAULT_SPEC.points[id], maxPoints: DEFAULT_SPEC.points[id], message: `message de ${id}` }));
  return { id: ref.id, name: ref.name, participant: ref.participant, folder: ref.folder, flags: [], score, maxScore: 20, passed: false, checks, executed: false, sandbox: 'none', durationMs: 1234, accuracy: 0.8123, notes: [] };
}

function report(submissions: SubmissionGrade[]): ClassReport {
  return { title: DEFAULT_SPEC.title, gradedAt: '2025-01-15T10:00:00.000Z', executed: false, sandbox: 'none', submissions };
}

/** RFC 4180 rows (quoted fields with commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += c;
  }
  return rows;
}

let refs: SubmissionRef[];
let grades: SubmissionGrade[];
const reportDir = join(folder.dir, 'rapport');

beforeAll(async () => {
  const classDir = join(folder.dir, 'classe');
  for (const [i, name] of FOLDERS.entries()) {
    const dir = join(classDir, name);
    mkdirSync(join(dir, 'modele'), { recursive: true });
    writeFileSync(join(dir, 'classification.ipynb'), JSON.stringify({ cells: [{ cell_type: 'code', source: `console.log(${i});`, outputs: [], metadata: {}, execution_count: null }] }));
    writeFileSync(join(dir, 'modele', 'model.json'), '{}');
    // The two Moodle Élodies handed in the same weights.
    writeFileSync(join(dir, 'modele', 'modele.weights.bin'), name.endsWith('_assignsubmission_file_') ? 'poids partagés' : `poids de ${name}`);
  }
  refs = discoverSubmissions(classDir, DEFAULT_SPEC);
  grades = await flagIntegrity(refs.map((ref) => gradeFor(ref)), refs, DEFAULT_SPEC);
  writeReports(reportDir, report(grades));
});

test('seven folders, seven ids, seven feedback pages', () => {
  expect(refs.map((r) => r.folder).sort()).toEqual([...FOLDERS].sort());
  expect(new Set(refs.map((r) => r.id)).size).toBe(FOLDERS.length);
  const pages = readdirSync(join(reportDir, 'feedback')).sort();
  expect(pages).toHaveLength(FOLDERS.length);
  expect(pages).toEqual(refs.map((r) => `${r.id}.html`).sort());
});

test('each feedback page carries its student\'s name, accents kept, and nobody else\'s flags', () => {
  for (const g of grades) {
    const html = readFileSync(join(reportDir, 'feedback', `${g.id}.html`), 'utf8');
    const escaped = g.name.replace(/&/g, '&amp;');
    expect(html).toContain(`<title>${escaped} : 15 / 20</title>`);
    expect(html).toContain(`<h1>${escaped}</h1>`);
    expect(html).not.toMatch(/identique/);
  }
  const moodle = grades.find((g) => g.participant === '123456')!;
  expect(moodle.flags).toHaveLength(1);
  const page = readFileSync(join(reportDir, 'feedback', `${moodle.id}.html`), 'utf8');
  expect(page).toContain('<h1>Élodie Durand</h1>');
  expect(page).toContain('participant n° 123456');
  expect(page).not.toContain('654321');
});

test('grades.json: name, participant (null when none), folder and flags', () => {
  const json = JSON.parse(readFileSync(join(reportDir, 'grades.json'), 'utf8'));
  const byFolder = new Map(json.submissions.map((s: { folder: string }) => [s.folder, s]));
  expect(byFolder.get('bob smith')).toMatchObject({ id: 'bob-smith', name: 'bob smith', participant: null, flags: [] });
  expect(byFolder.get('Bob Smith')).toMatchObject({ id: 'bob-smith-2', name: 'Bob Smith', participant: null });
  expect(byFolder.get('Élodie Durand_123456_assignsubmission_file_')).toMatchObject({
    id: 'elodie-durand_123456',
    name: 'Élodie Durand',
    participant: '123456',
    flags: [{ kind: 'identical-weights', with: ['elodie-durand_654321'], message: 'Les poids du modèle (modele/) sont identiques, octet pour octet, à ceux de elodie-durand_654321.' }],
  });
  expect(byFolder.get('Elodie Durand_654321_assignsubmission_file_')).toMatchObject({ id: 'elodie-durand_654321', participant: '654321', flags: [{ kind: 'identical-weights', with: ['elodie-durand_123456'] }] });
  expect(json.submissions.map((s: { score: number }) => s.score)).toEqual(grades.map(() => 15));
});

test('grades.csv: id first, then name and participant, then the columns as before (RFC 4180, BOM)', () => {
  const text = readFileSync(join(reportDir, 'grades.csv'), 'utf8');
  expect(text.startsWith('\ufeffid,name,participant,score,maxScore,passed,accuracy,')).toBe(true);
  const rows = parseCsv(text.slice(1));
  expect(rows[0]).toEqual(['id', 'name', 'participant', 'score', 'maxScore', 'passed', 'accuracy', ...CHECK_IDS]);
  expect(rows).toHaveLength(FOLDERS.length + 1);
  expect(rows.find((r) => r[0] === 'elodie-durand_654321')?.slice(0, 7)).toEqual(['elodie-durand_654321', 'Elodie Durand', '654321', '15', '20', 'false', '0.8123']);
  expect(rows.find((r) => r[0] === 'bob_smith')?.slice(0, 3)).toEqual(['bob_smith', 'bob_smith', '']);
  // Names with commas and quotes are quoted; a name a spreadsheet would read as a formula is not one.
  const odd = parseCsv(gradesCsv(report([gradeFor({ id: 'a', name: 'Dupont, "Jo"', folder: 'x' }), gradeFor({ id: 'b', name: '=HYPERLINK("x")', folder: 'y' })])).slice(1));
  expect(odd.map((r) => r[1])).toEqual(['name', 'Dupont, "Jo"', `'=HYPERLINK("x")`]);
});

test('junit.xml: suites and classnames by id, the name as a property', () => {
  const xml = readFileSync(join(reportDir, 'junit.xml'), 'utf8');
  expect((xml.match(/<testsuite /g) ?? []).length).toBe(FOLDERS.length);
  expect(xml).toContain('<testsuite name="elodie-durand_123456" tests="8" failures="1" errors="0" time="1.2">\n    <properties>\n      <property name="name" value="Élodie Durand"/>\n      <property name="participant" value="123456"/>\n    </properties>');
  expect(xml).toContain('<testcase classname="bob-smith-2" name="notebooks-valid (1/1)" time="0">');
  expect(xml).not.toMatch(/identique/);
});

test('index.html: links by id, names shown, flags named for the instructor', () => {
  const html = readFileSync(join(reportDir, 'index.html'), 'utf8');
  for (const g of grades) expect(html).toContain(`<tr id="s-${g.id}"><td><a href="feedback/${g.id}.html">${g.name}</a></td><td><code>${g.id}</code></td>`);
  expect(html).toContain('<th>Participant</th>');
  expect(html).toContain('2 signalées');
  expect(html).toMatch(/<span class="badge flag" title="Les poids du modèle \(modele\/\) sont identiques[^"]*">poids identiques à <a href="#s-elodie-durand_654321">elodie-durand_654321<\/a><\/span>/);
});

test('the console summary shows names next to ids', () => {
  const table = summaryTable(grades).split('\n');
  expect(table[0]).toMatch(/^Nom\s+Identifiant\s+Note/);
  expect(table.find((line) => line.includes('elodie-durand_123456'))).toMatch(/^Élodie Durand\s+elodie-durand_123456\s+15 \/ 20/);
});

test('two grades with one id are refused rather than sharing a page', () => {
  const twin = gradeFor({ id: 'bob', name: 'Bob', folder: 'Bob' });
  expect(() => writeReports(join(folder.dir, 'doublon'), report([twin, { ...twin, id: 'BOB', folder: 'bob' }]))).toThrow(/même page feedback\/BOB\.html \(« Bob » et « bob »\)/);
});

/**
 * `npm run grade -- <class> --shard i/N` and `npm run grade:merge`, as processes, on a class graded
 * from its stored outputs (--no-execute): the merged gradebook is the one a single run writes (the
 * cross-shard integrity flags included), and every way shards can fail to form one class is
 * refused with a French message (a missing shard's message gives the command that grades it,
 * and that command works). A Moodle zip graded in shards and merged with --moodle-worksheet gives
 * the worksheet and feedback zip one run gives.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readShardReport } from '../../../grading/cluster/shard-report';
import { shardOf } from '../../../grading/cluster/shard';
import { temporaryFolder } from '../../helpers/fixtures';
import { downloadFolder, readTestZip, worksheetBytes, worksheetText, writeTestZip } from '../lms/moodle-fixtures';
import { grade, gradebookShape, gradeMerge, runPrintedNpm, type CliResult } from './run';

const folder = temporaryFolder('grading-merge-');
const cwd = folder.dir;
const STUDENTS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const results = new Map<string, CliResult>();

/** `grade` with the fixtures' spec, stored outputs, from the test folder. */
function gradeStored(...args: string[]): Promise<CliResult> {
  return grade([...args, '--no-execute', '--spec', 'bareme.json'], { cwd });
}

/** Text of a report file with what differs from run to run (dates, durations) taken out. */
function stable(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/corrigée le [^·]+·/g, 'corrigée le X ·')
    .replace(/"gradedAt": "[^"]+"/g, '"gradedAt": "X"')
    .replace(/"durationSeconds": [\d.]+/g, '"durationSeconds": 0')
    .replace(/ time="[\d.]+"/g, ' time="0"');
}

beforeAll(async () => {
  const build = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', 'grader', 'stored-submission.ts'), join(cwd, 'classe'), 'alice=true', 'bob=0.97', 'carol=true', 'dave=true', 'erin=true'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`building the fixtures failed: ${build.stderr}`);
  writeFileSync(join(cwd, 'bareme.json'), JSON.stringify({ accuracy: { pass: 0.6, bands: [] } }));
  results.set('seul', await gradeStored('classe', '--report', 'seul'));
  for (const i of [1, 2, 3]) results.set(`f${i}`, await gradeStored('classe', '--shard', `${i}/3`, '--report', `fragments/f${i}`));
  results.set('fusion', await gradeMerge(['fragments/f1', 'fragments/f2', 'fragments/f3', '--report', 'fusion'], { cwd }));
}, 300_000);

afterAll(() => folder.cleanup());

test('each shard grades its share only, says so, and writes its usual reports plus shard.json', () => {
  const shares: Record<number, string[]> = { 1: ['bob', 'carol', 'dave'], 2: ['alice'], 3: ['erin'] };
  for (const i of [1, 2, 3]) {
    const run = results.get(`f${i}`)!;
    expect(run.stderr).toMatch(new RegExp(`Fragment ${i}/3 : ${shares[i].length} soumissions? sur les 5 de la classe\\.`));
    expect(run.stdout).toMatch(/Intégrité : les poids ou notebooks identiques se cherchent sur toute la classe, à la fusion/);
    const dir = join(cwd, 'fragments', `f${i}`);
    for (const file of ['grades.json', 'grades.csv', 'junit.xml', 'index.html', 'shard.json']) expect(existsSync(join(dir, file))).toBe(true);
    const shard = readShardReport(join(dir, 'shard.json'));
    expect(shard).toMatchObject({ format: 'analyse-image/shard-report', version: 1, shard: { index: i, count: 3 }, rule: 'sha256(id) mod N', executed: false });
    expect(shard.class.ids).toEqual(STUDENTS);
    expect(shard.class.dir).toBe(join(cwd, 'classe'));
    expect(shard.grades.map((g) => g.id)).toEqual(shares[i]);
    expect(shard.grades.every((g) => shardOf(g.id, 3) === i)).toBe(true);
    expect(shard.argv).toEqual(['classe', '--shard', `${i}/3`, '--report', `fragments/f${i}`, '--no-execute', '--spec', 'bareme.json']);
    // Alone, a shard cannot flag what every submission shares with the others (the same model).
    expect(shard.grades.flatMap((g) => g.flags)).toEqual([]);
  }
  expect(results.get('f1')!.code).toBe(1); // bob prints an accuracy its model does not have
  expect(results.get('f2')!.code).toBe(0);
});

test('the merged gradebook is the single run’s: grades.json, grades.csv, junit.xml, index.html and every feedback page', () => {
  const merge = results.get('fusion')!;
  expect(merge.stderr).toMatch(/Classe .*classe : 5 soumissions en 3 fragments, tous présents ; intégrité recalculée sur toute la classe\./);
  expect(merge.code).toBe(results.get('seul')!.code);
  expect(merge.code).toBe(1);
  expect(gradebookShape(join(cwd, 'fusion', 'grades.json'))).toEqual(gradebookShape(join(cwd, 'seul', 'grades.json')));
  for (const file of ['grades.json', 'grades.csv', 'junit.xml', 'index.html', ...STUDENTS.map((id) => `feedback/${id}.html`)]) {
    expect([file, stable(join(cwd, 'fusion', file))]).toEqual([file, stable(join(cwd, 'seul', file))]);
  }
  const merged = JSON.parse(readFileSync(join(cwd, 'fusion', 'grades.json'), 'utf8'));
  // Every submission has the same weights and notebook: flagged across the three shards.
  expect(merged.submissions.find((s: { id: string }) => s.id === 'alice').flags.map((f: { kind: string; with: string[] }) => [f.kind, f.with])).toEqual([
    ['identical-weights', ['bob', 'carol', 'dave', 'erin']],
    ['identical-notebook', ['bob', 'carol', 'dave', 'erin']],
  ]);
  expect(merge.stdout).toMatch(/Intégrité \(sur toute la classe\) : 5 soumissions signalées/);
});

test('a missing shard is refused, naming it, its students and the command that grades it; that command completes the merge', async () => {
  const run = await gradeMerge(['fragments/f1', 'fragments/f3', '--report', 'fusion-incomplete'], { cwd });
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/Fusion : fusion impossible : fragment manquant : 2\/3 \(2 donnés sur 3\)\. Corrigez-le, puis relancez la fusion :/);
  const command = /- 2\/3 \(alice\) : (npm run grade -- .+)/.exec(run.stderr)![1];
  expect(command).toBe(`npm run grade -- ${join(cwd, 'classe')} --no-execute --spec ${join(cwd, 'bareme.json')} --shard 2/3 --report fragments/fragment-2-sur-3`);
  expect(existsSync(join(cwd, 'fusion-incomplete'))).toBe(false);
  const regraded = await runPrintedNpm(command, { cwd });
  expect(regraded.code).toBe(0);
  const merged = await gradeMerge(['fragments/f1', 'fragments/fragment-2-sur-3', 'fragments/f3', '--report', 'fusion-complete'], { cwd });
  expect(merged.code).toBe(1);
  expect(gradebookShape(join(cwd, 'fusion-complete', 'grades.json'))).toEqual(gradebookShape(join(cwd, 'seul', 'grades.json')));
}, 120_000);

test('overlapping shards are refused: the same shard twice, shards of another N', async () => {
  cpSync(join(cwd, 'fragments', 'f1'), join(cwd, 'autres', 'f1-copie'), { recursive: true });
  const twice = await gradeMerge(['fragments/f1', 'autres/f1-copie', 'fragments/f2', 'fragments/f3', '--report', 'x'], { cwd });
  expect(twice.code).toBe(2);
  expect(twice.stderr).toMatch(/le fragment 1\/3 est donné deux fois : fragments\/f1 et autres\/f1-copie\. Ne gardez qu’un rapport par fragment\./);
  // The same folder named twice (and by its shard.json) is one shard, not an overlap.
  const same = await gradeMerge(['fragments/f1', 'fragments/f1/shard.json', 'fragments/f2', 'fragments/f3', '--report', 'y'], { cwd });
  expect(same.code).toBe(1);
  const half = await gradeStored('classe', '--shard', '1/2', '--report', 'autres/moitie-1');
  expect(half.code).toBeLessThanOrEqual(1);
  const mixed = await gradeMerge(['autres/moitie-1', 'fragments/f2', 'fragments/f3', '--report', 'x'], { cwd });
  expect(mixed.code).toBe(2);
  expect(mixed.stderr).toMatch(/ces fragments ne découpent pas la classe en un même nombre de parts : 1\/2 \(autres\/moitie-1\), 2\/3 \(fragments\/f2\), 3\/3 \(fragments\/f3\)\. Corrigez tous les fragments avec le même N/);
  // A shard report edited to hold a submission of another shard.
  mkdirSync(join(cwd, 'autres', 'f2-triche'), { recursive: true });
  const edited = JSON.parse(readFileSync(join(cwd, 'fragments', 'f2', 'shard.json'), 'utf8'));
  edited.grades.push({ ...edited.grades[0], id: 'bob' });
  writeFileSync(join(cwd, 'autres', 'f2-triche', 'shard.json'), JSON.stringify(edited));
  const cheat = await gradeMerge(['fragments/f1', 'autres/f2-triche', 'fragments/f3', '--report', 'x'], { cwd });
  expect(cheat.code).toBe(2);
  expect(cheat.stderr).toMatch(/la soumission bob est dans deux fragments : 1\/3 \(fragments\/f1\) et 2\/3 \(autres\/f2-triche\)\./);
  expect(existsSync(join(cwd, 'x'))).toBe(false);
}, 120_000);

test('shards of another class, or of a class that changed since, are refused; --class finds a class that moved', async () => {
  cpSync(join(cwd, 'classe'), join(cwd, 'classe-plus'), { recursive: true });
  cpSync(join(cwd, 'classe', 'alice'), join(cwd, 'classe-plus', 'frank'), { recursive: true });
  const other = await gradeStored('classe-plus', '--shard', '2/3', '--report', 'autres/plus-2');
  expect(other.code).toBeLessThanOrEqual(1);
  const mixed = await gradeMerge(['fragments/f1', 'autres/plus-2', 'fragments/f3', '--report', 'x'], { cwd });
  expect(mixed.code).toBe(2);
  expect(mixed.stderr).toMatch(/ces fragments ne viennent pas de la même classe \(ou la classe a changé entre deux corrections\) :\n {2}- fragment 1\/3 \(fragments\/f1\), fragment 3\/3 \(fragments\/f3\) : classe .*\/classe, 5 soumissions\n {2}- fragment 2\/3 \(autres\/plus-2\) : classe .*\/classe-plus, 6 soumissions ; en plus : frank/);
  // The class folder gained a student after grading: the merge cannot vouch for integrity flags.
  const changed = await gradeMerge(['fragments/f1', 'fragments/f2', 'fragments/f3', '--class', 'classe-plus', '--report', 'x'], { cwd });
  expect(changed.code).toBe(2);
  expect(changed.stderr).toMatch(/la classe .*classe-plus ne correspond plus à la classe des fragments \(en plus : frank\)\. Donnez la classe corrigée avec --class, ou recorrigez les fragments\./);
  // The class moved (another machine): without --class the merge says what it needs, with it it works.
  renameSync(join(cwd, 'classe'), join(cwd, 'classe-deplacee'));
  try {
    const lost = await gradeMerge(['f1', 'f2', 'f3', '--report', join(cwd, 'x')], { cwd: join(cwd, 'fragments') });
    expect(lost.code).toBe(2);
    expect(lost.stderr).toMatch(/dossier de la classe introuvable : .*\/classe\. La fusion recalcule les signalements d’intégrité \(poids ou notebook identiques\) sur toute la classe : donnez son dossier avec --class <dossier>\./);
    const found = await gradeMerge(['fragments/f1', 'fragments/f2', 'fragments/f3', '--class', 'classe-deplacee', '--report', 'fusion-ailleurs'], { cwd });
    expect(found.code).toBe(1);
    expect(gradebookShape(join(cwd, 'fusion-ailleurs', 'grades.json'))).toEqual(gradebookShape(join(cwd, 'seul', 'grades.json')));
  } finally {
    renameSync(join(cwd, 'classe-deplacee'), join(cwd, 'classe'));
  }
}, 120_000);

test('a whole run, a folder of no shard, another spec: refused with what to do', async () => {
  const whole = await gradeMerge(['seul', '--report', 'x'], { cwd });
  expect(whole.code).toBe(2);
  expect(whole.stderr).toMatch(/seul est le rapport d’une correction entière \(grades\.json sans shard\.json\), pas celui d’un fragment\. Un fragment se corrige avec npm run grade -- <classe> --shard i\/N --report <dossier>\./);
  const nothing = await gradeMerge(['classe', '--report', 'x'], { cwd });
  expect(nothing.stderr).toMatch(/classe ne contient pas de shard\.json \(ni de sous-dossier qui en ait un\) : ce n’est pas le rapport d’un fragment/);
  const timeout = await grade(['classe', '--no-execute', '--spec', 'bareme.json', '--timeout', '7', '--shard', '2/3', '--report', 'autres/delai-2'], { cwd });
  expect(timeout.code).toBe(0);
  const spec = await gradeMerge(['fragments/f1', 'autres/delai-2', 'fragments/f3', '--report', 'x'], { cwd });
  expect(spec.stderr).toMatch(/ces fragments n’ont pas été corrigés avec le même barème \(--spec, --timeout\)/);
  const inside = await gradeMerge(['fragments/f1', 'fragments/f2', 'fragments/f3', '--report', 'fragments/f2'], { cwd });
  expect(inside.stderr).toMatch(/--report fragments\/f2 est le dossier d’un fragment : choisissez un autre dossier pour le carnet fusionné\./);
  const none = await gradeMerge([], { cwd });
  expect(none.stderr).toMatch(/indiquez les rapports des fragments à fusionner/);
  expect(none.code).toBe(2);
  expect(readdirSync(cwd)).not.toContain('x');
}, 120_000);

test('grade’s cluster options are checked before any work, in French', async () => {
  const bad = await grade(['classe', '--shard', '4/3'], { cwd });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--shard attend i\/N avec 1 ≤ i ≤ N ≤ 1000 \(par exemple 2\/3\), pas "4\/3"\.\nVoir npm run grade -- --help\./);
  expect((await grade(['classe', '--slurm', '--shard', '1/3'], { cwd })).stderr).toMatch(/--slurm et --shard s’excluent/);
  expect((await grade(['classe', '--partition', 'debug'], { cwd })).stderr).toMatch(/--shards, --partition, --cpus-per-task et --time vont avec --slurm\./);
  expect((await grade(['classe', '--slurm', '--time', 'demain'], { cwd })).stderr).toMatch(/--time attend une durée au format de Slurm/);
  const help = await grade(['--help'], { cwd });
  expect(help.stdout).toMatch(/--shard i\/N/);
  expect(help.stdout).toMatch(/--slurm/);
  expect(help.stdout).toMatch(/sur un système de fichiers que voient les nœuds, au même chemin/);
  const mergeHelp = await gradeMerge(['--help'], { cwd });
  expect(mergeHelp.code).toBe(0);
  expect(mergeHelp.stdout).toMatch(/Usage : npm run grade:merge -- <rapport>\.\.\. --report DIR/);
}, 120_000);

/** A zip's entries as text, the grading dates blanked (they differ between runs). */
async function zipTexts(path: string): Promise<Map<string, string>> {
  const entries = await readTestZip(path);
  return new Map([...entries].map(([name, data]) => [name, data.toString('utf8').replace(/corrigée le [^·]+·/g, 'corrigée le X ·')]));
}

test('a Moodle zip graded in shards, merged with --moodle-worksheet: the worksheet and the feedback zip of one run', async () => {
  const students: [string, string, string][] = [['alice', 'Élodie Durand', '200001'], ['bob', "Anne O'Brien", '200002'], ['carol', 'Jean-Éric Lefèvre', '200003'], ['dave', 'Zoé Lemaître', '200004']];
  const entries = students.flatMap(([dir, name, participant]) =>
    ['classification.ipynb', 'test_model.ipynb', 'modele/modele.json', 'modele/modele.weights.bin']
      .filter((file) => existsSync(join(cwd, 'classe', dir, file)))
      .map((file) => ({ name: `${downloadFolder(name, participant)}/${file}`, data: readFileSync(join(cwd, 'classe', dir, file)) })),
  );
  expect(entries.length).toBeGreaterThanOrEqual(12);
  await writeTestZip(join(cwd, 'devoir.zip'), entries);
  writeFileSync(join(cwd, 'feuille.csv'), worksheetBytes(worksheetText([...students.map(([, name, participant]) => ({ participant, name })), { participant: '200009', name: 'Absent Étudiant' }])));
  const single = await gradeStored('devoir.zip', '--moodle-worksheet', 'feuille.csv', '--report', 'moodle-seul');
  expect(single.code).toBe(1);
  const refused = await gradeStored('devoir.zip', '--moodle-worksheet', 'feuille.csv', '--shard', '1/2', '--report', 'moodle-fragments/f1');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/--moodle-worksheet va avec la fusion des fragments .* npm run grade:merge -- <fragments>\.\.\. --report <dossier> --moodle-worksheet <feuille\.csv>\./);
  for (const i of [1, 2]) expect((await gradeStored('devoir.zip', '--shard', `${i}/2`, '--report', `moodle-fragments/f${i}`)).code).toBeLessThanOrEqual(1);
  // A shard writes no Moodle file: it holds a part of the class only.
  expect(existsSync(join(cwd, 'moodle-fragments', 'f1', 'moodle'))).toBe(false);
  const merged = await gradeMerge(['moodle-fragments', '--moodle-worksheet', 'feuille.csv', '--report', 'moodle-fusion'], { cwd });
  expect(merged.code).toBe(1);
  expect(merged.stdout).toMatch(/Feuille de notes Moodle : 4 lignes remplies/);
  expect(gradebookShape(join(cwd, 'moodle-fusion', 'grades.json'))).toEqual(gradebookShape(join(cwd, 'moodle-seul', 'grades.json')));
  const ids = (gradebookShape(join(cwd, 'moodle-fusion', 'grades.json')) as { id: string }[]).map((g) => g.id);
  expect(ids).toEqual(['anne-obrien_200002', 'elodie-durand_200001', 'jean-eric-lefevre_200003', 'zoe-lemaitre_200004']);
  expect(readFileSync(join(cwd, 'moodle-fusion', 'moodle', 'feuille.csv'))).toEqual(readFileSync(join(cwd, 'moodle-seul', 'moodle', 'feuille.csv')));
  const [fromMerge, fromOne] = [await zipTexts(join(cwd, 'moodle-fusion', 'moodle', 'retours-moodle.zip')), await zipTexts(join(cwd, 'moodle-seul', 'moodle', 'retours-moodle.zip'))];
  expect([...fromMerge.keys()].sort()).toEqual([...fromOne.keys()].sort());
  expect(fromMerge.size).toBe(4);
  for (const [name, text] of fromOne) expect([name, fromMerge.get(name)]).toEqual([name, text]);
}, 180_000);

/**
 * Zips are read safely: entries that would leave the extraction folder, links, special files,
 * bombs (by ratio and by size, announced or hidden), too many entries and duplicates are refused
 * with a French message naming the zip and the entry, and nothing is written outside the folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEFAULT_ZIP_LIMITS, extractZip, writeZip, ZipRefusedError, type ZipLimits } from '../../../grading/lms/zip';
import { PROJECT_ROOT } from '../../../lib/paths';
import { temporaryFolder } from '../../helpers/fixtures';
import { rawZip, type RawEntry } from './zip-fixtures';

const folder = temporaryFolder('lms-zip-');
afterAll(() => folder.cleanup());

let n = 0;
/** Writes the entries as `<name>.zip` and extracts it into a fresh folder inside `sandbox/`, which has a sibling `outside/`. */
async function attempt(zipName: string, entries: RawEntry[], limits?: Partial<ZipLimits>) {
  const base = join(folder.dir, `cas-${++n}`);
  const dest = join(base, 'sandbox', 'extrait');
  mkdirSync(join(base, 'outside'), { recursive: true });
  const zip = join(base, zipName);
  writeFileSync(zip, rawZip(entries));
  const before = readFileSync(zip);
  let error: unknown;
  try {
    await extractZip(zip, dest, { limits: { ...DEFAULT_ZIP_LIMITS, ...limits } });
  } catch (e) {
    error = e;
  }
  // The zip is only read; nothing lands outside the destination.
  expect(readFileSync(zip).equals(before)).toBe(true);
  expect(readdirSync(join(base, 'outside'))).toEqual([]);
  expect(readdirSync(base).sort()).toEqual(['outside', 'sandbox', zipName].sort());
  expect(readdirSync(join(base, 'sandbox'))).toEqual(['extrait']);
  return { error: error as ZipRefusedError, dest };
}

test('a well-formed zip is extracted: folders, files, names with accents and spaces; __MACOSX is left out', async () => {
  const { error, dest } = await attempt('bon.zip', [
    { name: 'Élodie Durand/' },
    { name: 'Élodie Durand/modele/model.json', data: '{}' },
    { name: 'Élodie Durand/notes de cours.txt', data: 'é'.repeat(1000) },
    { name: '__MACOSX/Élodie Durand/._notes de cours.txt', data: 'x' },
  ]);
  expect(error).toBeUndefined();
  expect(readFileSync(join(dest, 'Élodie Durand', 'notes de cours.txt'), 'utf8')).toBe('é'.repeat(1000));
  expect(existsSync(join(dest, '__MACOSX'))).toBe(false);
});

test.each([
  ['../evil.txt', /sort du dossier d’extraction/],
  ['étudiant/../../evil.txt', /sort du dossier d’extraction/],
  ['..\\..\\evil.txt', /sort du dossier d’extraction/],
  ['/tmp/evil.txt', /chemin absolu/],
  ['C:\\Windows\\evil.txt', /chemin absolu/],
])('path %s is refused, nothing extracted', async (name, reason) => {
  const { error, dest } = await attempt('piege.zip', [{ name: 'a.txt', data: 'bon' }, { name, data: 'mauvais' }]);
  expect(error).toBeInstanceOf(ZipRefusedError);
  expect(error.message).toMatch(reason);
  expect(error.message).toContain('piege.zip');
  expect(error.message).toContain(`« ${name.replace(/\\/g, '/')} »`);
  expect(error.message).toMatch(/Rien n’a été extrait/);
  expect(readdirSync(dest)).toEqual([]);
});

test('a symbolic link entry is refused, never created', async () => {
  const { error, dest } = await attempt('lien.zip', [{ name: 'modele/', mode: 0o040755 }, { name: 'modele/poids.bin', data: '/etc/passwd', mode: 0o120777 }]);
  expect(error).toBeInstanceOf(ZipRefusedError);
  expect(error.message).toBe('lien.zip contient un lien symbolique : « modele/poids.bin ». Les liens ne sont jamais créés ; rien n’a été extrait.');
  expect(readdirSync(dest)).toEqual([]);
});

test('a special file (a FIFO) is refused', async () => {
  const { error } = await attempt('fifo.zip', [{ name: 'tube', data: '', mode: 0o010644 }]);
  expect(error.message).toMatch(/fifo\.zip contient un fichier spécial .*« tube »/);
});

test('zip bomb by ratio: 20 MiB of zeros packed in 20 kB is refused before writing', async () => {
  const { error, dest } = await attempt('bombe.zip', [{ name: 'zeros.bin', data: Buffer.alloc(20 * 1024 ** 2) }]);
  expect(error).toBeInstanceOf(ZipRefusedError);
  expect(error.message).toMatch(/^bombe\.zip : « zeros\.bin » se décompresse [\d\s\u202f]+ fois plus gros qu’il n’est compressé \(au plus 200 acceptés : zip piégé \?\) : refusé\.$/);
  expect(readdirSync(dest)).toEqual([]);
});

test('zip bomb by size: an entry announcing 4 GB, and real entries adding up past the limit', async () => {
  const announced = await attempt('annonce.zip', [{ name: 'gros.bin', data: 'petit', declaredSize: 0xfffffff0 }]);
  expect(announced.error.message).toMatch(/^annonce\.zip : « gros\.bin » ferait 4 Go une fois extrait, plus que les 1 Go acceptés par fichier/);
  const total = await attempt('total.zip', [0, 1, 2].map((i) => ({ name: `poids-${i}.bin`, data: randomBytes(400_000), method: 0 as const })), { maxTotalBytes: 1024 ** 2 });
  expect(total.error.message).toMatch(/^total\.zip ferait plus de 1 Mo une fois extrait \(au moins jusqu’à « poids-2\.bin »\) : refusé/);
  expect(readdirSync(total.dest)).toEqual([]);
});

test('a header that lies about the size is caught while extracting', async () => {
  const { error } = await attempt('menteur.zip', [{ name: 'a.txt', data: 'x'.repeat(5000), declaredSize: 10 }]);
  expect(error).toBeInstanceOf(ZipRefusedError);
  expect(error.message).toMatch(/^menteur\.zip : impossible d’extraire « a\.txt » \(/);
});

test('too many entries are refused before writing', async () => {
  const { error, dest } = await attempt('nombreux.zip', Array.from({ length: 101 }, (_, i) => ({ name: `f${i}.txt`, data: '' })), { maxEntries: 100 });
  expect(error.message).toBe('nombreux.zip contient 101 entrées, plus que les 100 acceptées (zip piégé ?) : refusé.');
  expect(readdirSync(dest)).toEqual([]);
});

test('two entries with one name: the second is refused rather than overwriting the first', async () => {
  const { error } = await attempt('doublon.zip', [{ name: 'a.txt', data: '1' }, { name: 'a.txt', data: '2' }]);
  expect(error.message).toBe('doublon.zip : impossible d’extraire « a.txt » (deux entrées portent ce nom).');
});

test('not a zip: a French message', async () => {
  const path = join(folder.dir, 'faux.zip');
  writeFileSync(path, 'bonjour');
  await expect(extractZip(path, join(folder.dir, 'faux'))).rejects.toThrow(/^faux\.zip n’est pas un zip lisible/);
});

test('writeZip and extractZip round-trip (UTF-8 names)', async () => {
  const path = join(folder.dir, 'aller-retour.zip');
  await writeZip(path, [{ name: 'Zoé Lemaître_100004_assignsubmission_file_/retour.html', data: '<p>é</p>' }]);
  const out = join(folder.dir, 'aller-retour');
  expect((await extractZip(path, out)).files).toEqual(['Zoé Lemaître_100004_assignsubmission_file_/retour.html']);
  expect(readFileSync(join(out, 'Zoé Lemaître_100004_assignsubmission_file_', 'retour.html'), 'utf8')).toBe('<p>é</p>');
});

test('npm run grade refuses a hostile class zip: exit 2, the French message, no report, the temporary folder removed', () => {
  const base = join(folder.dir, 'cli');
  const tmp = join(base, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const zip = join(base, 'classe.zip');
  writeFileSync(zip, rawZip([{ name: 'alice/classification.ipynb', data: '{}' }, { name: 'alice/../../../evil.txt', data: 'x' }]));
  const run = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(PROJECT_ROOT, 'grading', 'cli', 'grade.ts'), zip, '--no-execute', '--report', join(base, 'notes')], { encoding: 'utf8', cwd: base, env: { ...process.env, TMPDIR: tmp }, timeout: 120_000 });
  expect(run.status).toBe(2);
  expect(run.stderr).toContain('Correcteur : classe.zip contient un chemin qui sort du dossier d’extraction (..) : « alice/../../../evil.txt ». Rien n’a été extrait.');
  expect(existsSync(join(base, 'notes'))).toBe(false);
  expect(readdirSync(tmp).filter((name) => name.startsWith('analyse-image-'))).toEqual([]);
  expect(readdirSync(folder.dir, { recursive: true }).map(String).filter((p) => p.endsWith('evil.txt'))).toEqual([]);
});

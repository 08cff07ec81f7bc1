/** Submission identities: readable, unique, file-safe ids and display names from folder names (Moodle's too). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoverSubmissions } from '../../../grading/grader/class-run';
import { MAX_ID_LENGTH, identifySubmissions, parseFolderName, slugify } from '../../../grading/grader/identity';
import { DEFAULT_SPEC } from '../../../grading/grader/spec';
import { temporaryFolder } from '../../helpers/fixtures';
import { TRICKY_FOLDERS } from './submissions';


const ID = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/;

test('transliteration: accents and ligatures become ASCII, separators collapse, case is lowered', () => {
  expect(slugify('Élodie Durand')).toBe('elodie-durand');
  expect(slugify('Ærø')).toBe('aero');
  expect(slugify('Œuvre')).toBe('oeuvre');
  expect(slugify('Straße')).toBe('strasse');
  expect(slugify('Łukasz Żółć')).toBe('lukasz-zolc');
  expect(slugify('Søren Þór Đặng')).toBe('soren-thor-dang');
  expect(slugify('  Jean -- Pierre  ')).toBe('jean-pierre');
  expect(slugify('bob_smith')).toBe('bob_smith');
  expect(slugify("O'Brien Ann-Marie")).toBe('obrien-ann-marie');
  expect(slugify('Col·lecció')).toBe('colleccio');
  expect(slugify('Élodie'.normalize('NFD'))).toBe('elodie');
  expect(slugify('../../etc/passwd')).toBe('etc-passwd');
  expect(slugify('..')).toBe('');
  expect(slugify('.cache')).toBe('cache');
  expect(slugify('王芳')).toBe('');
});

test('ids are never empty, never . or .., and at most MAX_ID_LENGTH characters', () => {
  const folders = ['..', '.', '王芳', '李伟', '---', 'a'.repeat(300), 'a'.repeat(300) + 'b', `${'Ñ'.repeat(200)}_42_assignsubmission_file_`];
  const ids = identifySubmissions(folders).map((s) => s.id);
  expect(new Set(ids).size).toBe(folders.length);
  for (const id of ids) {
    expect(id).toMatch(ID);
    expect(id.length).toBeLessThanOrEqual(MAX_ID_LENGTH);
  }
  expect(ids.slice(0, 5).sort()).toEqual(['soumission', 'soumission-2', 'soumission-3', 'soumission-4', 'soumission-5']);
  expect(ids.slice(5, 7).sort()).toEqual([`${'a'.repeat(MAX_ID_LENGTH - 2)}-2`, 'a'.repeat(MAX_ID_LENGTH)]);
  expect(ids[7]).toMatch(/^n+_42$/);
});

test('the instructor\'s class: every folder gets its own id, suffixes follow the folder-name order', () => {
  const identities = identifySubmissions(TRICKY_FOLDERS);
  expect(identities.map((s) => s.id)).toEqual(['bob-smith', 'bob_smith', 'bob-smith-2', 'elodie-durand-2', 'elodie-durand', 'elodie-durand_123456', 'elodie-durand_654321']);
  expect(identities.map((s) => s.name)).toEqual(['bob smith', 'bob_smith', 'Bob Smith', 'Élodie Durand', 'elodie durand', 'Élodie Durand', 'Elodie Durand']);
  expect(identities.map((s) => s.participant)).toEqual([undefined, undefined, undefined, undefined, undefined, '123456', '654321']);
  expect(identities.map((s) => s.folder)).toEqual(TRICKY_FOLDERS);
  // Deterministic: the same ids whatever order the folders are listed in.
  const reversed = identifySubmissions([...TRICKY_FOLDERS].reverse());
  expect(Object.fromEntries(reversed.map((s) => [s.folder, s.id]))).toEqual(Object.fromEntries(identities.map((s) => [s.folder, s.id])));
});

test('names that differ only in case or punctuation still get distinct ids; a suffix never takes another folder\'s own id', () => {
  const folders = ['Ann.Lee', 'ann lee', 'ANN-LEE', 'ann-lee-2', 'ann, lee!'];
  const ids = identifySubmissions(folders).map((s) => s.id);
  expect(new Set(ids).size).toBe(folders.length);
  expect(ids[0]).toBe('ann.lee');
  expect(ids[3]).toBe('ann-lee-2');
  expect(ids.filter((id) => id.startsWith('ann-lee')).sort()).toEqual(['ann-lee', 'ann-lee-2', 'ann-lee-3', 'ann-lee-4']);
  // The same name in NFC and NFD (two folders on Linux) are two submissions.
  const composed = identifySubmissions(['Élodie', 'Élodie'.normalize('NFD')]);
  expect(composed.map((s) => s.id).sort()).toEqual(['elodie', 'elodie-2']);
  expect(composed.map((s) => s.name)).toEqual(['Élodie', 'Élodie']);
});

test('Moodle folders: name and participant number apart, the id built from both', () => {
  expect(parseFolderName('Élodie Durand_123456_assignsubmission_file_')).toEqual({ name: 'Élodie Durand', participant: '123456', baseId: 'elodie-durand_123456' });
  expect(parseFolderName('Jean Dupont_98_assignsubmission_onlinetext_')).toEqual({ name: 'Jean Dupont', participant: '98', baseId: 'jean-dupont_98' });
  expect(parseFolderName('王芳_77_assignsubmission_file_')).toEqual({ name: '王芳', participant: '77', baseId: '77' });
  expect(parseFolderName('bob_smith')).toEqual({ name: 'bob_smith', baseId: 'bob_smith' });
  expect(parseFolderName('Jean_123_notmoodle')).toEqual({ name: 'Jean_123_notmoodle', baseId: 'jean_123_notmoodle' });
});

test('discoverSubmissions: a class of tricky folder names, and one submission on its own', () => {
  const { dir, cleanup } = temporaryFolder();
  try {
    const classDir = join(dir, 'classe');
    for (const folder of TRICKY_FOLDERS) {
      mkdirSync(join(classDir, folder), { recursive: true });
      writeFileSync(join(classDir, folder, 'classification.ipynb'), '{}');
    }
    const refs = discoverSubmissions(classDir, DEFAULT_SPEC);
    expect(refs).toHaveLength(TRICKY_FOLDERS.length);
    expect(new Set(refs.map((r) => r.id)).size).toBe(TRICKY_FOLDERS.length);
    for (const ref of refs) expect(ref.dir).toBe(join(classDir, ref.folder));
    expect(refs.find((r) => r.participant === '123456')).toMatchObject({ id: 'elodie-durand_123456', name: 'Élodie Durand', folder: 'Élodie Durand_123456_assignsubmission_file_' });
    const single = discoverSubmissions(join(classDir, 'Élodie Durand_123456_assignsubmission_file_'), DEFAULT_SPEC);
    expect(single).toEqual([{ id: 'elodie-durand_123456', name: 'Élodie Durand', participant: '123456', folder: 'Élodie Durand_123456_assignsubmission_file_', dir: join(classDir, 'Élodie Durand_123456_assignsubmission_file_') }]);
  } finally {
    cleanup();
  }
});

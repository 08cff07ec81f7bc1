/** Sharding: `--shard i/N` parsing, the hash rule, its stability when students are added, and the printed command of a missing shard. */
import { identifySubmissions } from '../../../grading/grader/identity';
import { shardCommand } from '../../../grading/cluster/merge';
import { classFingerprint, parseShard, selectShard, shardFolderName, shardOf } from '../../../grading/cluster/shard';
import { validateSlurmOptions } from '../../../grading/cluster/slurm';

test('parseShard reads i/N and refuses anything else in French', () => {
  expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
  expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
  for (const bad of ['0/3', '4/3', '3', '1/0', 'a/b', '-1/3', '1/1001', '1.5/3']) expect(() => parseShard(bad)).toThrow(/--shard attend i\/N avec 1 ≤ i ≤ N ≤ 1000 \(par exemple 2\/3\)/);
});

test('the rule is pinned: sha256(id), first 48 bits, mod N, plus 1', () => {
  // Shard reports record the rule; changing it would make old reports unmergeable with new ones.
  expect(['alice', 'bob', 'carol', 'dave', 'erin'].map((id) => shardOf(id, 3))).toEqual([2, 1, 1, 1, 3]);
  expect(shardOf('élodie-durand', 7)).toBe(shardOf('élodie-durand', 7));
  expect(shardOf('anything', 1)).toBe(1);
});

test('the shards of a class partition it, and are about even', () => {
  const ids = Array.from({ length: 1200 }, (_, i) => `etudiant-${i}`);
  for (const count of [1, 2, 3, 7]) {
    const shards = Array.from({ length: count }, (_, i) => selectShard(ids.map((id) => ({ id })), { index: i + 1, count }).map((s) => s.id));
    expect(shards.flat().sort()).toEqual([...ids].sort());
    for (const shard of shards) expect(Math.abs(shard.length - ids.length / count)).toBeLessThan((ids.length / count) * 0.15);
  }
});

test('adding a student moves no one else: same ids (identity.ts), same shards', () => {
  const folders = ['Élodie Durand', 'bob smith', "Seán O'Brien", 'Zoé', 'Dupont Marie_123456_assignsubmission_file_'];
  const before = identifySubmissions(folders);
  const after = identifySubmissions([...folders, 'Nouvel Étudiant', 'Anne-Lise']);
  for (const count of [2, 3, 5]) {
    for (const identity of before) {
      const same = after.find((a) => a.folder === identity.folder)!;
      expect(same.id).toBe(identity.id);
      expect(shardOf(same.id, count)).toBe(shardOf(identity.id, count));
    }
  }
  expect(classFingerprint(before.map((s) => s.id))).not.toBe(classFingerprint(after.map((s) => s.id)));
});

test('the class fingerprint depends on the ids and their order', () => {
  expect(classFingerprint(['a', 'b'])).toBe(classFingerprint(['a', 'b']));
  expect(classFingerprint(['a', 'b'])).not.toBe(classFingerprint(['b', 'a']));
  expect(classFingerprint(['a', 'b'])).not.toBe(classFingerprint(['a\nb']));
  expect(shardFolderName({ index: 2, count: 3 })).toBe('fragment-2-sur-3');
});

test('the command of a missing shard: the recorded arguments, --shard and --report replaced, paths absolute', () => {
  const report = { argv: ['classe', '--no-execute', '--spec=bareme.json', '--shard', '1/3', '--report', 'x/f1', '--images', 'photos', '--jobs', '2'], cwd: '/cours', class: { dir: '/cours/classe', given: 'classe', ids: [], fingerprint: '' }, executed: false };
  expect(shardCommand(report, { index: 2, count: 3 }, 'x/fragment-2-sur-3')).toBe('npm run grade -- /cours/classe --no-execute --spec /cours/bareme.json --images /cours/photos --jobs 2 --shard 2/3 --report x/fragment-2-sur-3');
  expect(shardCommand({ ...report, argv: ["Classe d'Anne", '--shard=1/3'], class: { ...report.class, dir: "/cours/Classe d'Anne" } }, { index: 3, count: 3 }, 'f 3')).toBe(`npm run grade -- '/cours/Classe d'\\''Anne' --shard 3/3 --report 'f 3'`);
});

test('Slurm options are checked before anything is submitted, in French', () => {
  expect(validateSlurmOptions({ shards: 3, partition: 'debug', cpusPerTask: 2, time: '1-02:00:00' })).toEqual({ shards: 3, partition: 'debug', cpusPerTask: 2, time: '1-02:00:00' });
  for (const time of ['90', '30:00', '2:00:00', '1-0', '1-02:00', 'UNLIMITED']) expect(() => validateSlurmOptions({ shards: 1, time })).not.toThrow();
  expect(() => validateSlurmOptions({ shards: 1, time: 'une heure' })).toThrow(/--time attend une durée au format de Slurm/);
  expect(() => validateSlurmOptions({ shards: 0 })).toThrow(/--shards attend un nombre entier de 1 à 1000/);
  expect(() => validateSlurmOptions({ shards: 2, partition: 'a b' })).toThrow(/--partition attend un nom de partition Slurm/);
  expect(() => validateSlurmOptions({ shards: 2, cpusPerTask: 1.5 })).toThrow(/--cpus-per-task attend un nombre entier positif/);
});

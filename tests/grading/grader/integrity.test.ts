/** The class-level integrity step: identical weights and identical notebooks flagged both ways, nothing else. */
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyIntegrityFlags, findIntegrityFlags, flagIntegrity, notebookFingerprint, weightsFingerprint } from '../../../grading/grader/integrity';
import type { SubmissionGrade } from '../../../grading/grader/pipeline';
import { DEFAULT_SPEC, type GradingSpec } from '../../../grading/grader/spec';
import { temporaryFolder } from '../../helpers/fixtures';
import { notebookJson, stdout } from '../runner/helpers';

const folder = temporaryFolder('grading-integrity-');
afterAll(() => folder.cleanup());

/** Deterministic pseudo-random bytes, different for each seed. */
function bytes(seed: number, length = 4096): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const SOURCES = ['import { loadNativeTf } from "./lib/backend";\nconst tf = loadNativeTf();', 'const model = tf.sequential();\nmodel.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));'];

/** A classification notebook with these sources; outputs, counts, metadata and layout vary with `variant`. */
function notebook(sources: string[], variant = 0): string {
  const nb = notebookJson([{ source: '# Mon TP\nClassification de **Fashion-MNIST**', markdown: true }, ...sources.map((source, i) => ({ source: variant ? `  ${source.replace(/\n/g, '\n\n   ')}\n` : source, outputs: variant ? [stdout(`Précision: 0.9${variant}${i}\n`)] : [] }))]);
  const cells = nb.cells as Record<string, unknown>[];
  if (variant) {
    cells.forEach((cell, i) => {
      if (cell.cell_type === 'code') cell.execution_count = i + 10 * variant;
      cell.metadata = { collapsed: true, id: `v${variant}-${i}` };
    });
    cells.push({ cell_type: 'code', metadata: {}, source: '   \n', outputs: [], execution_count: null });
    nb.metadata = { kernelspec: { name: 'tslab', display_name: `TypeScript ${variant}` } };
  }
  // Lines as a list (as Jupyter writes them) or one string: the same notebook.
  return variant % 2 ? JSON.stringify(nb, null, 1) : JSON.stringify({ ...nb, cells: cells.map((c) => ({ ...c, source: String(c.source).split(/(?<=\n)/) })) });
}

/** A submission folder with a classification notebook and a model folder. */
function submission(classDir: string, id: string, options: { notebook?: string; weights?: Record<string, Buffer | string>; modelJson?: string }): string {
  const dir = join(classDir, id);
  mkdirSync(dir, { recursive: true });
  if (options.notebook !== undefined) writeFileSync(join(dir, 'classification.ipynb'), options.notebook);
  if (options.weights) {
    mkdirSync(join(dir, 'modele'));
    writeFileSync(join(dir, 'modele', 'model.json'), options.modelJson ?? `{"id": "${id}"}`);
    for (const [file, content] of Object.entries(options.weights)) writeFileSync(join(dir, 'modele', file), content);
  }
  return dir;
}

/** Every file under a folder with its modification time and content, to prove nothing was modified. */
function snapshot(dir: string, out: Record<string, string> = {}): Record<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) snapshot(path, out);
    else if (entry.isFile()) out[path] = `${statSync(path).mtimeMs} ${readFileSync(path).toString('base64')}`;
  }
  return out;
}

/** A grade as the pipeline makes it, for applyIntegrityFlags. */
function grade(id: string): SubmissionGrade {
  return { id, name: id, folder: id, flags: [], score: 12.5, maxScore: 20, passed: false, checks: [], executed: false, sandbox: 'none', durationMs: 1, notes: ['note existante'] };
}

test('identical weights and identical notebooks are flagged both ways; different, empty or missing ones are not', async () => {
  const classDir = join(folder.dir, 'classe');
  const subjects = [
    // alice and bob: the same weights (bob renamed the file), different notebooks.
    submission(classDir, 'alice', { notebook: notebook(SOURCES), weights: { 'modele.weights.bin': bytes(1) } }),
    submission(classDir, 'bob', { notebook: notebook([...SOURCES, 'await model.save("file://modele");']), weights: { 'poids.bin': bytes(1) } }),
    // carol: her own weights, alice's notebook with other outputs, counts, metadata and whitespace.
    submission(classDir, 'carol', { notebook: notebook(SOURCES, 3), weights: { 'modele.weights.bin': bytes(2) } }),
    // dave: alice's notebook again (variant 4), his own weights, in two shards.
    submission(classDir, 'dave', { notebook: notebook(SOURCES, 4), weights: { 'group1-shard1of2.bin': bytes(3), 'group1-shard2of2.bin': bytes(4) } }),
    // erin and frank: empty weights files, never a match; gina: no model at all; hugo: an empty notebook.
    submission(classDir, 'erin', { notebook: notebook(['console.log("erin");']), weights: { 'modele.weights.bin': '' } }),
    submission(classDir, 'frank', { notebook: notebook(['console.log("frank");']), weights: { 'modele.weights.bin': '' } }),
    submission(classDir, 'gina', { notebook: notebook(['console.log("gina");']) }),
    submission(classDir, 'hugo', { notebook: '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', weights: { 'modele.weights.bin': bytes(5) } }),
    submission(classDir, 'ines', { notebook: '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', weights: { 'modele.weights.bin': bytes(6) } }),
    // jules: the same model.json as alice, other weights (the .json does not count).
    submission(classDir, 'jules', { notebook: 'pas du JSON', weights: { 'modele.weights.bin': bytes(7) }, modelJson: '{"id": "alice"}' }),
  ].map((dir) => ({ id: dir.split('/').pop()!, dir }));
  const before = snapshot(classDir);
  const { flags, notes } = await findIntegrityFlags(subjects, DEFAULT_SPEC);
  expect(snapshot(classDir)).toEqual(before);
  expect([...flags.keys()].sort()).toEqual(['alice', 'bob', 'carol', 'dave']);
  expect(flags.get('alice')).toEqual([
    { kind: 'identical-weights', with: ['bob'], message: 'Les poids du modèle (modele/) sont identiques, octet pour octet, à ceux de bob.' },
    { kind: 'identical-notebook', with: ['carol', 'dave'], message: expect.stringMatching(/^classification\.ipynb est identique à celui de carol et dave \(/) },
  ]);
  expect(flags.get('bob')).toEqual([{ kind: 'identical-weights', with: ['alice'], message: expect.stringContaining('à ceux de alice') }]);
  expect(flags.get('carol')).toEqual([{ kind: 'identical-notebook', with: ['alice', 'dave'], message: expect.stringContaining('celui de alice et dave') }]);
  expect(flags.get('dave')?.map((f) => [f.kind, f.with])).toEqual([['identical-notebook', ['alice', 'carol']]]);
  expect(notes.size).toBe(0);
});

test('weights over limits.modelMb are skipped with a note, never matched; symbolic links are not followed', async () => {
  const classDir = join(folder.dir, 'grandes');
  const big = bytes(9, 3000);
  const subjects = ['kim', 'lou'].map((id) => ({ id, dir: submission(classDir, id, { notebook: notebook([`// ${id}`]), weights: { 'modele.weights.bin': big } }) }));
  const link = submission(classDir, 'max', { notebook: notebook(['// max']), weights: {} });
  symlinkSync(join(subjects[0].dir, 'modele', 'modele.weights.bin'), join(link, 'modele', 'modele.weights.bin'));
  subjects.push({ id: 'max', dir: link });
  const spec: GradingSpec = { ...DEFAULT_SPEC, limits: { ...DEFAULT_SPEC.limits, modelMb: 0.002 } };
  const { flags, notes } = await findIntegrityFlags(subjects, spec);
  expect(flags.size).toBe(0);
  expect(notes.get('kim')).toEqual(['modele/modele.weights.bin dépasse 0,002 Mo : non comparé aux autres soumissions.']);
  expect(notes.get('max')).toEqual(['modele/modele.weights.bin n’est pas un fichier ordinaire : non comparé aux autres soumissions.']);
  // Within the limit, kim and lou match.
  const within = await findIntegrityFlags(subjects, DEFAULT_SPEC);
  expect([...within.flags.keys()]).toEqual(['kim', 'lou']);
});

test('fingerprints: outputs, counts, metadata and whitespace do not matter; sources do', async () => {
  expect(notebookFingerprint(notebook(SOURCES))).toBe(notebookFingerprint(notebook(SOURCES, 1)));
  expect(notebookFingerprint(notebook(SOURCES))).toBe(notebookFingerprint(notebook(SOURCES, 2)));
  expect(notebookFingerprint(notebook(SOURCES))).not.toBe(notebookFingerprint(notebook([SOURCES[0], SOURCES[1].replace('28, 28', '28, 29')])));
  expect(notebookFingerprint(notebook(SOURCES))).not.toBe(notebookFingerprint(notebook([SOURCES[1], SOURCES[0]])));
  expect(notebookFingerprint('{"cells": []}')).toBeUndefined();
  expect(notebookFingerprint('[1, 2]')).toBeUndefined();
  expect(notebookFingerprint('pas du JSON')).toBeUndefined();
  expect(await weightsFingerprint(join(folder.dir, 'absent'), 1e9)).toEqual({ notes: [] });
});

test('flagging changes no score and keeps the notes; the step reads the folders itself', async () => {
  const classDir = join(folder.dir, 'notes');
  const subjects = ['nina', 'omar', 'paul'].map((id, i) => ({ id, dir: submission(classDir, id, { notebook: notebook([`// ${id}`]), weights: { 'w.bin': bytes(i < 2 ? 11 : 12) } }) }));
  const grades = subjects.map((s) => grade(s.id));
  const flagged = await flagIntegrity(grades, subjects, DEFAULT_SPEC);
  expect(flagged.map((g) => [g.id, g.score, g.flags.map((f) => f.with)])).toEqual([['nina', 12.5, [['omar']]], ['omar', 12.5, [['nina']]], ['paul', 12.5, []]]);
  expect(grades.every((g) => g.flags.length === 0)).toBe(true);
  const withNotes = applyIntegrityFlags(grades, { flags: new Map(), notes: new Map([['paul', ['modele/w.bin dépasse 1 Mo : non comparé aux autres soumissions.']]]) });
  expect(withNotes[2].notes).toEqual(['note existante', 'modele/w.bin dépasse 1 Mo : non comparé aux autres soumissions.']);
});

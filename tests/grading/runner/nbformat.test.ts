import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotebookFormatError, parseNotebook, readNotebook, serializeNotebook, splitLines, validateNotebookJson, writeNotebook } from '../../../grading/runner/nbformat';
import { temporaryFolder } from '../../helpers/fixtures';
import { notebookJson } from './helpers';

describe('nbformat reading, validation and writing', () => {
  const { dir, cleanup } = temporaryFolder('nbval-ts-nbformat-');
  afterAll(cleanup);

  it('joins multi-line sources and outputs, upgrades to 4.5 and gives every cell a unique id', () => {
    const json = notebookJson(['a', 'b']) as any;
    json.cells[0].source = ['line 1\n', 'line 2'];
    json.cells[0].outputs = [{ output_type: 'stream', name: 'stdout', text: ['x\n', 'y\n'] }];
    json.cells[1].id = 'dup';
    json.cells.push({ ...json.cells[1] });
    const nb = parseNotebook(JSON.stringify(json), 'fixture.ipynb');
    expect(nb.nbformat_minor).toBe(5);
    expect(nb.cells[0].source).toBe('line 1\nline 2');
    expect((nb.cells[0] as any).outputs[0].text).toBe('x\ny\n');
    const ids = nb.cells.map((c) => c.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids[1]).toBe('dup');
    for (const id of ids) expect(id).toMatch(/^[a-zA-Z0-9-_]{1,64}$/);
  });

  it('says which file is wrong and why: missing, not JSON, not nbformat 4, bad cell', () => {
    expect(() => readNotebook(join(dir, 'nope.ipynb'))).toThrow(/nope\.ipynb: file not found/);
    const bad = join(dir, 'bad.ipynb');
    writeFileSync(bad, '{"cells": [');
    expect(() => readNotebook(bad)).toThrow(NotebookFormatError);
    expect(() => readNotebook(bad)).toThrow(/bad\.ipynb: not valid JSON/);
    expect(() => parseNotebook('{"nbformat": 3, "worksheets": []}', 'old.ipynb')).toThrow(/old\.ipynb: nbformat 3; only nbformat 4/);
    expect(() => parseNotebook('{"nbformat": 4, "cells": [{"cell_type": "widget"}]}', 'x.ipynb')).toThrow(/x\.ipynb: .*cell 0: unknown cell_type "widget"/);
    mkdirSync(join(dir, 'folder.ipynb'));
    expect(() => readNotebook(join(dir, 'folder.ipynb'))).toThrow(/is a folder/);
  });

  it('splits lines exactly like Python str.splitlines(keepends=True)', () => {
    expect(splitLines('a\nb\r\nc\rd\u2028e')).toEqual(['a\n', 'b\r\n', 'c\r', 'd\u2028', 'e']);
    expect(splitLines('')).toEqual([]);
    expect(splitLines('x\n')).toEqual(['x\n']);
  });

  it('writes what nbformat writes: sorted keys, one-space indent, text MIME types as lists of lines, JSON left alone', () => {
    const nb = parseNotebook(JSON.stringify(notebookJson(['print'])), 'f');
    nb.cells[0].id = 'c1';
    (nb.cells[0] as any).outputs = [
      { output_type: 'display_data', data: { 'text/html': '<b>\nx</b>', 'image/png': 'AAAA', 'application/json': { a: 1 } }, metadata: {} },
    ];
    const text = serializeNotebook(nb);
    expect(text.endsWith('}\n')).toBe(true);
    const json = JSON.parse(text);
    expect(Object.keys(json)).toEqual(['cells', 'metadata', 'nbformat', 'nbformat_minor']);
    expect(json.cells[0].outputs[0].data).toEqual({ 'application/json': { a: 1 }, 'image/png': 'AAAA', 'text/html': ['<b>\n', 'x</b>'] });
    expect(text).toContain('\n "cells": [\n  {\n   "cell_type": "code",');
    expect(validateNotebookJson(json)).toEqual([]);
  });

  it('finds what breaks the v4.5 schema', () => {
    const json = JSON.parse(serializeNotebook(parseNotebook(JSON.stringify(notebookJson(['x'])), 'f')));
    delete json.cells[0].id;
    json.cells[0].outputs = [{ output_type: 'display_data', data: {}, metadata: {}, transient: {} }];
    const problems = validateNotebookJson(json);
    expect(problems.join('\n')).toMatch(/id must match/);
    expect(problems.join('\n')).toMatch(/unexpected property "transient"/);
  });

  it('writes atomically, leaving no temporary file, and a failed write keeps the old file', () => {
    const path = join(dir, 'out.ipynb');
    const nb = parseNotebook(JSON.stringify(notebookJson(['1'])), 'f');
    writeNotebook(path, nb);
    writeNotebook(path, nb);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(readFileSync(path, 'utf8')).nbformat).toBe(4);
    expect(() => writeNotebook(join(dir, 'missing-folder', 'x.ipynb'), nb)).toThrow(/could not write .*missing-folder.*folder exists/);
  });
});

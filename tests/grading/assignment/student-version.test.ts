import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeAssignment, SolutionMarkerError, stripSolutions, studentNotebook } from '../../../grading/assignment/student-version';
import { describePendingSteps, pendingSteps, stepsInSource } from '../../../grading/assignment/steps';
import { parseNotebook, validateNotebookJson } from '../../../grading/runner/nbformat';
import { PROJECT_ROOT } from '../../../lib/paths';
import { runTsCli, type CliRun } from '../../helpers/cli';
import { temporaryFolder } from '../../helpers/fixtures';

const CLI = join(PROJECT_ROOT, 'grading', 'cli', 'assignment.ts');

/** The raw JSON of a solution notebook: a markdown cell, a code cell with a region and stored outputs, a plain code cell. */
function solutionJson(): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript' } },
    cells: [
      {
        cell_type: 'markdown',
        id: 'question',
        metadata: {},
        source: ['Pourquoi normaliser les pixels ?\n', '<!-- BEGIN SOLUTION -->\n', 'Pour que le gradient reste stable.\n', '<!-- END SOLUTION -->\n'],
      },
      {
        cell_type: 'code',
        id: 'answer',
        metadata: { tags: ['solution'], nbgrader: { grade_id: 'q1', solution: true }, execution: { 'iopub.execute_input': '2024-01-01T00:00:00Z' } },
        source: ['function normalize(x: number[]): number[] {\n', '  // BEGIN SOLUTION\n', '  return x.map((v) => v / 255);\n', '  // END SOLUTION\n', '}\n', 'normalize([255])'],
        outputs: [
          { output_type: 'stream', name: 'stdout', text: ['secret\n'] },
          { output_type: 'execute_result', execution_count: 3, data: { 'text/plain': ['[ 1 ]'] }, metadata: {} },
        ],
        execution_count: 3,
      },
      { cell_type: 'code', id: 'plain', metadata: {}, source: ['console.log(1)'], outputs: [], execution_count: 4 },
    ],
  };
}

function writeJson(path: string, json: unknown): void {
  writeFileSync(path, JSON.stringify(json, null, 1));
}

function cli(args: string[]): Promise<CliRun> {
  return runTsCli(CLI, args);
}

describe('stripSolutions', () => {
  it('replaces a region, markers included, with the stub at the BEGIN line indentation, and keeps the code around it', () => {
    const source = ['function f(x: number) {', '  const y = x + 1;', '    // BEGIN SOLUTION', '  return y * 2;', '  // END SOLUTION', '}', 'f(1)'].join('\n');
    const result = stripSolutions(source);
    expect(result.regions).toBe(1);
    expect(result.source).toBe(['function f(x: number) {', '  const y = x + 1;', '    // À COMPLÉTER', '    throw new Error("À compléter");', '}', 'f(1)'].join('\n'));
  });

  it('replaces two regions of one cell, including one that ends the cell without a newline', () => {
    const source = ['const a = 1;', '// BEGIN SOLUTION', 'const b = 2;', '// END SOLUTION', 'const c = 3;', '\t// BEGIN SOLUTION', '\tconst d = 4;', '\t// END SOLUTION'].join('\n');
    const result = stripSolutions(source);
    expect(result.regions).toBe(2);
    expect(result.source).toBe(['const a = 1;', '// À COMPLÉTER', 'throw new Error("À compléter");', 'const c = 3;', '\t// À COMPLÉTER', '\tthrow new Error("À compléter");'].join('\n'));
  });

  it('uses a custom stub, indenting each of its lines', () => {
    const result = stripSolutions('if (ok) {\n  // BEGIN SOLUTION\n  go();\n  // END SOLUTION\n}\n', { stub: '// TODO\nreturn;' });
    expect(result.source).toBe('if (ok) {\n  // TODO\n  return;\n}\n');
  });

  it('replaces a markdown region with *À compléter.*', () => {
    const result = stripSolutions('**Question.** Pourquoi ?\n\n<!-- BEGIN SOLUTION -->\nParce que.\n\nEt voilà.\n<!-- END SOLUTION -->\n\nSuite.');
    expect(result).toEqual({ source: '**Question.** Pourquoi ?\n\n*À compléter.*\n\nSuite.', regions: 1, found: [{ line: 3, kind: 'markdown' }] });
  });

  it('leaves a source without markers unchanged', () => {
    for (const source of ['', 'x', 'const s = "BEGIN";\n// SOLUTION\n', '/* STUB\nx\n*/\n']) expect(stripSolutions(source)).toEqual({ source, regions: 0, found: [] });
  });

  it("uses a region's own STUB section as written, drops the section's markers, and leaves the solution out", () => {
    const source = [
      'for (const f of fichiers) {',
      '  // BEGIN SOLUTION',
      '',
      '  /* STUB',
      '  // À COMPLÉTER : préparez la photo.',
      "  const photo: Photo = aCompleter('préparer la photo');",
      '  */',
      '  const photo = await prepare(f);',
      '  // END SOLUTION',
      '  show(photo);',
      '}',
    ].join('\n');
    const result = stripSolutions(source);
    expect(result.source).toBe(['for (const f of fichiers) {', '  // À COMPLÉTER : préparez la photo.', "  const photo: Photo = aCompleter('préparer la photo');", '  show(photo);', '}'].join('\n'));
    expect(result.found).toEqual([{ line: 2, kind: 'code', stub: "  // À COMPLÉTER : préparez la photo.\n  const photo: Photo = aCompleter('préparer la photo');" }]);
    // A region that ends the cell keeps the cell without a final newline.
    expect(stripSolutions('a\n// BEGIN SOLUTION\n/* STUB\naCompleter(\'b\');\n*/\nb();\n// END SOLUTION').source).toBe("a\naCompleter('b');");
  });

  it('keeps the regions `solved` names, numbered from firstRegion, without their markers and stubs', () => {
    const source = ['// BEGIN SOLUTION', '/* STUB', "aCompleter('un');", '*/', 'un();', '// END SOLUTION', '// BEGIN SOLUTION', 'deux();', '// END SOLUTION', 'fin();'].join('\n');
    expect(stripSolutions(source, { solved: (n) => n === 0 }).source).toBe(['un();', '// À COMPLÉTER', 'throw new Error("À compléter");', 'fin();'].join('\n'));
    expect(stripSolutions(source, { solved: (n) => n === 3, firstRegion: 2 }).source).toBe(["aCompleter('un');", 'deux();', 'fin();'].join('\n'));
    expect(stripSolutions(source, { solved: () => true }).source).toBe(['un();', 'deux();', 'fin();'].join('\n'));
  });

  it('refuses a STUB section that is not first in its region, is never closed, or sits in markdown', () => {
    expect(() => stripSolutions('// BEGIN SOLUTION\nx();\n/* STUB\ny\n*/\n// END SOLUTION')).toThrow('line 3: "/* STUB" must be the first line of its solution region (opened at line 1)');
    expect(() => stripSolutions('// BEGIN SOLUTION\n/* STUB\ny\n// END SOLUTION')).toThrow(/line 4: "\/\/ END SOLUTION" inside the "\/\* STUB" section/);
    expect(() => stripSolutions('<!-- BEGIN SOLUTION -->\n/* STUB\n*/\n<!-- END SOLUTION -->')).toThrow(/line 2: "\/\* STUB" belongs in code regions/);
  });

  it('names the file, the 1-based cell and the line of an unmatched or nested marker', () => {
    const where = { file: 'classification.ipynb', cellIndex: 4 };
    expect(() => stripSolutions('a\nb\n// BEGIN SOLUTION\nc', where)).toThrow('classification.ipynb, cell 5, line 3: "// BEGIN SOLUTION" has no matching "// END SOLUTION"');
    expect(() => stripSolutions('a\n  // END SOLUTION', where)).toThrow('classification.ipynb, cell 5, line 2: "// END SOLUTION" has no matching "// BEGIN SOLUTION"');
    expect(() => stripSolutions('// BEGIN SOLUTION\nx\n// BEGIN SOLUTION\n// END SOLUTION', where)).toThrow(/^classification\.ipynb, cell 5, line 3: "\/\/ BEGIN SOLUTION" inside the solution region opened at line 1/);
    expect(() => stripSolutions('<!-- BEGIN SOLUTION -->\n// END SOLUTION', where)).toThrow(/line 2: "\/\/ END SOLUTION" closes "<!-- BEGIN SOLUTION -->" opened at line 1/);
    expect(() => stripSolutions('<!-- END SOLUTION -->')).toThrow(SolutionMarkerError);
    expect(() => stripSolutions('<!-- END SOLUTION -->')).toThrow(/^line 1: "<!-- END SOLUTION -->" has no matching "<!-- BEGIN SOLUTION -->"$/);
  });
});

describe('studentNotebook', () => {
  it('strips code and markdown cells, clears outputs and execution counts, removes nbgrader and execution metadata, and leaves the original alone', () => {
    const solution = parseNotebook(JSON.stringify(solutionJson()), 'tp.ipynb');
    const before = structuredClone(solution);
    const { notebook, regions } = studentNotebook(solution, 'tp.ipynb');
    expect(regions).toBe(2);
    expect(solution).toEqual(before);
    const [question, answer, plain] = notebook.cells;
    expect(studentNotebook(solution, 'tp.ipynb', { solved: (n) => n === 1 }).notebook.cells[1].source).toBe('function normalize(x: number[]): number[] {\n  return x.map((v) => v / 255);\n}\nnormalize([255])');
    expect(question.source).toBe('Pourquoi normaliser les pixels ?\n*À compléter.*\n');
    expect(answer.source).toBe('function normalize(x: number[]): number[] {\n  // À COMPLÉTER\n  throw new Error("À compléter");\n}\nnormalize([255])');
    expect(answer).toMatchObject({ id: 'answer', outputs: [], execution_count: null, metadata: { tags: ['solution'] } });
    expect(answer.metadata).not.toHaveProperty('nbgrader');
    expect(answer.metadata).not.toHaveProperty('execution');
    expect(plain).toMatchObject({ source: 'console.log(1)', outputs: [], execution_count: null });
    expect(notebook.metadata).toEqual(solution.metadata);
  });

  it('reports a marker error with the notebook file and the cell number', () => {
    const json = solutionJson() as any;
    json.cells[2].source = ['const x = 1;\n', '// END SOLUTION\n'];
    expect(() => studentNotebook(parseNotebook(JSON.stringify(json)), 'classification.ipynb')).toThrow('classification.ipynb, cell 3, line 2: "// END SOLUTION" has no matching "// BEGIN SOLUTION"');
  });
});

describe('makeAssignment', () => {
  const { dir, cleanup } = temporaryFolder('assignment-');
  afterAll(cleanup);

  function sourceFolder(name: string): string {
    const source = join(dir, name);
    mkdirSync(source);
    writeJson(join(source, 'tp.ipynb'), solutionJson());
    writeJson(join(source, 'tp.executed.ipynb'), solutionJson());
    writeJson(join(source, 'tp.quick.ipynb'), solutionJson());
    writeJson(join(source, 'autre.ipynb'), { ...solutionJson(), cells: [] });
    writeFileSync(join(source, 'notes.txt'), 'pas un notebook');
    mkdirSync(join(source, '.ipynb_checkpoints'));
    writeJson(join(source, '.ipynb_checkpoints', 'tp-checkpoint.ipynb'), solutionJson());
    return source;
  }

  /** Every file under `folder`, by relative path, with its bytes. */
  function snapshot(folder: string): Record<string, Buffer> {
    const files = readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((name) => statSync(join(folder, name)).isFile());
    return Object.fromEntries(files.sort().map((name) => [name, readFileSync(join(folder, name))]));
  }

  it('writes the student version of each source notebook, skipping executed and quick copies, without touching the sources', () => {
    const source = sourceFolder('src');
    const before = snapshot(source);
    const out = join(dir, 'out', 'nested');
    const result = makeAssignment(source, out);
    expect(result.written).toEqual([join(out, 'autre.ipynb'), join(out, 'tp.ipynb')]);
    expect(result.regions).toBe(2);
    expect(result.notebooks.map((n) => [n.source, n.regions])).toEqual([
      [join(source, 'autre.ipynb'), 0],
      [join(source, 'tp.ipynb'), 2],
    ]);
    expect(readdirSync(out).sort()).toEqual(['autre.ipynb', 'tp.ipynb']);
    expect(snapshot(source)).toEqual(before);
    const written = JSON.parse(readFileSync(join(out, 'tp.ipynb'), 'utf8'));
    expect(validateNotebookJson(written)).toEqual([]);
    const text = JSON.stringify(written);
    expect(text).not.toContain('SOLUTION');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('v / 255');
    expect(written.cells.map((c: any) => c.id)).toEqual(['question', 'answer', 'plain']);
  });

  it('writes the extras after the notebooks, from text or a file, and refuses names outside the folder', () => {
    const source = sourceFolder('extras');
    const script = join(dir, 'verifier.ts');
    writeFileSync(script, 'console.log("ok");\n');
    const out = join(dir, 'extras-out');
    const result = makeAssignment(source, out, { files: ['tp.ipynb'], extras: [{ name: 'LISEZMOI.md', content: '# TP\n' }, { name: 'outils/verifier.ts', from: script }] });
    expect(result.extras).toEqual([join(out, 'LISEZMOI.md'), join(out, 'outils', 'verifier.ts')]);
    expect(readFileSync(join(out, 'LISEZMOI.md'), 'utf8')).toBe('# TP\n');
    expect(readFileSync(join(out, 'outils', 'verifier.ts'), 'utf8')).toBe('console.log("ok");\n');
    expect(makeAssignment(source, join(dir, 'none-out'), { files: ['tp.ipynb'] }).extras).toEqual([]);
    for (const name of ['../x.md', '/abs.md', 'a//b.md', '']) {
      expect(() => makeAssignment(source, join(dir, 'bad-out'), { extras: [{ name, content: 'x' }] })).toThrow(/relative path inside the output folder/);
    }
    expect(() => makeAssignment(source, join(dir, 'bad-out'), { extras: [{ name: 'tp.ipynb', content: '{}' }] })).toThrow(/cannot be a notebook of the assignment/);
    expect(() => makeAssignment(source, join(dir, 'bad-out'), { extras: [{ name: 'a.ts', from: join(dir, 'absent.ts') }] })).toThrow(/absent\.ts: file not found/);
    // Nothing is written when an extra is refused.
    expect(existsSync(join(dir, 'bad-out'))).toBe(false);
  });

  it('converts only the listed files, and refuses paths', () => {
    const source = sourceFolder('listed');
    const out = join(dir, 'listed-out');
    expect(makeAssignment(source, out, { files: ['tp.ipynb'] }).written).toEqual([join(out, 'tp.ipynb')]);
    expect(() => makeAssignment(source, out, { files: ['../src/tp.ipynb'] })).toThrow(/not paths/);
    expect(() => makeAssignment(source, out, { files: ['absent.ipynb'] })).toThrow(/absent\.ipynb: file not found/);
  });

  it('refuses to write into the source folder, however it is spelled', () => {
    const source = sourceFolder('same');
    const before = snapshot(source);
    expect(() => makeAssignment(source, source)).toThrow(/output folder is the source folder/);
    expect(() => makeAssignment(source, `${source}/./`)).toThrow(/output folder is the source folder/);
    symlinkSync(source, join(dir, 'same-link'));
    expect(() => makeAssignment(source, join(dir, 'same-link'))).toThrow(/output folder is the source folder/);
    expect(snapshot(source)).toEqual(before);
  });

  it('writes nothing when one notebook has a marker error', () => {
    const source = sourceFolder('broken');
    const json = solutionJson() as any;
    json.cells[1].source = ['// BEGIN SOLUTION\n', 'x'];
    writeJson(join(source, 'b.ipynb'), json);
    const out = join(dir, 'broken-out');
    expect(() => makeAssignment(source, out)).toThrow('b.ipynb, cell 2, line 1: "// BEGIN SOLUTION" has no matching "// END SOLUTION"');
    expect(existsSync(out)).toBe(false);
  });
});

describe('assignment CLI', () => {
  const { dir, cleanup } = temporaryFolder('assignment-cli-');
  afterAll(cleanup);

  it('prints help, writes the student versions with a French summary, and exits 2 with a clear message on errors', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage : npm run assignment -- [--source DIR] [--out DIR]');

    const source = join(dir, 'src');
    mkdirSync(source);
    writeJson(join(source, 'tp.ipynb'), solutionJson());
    const out = join(dir, 'out');
    const run = await cli(['--source', source, '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`tp.ipynb : 2 zones de solution remplacées -> ${join(out, 'tp.ipynb')}`);
    expect(run.stdout).toContain('1 notebook écrit');

    const bad = await cli(['--sortie', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^assignment : argument invalide .*--sortie/);
    const same = await cli(['--source', source, '--out', source]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/output folder is the source folder/);
    writeFileSync(join(source, 'casse.ipynb'), '{');
    const unreadable = await cli(['--source', source, '--out', out]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain(`${join(source, 'casse.ipynb')}: not valid JSON`);
  });
});

describe('pending steps', () => {
  it("reads the steps of a source's aCompleter calls, once each, skipping comments", () => {
    const source = [
      "const a: A = aCompleter('préparer les données (imagesToTensor)');",
      "const b: B = aCompleter('préparer les données (imagesToTensor)');",
      'aCompleter("compiler le modèle (model.compile)");',
      'await aCompleter(`entraîner l\\`ensemble`);',
      "// aCompleter('en commentaire');",
      "/* STUB\naCompleter('dans un bloc');\n*/",
      "const url = 'http://x'; aCompleter('après une chaîne');",
      'aCompleter(nom);',
    ].join('\n');
    expect(stepsInSource(source)).toEqual(['préparer les données (imagesToTensor)', 'compiler le modèle (model.compile)', 'entraîner l`ensemble', 'après une chaîne']);
  });

  it('lists the pending steps of a notebook by cell, and says them in French', () => {
    const notebook = parseNotebook(JSON.stringify({ ...solutionJson(), cells: [
      { cell_type: 'markdown', metadata: {}, source: "aCompleter('pas du code')" },
      { cell_type: 'code', metadata: {}, source: "aCompleter('un')", outputs: [], execution_count: null },
      { cell_type: 'code', metadata: {}, source: "x();\naCompleter('deux');", outputs: [], execution_count: null },
    ] }));
    const pending = pendingSteps(notebook);
    expect(pending).toEqual([{ cell: 1, step: 'un' }, { cell: 2, step: 'deux' }]);
    expect(describePendingSteps(pending)).toBe('2 étapes restent à compléter : « un » (cellule 2), « deux » (cellule 3).');
    expect(describePendingSteps(pending.slice(0, 1))).toBe('1 étape reste à compléter : « un » (cellule 2).');
    expect(describePendingSteps(pending, 1)).toBe('2 étapes restent à compléter : « un » (cellule 2), et 1 autre.');
    expect(describePendingSteps([])).toBeUndefined();
  });
});

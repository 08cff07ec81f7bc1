import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeAssignment, SolutionMarkerError, stripSolutions, studentNotebook } from '../../../grading/assignment/student-version';
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
    expect(result).toEqual({ source: '**Question.** Pourquoi ?\n\n*À compléter.*\n\nSuite.', regions: 1 });
  });

  it('leaves a source without markers unchanged', () => {
    for (const source of ['', 'x', 'const s = "BEGIN";\n// SOLUTION\n']) expect(stripSolutions(source)).toEqual({ source, regions: 0 });
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

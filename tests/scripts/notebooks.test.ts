import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { notebookJson, parseNotebookSource } from '../../scripts/notebooks';
import { PROJECT_ROOT } from '../../lib/paths';

describe('notebook sources', () => {
  it('parses markdown and code cells with tags and stable ids', () => {
    const cells = parseNotebookSource('%% md\n# Titre\n\ntexte\n%% code tags=result-one-conv,x\nconst a = 1;\nconsole.log(a);\n', 'demo');
    expect(cells.map((c) => c.cell_type)).toEqual(['markdown', 'code']);
    expect(cells[0]).toMatchObject({ id: 'demo-01', source: ['# Titre\n', '\n', 'texte'] });
    expect(cells[1]).toMatchObject({ id: 'demo-02', metadata: { tags: ['result-one-conv', 'x'] }, outputs: [], execution_count: null });
    expect(cells[1].source).toEqual(['const a = 1;\n', 'console.log(a);']);
  });

  it('rejects text before the first marker, naming the file and line', () => {
    expect(() => parseNotebookSource('oops\n%% md\nx', 'demo')).toThrow(/demo\.nb, line 1/);
  });

  it('writes nbformat 4.5 with the tslab kernelspec', () => {
    const notebook = JSON.parse(notebookJson(parseNotebookSource('%% code\n1 + 1', 'demo')));
    expect(notebook.nbformat).toBe(4);
    expect(notebook.nbformat_minor).toBe(5);
    expect(notebook.metadata.kernelspec.name).toBe('tslab');
  });

  it('has committed notebooks identical to what their sources build', () => {
    const folder = join(PROJECT_ROOT, 'notebooks');
    const sources = readdirSync(join(folder, 'src')).filter((f) => f.endsWith('.nb'));
    expect(sources.length).toBeGreaterThan(0);
    for (const file of sources) {
      const name = basename(file, '.nb');
      const built = notebookJson(parseNotebookSource(readFileSync(join(folder, 'src', file), 'utf8'), name));
      expect(readFileSync(join(folder, `${name}.ipynb`), 'utf8')).toBe(built);
    }
  });
});

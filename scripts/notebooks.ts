/**
 * `npm run notebooks` builds notebooks/*.ipynb from their readable sources in notebooks/src/*.nb
 * (cells separated by `%% md` / `%% code` lines, optional `tags=a,b`); `-- --check` only verifies
 * that the committed notebooks match their sources.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../lib/io/atomic';
import { PROJECT_ROOT } from '../lib/paths';

/** A notebook cell as nbformat 4.5 stores it. */
export interface NotebookCell {
  id: string;
  cell_type: 'markdown' | 'code';
  metadata: { tags?: string[] };
  source: string[];
  execution_count?: null;
  outputs?: unknown[];
}

const NOTEBOOKS = join(PROJECT_ROOT, 'notebooks');
const MARKER = /^%% (md|code)(?:\s+tags=([\w,-]+))?\s*$/;

/** Splits text into nbformat source lines (each but the last keeps its newline). */
function sourceLines(text: string): string[] {
  const lines = text.split('\n');
  return lines.map((line, i) => (i < lines.length - 1 ? `${line}\n` : line)).filter((line) => line !== '');
}

/** Parses a .nb source into cells; `name` prefixes the stable cell ids. */
export function parseNotebookSource(text: string, name: string): NotebookCell[] {
  const cells: NotebookCell[] = [];
  let current: { type: 'md' | 'code'; tags?: string[]; lines: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    const body = current.lines.join('\n').replace(/^\n+|\n+$/g, '');
    const id = `${name}-${String(cells.length + 1).padStart(2, '0')}`;
    const metadata = current.tags ? { tags: current.tags } : {};
    cells.push(
      current.type === 'md'
        ? { id, cell_type: 'markdown', metadata, source: sourceLines(body) }
        : { id, cell_type: 'code', metadata, source: sourceLines(body), execution_count: null, outputs: [] },
    );
  };
  text.split('\n').forEach((line, index) => {
    const match = MARKER.exec(line);
    if (match) {
      flush();
      current = { type: match[1] as 'md' | 'code', tags: match[2]?.split(','), lines: [] };
    } else if (current) {
      current.lines.push(line);
    } else if (line.trim() !== '') {
      throw new Error(`${name}.nb, line ${index + 1}: text before the first "%% md" or "%% code" marker.`);
    }
  });
  flush();
  return cells;
}

/** The nbformat 4.5 notebook (tslab kernel) for a list of cells, as pretty JSON text. */
export function notebookJson(cells: NotebookCell[]): string {
  const notebook = {
    cells,
    metadata: {
      kernelspec: { name: 'tslab', display_name: 'TypeScript (analyse-image)', language: 'typescript' },
      language_info: { name: 'typescript', file_extension: '.ts', mimetype: 'text/typescript' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return `${JSON.stringify(notebook, null, 1)}\n`;
}

function main(): void {
  const check = process.argv.includes('--check');
  const sources = readdirSync(join(NOTEBOOKS, 'src')).filter((f) => f.endsWith('.nb'));
  let stale = 0;
  for (const file of sources) {
    const name = basename(file, '.nb');
    const json = notebookJson(parseNotebookSource(readFileSync(join(NOTEBOOKS, 'src', file), 'utf8'), name));
    const target = join(NOTEBOOKS, `${name}.ipynb`);
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // not built yet
    }
    if (current === json) continue;
    if (check) {
      console.error(`notebooks/${name}.ipynb is out of date with notebooks/src/${file}: run \`npm run notebooks\`.`);
      stale++;
    } else {
      writeFileAtomic(target, json);
      console.log(`notebooks/${name}.ipynb written (${JSON.parse(json).cells.length} cells).`);
    }
  }
  if (stale) process.exit(1);
}

if (require.main === module) main();

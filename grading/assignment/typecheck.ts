/**
 * Type-checks a notebook's code cells exactly as the project's tslab kernel would before running
 * them (tslab's own converter, from the project root), without running anything: each cell sees
 * the declarations of the cells before it, as if they had all succeeded. The student version must
 * pass, so that the first failure a student meets is a blank's French message, not a TypeScript error.
 *
 * tslab's converter takes its root from the working directory, so this must run with the project
 * root as working directory (the project kernel's own preload, scripts/kernel-root.cjs, does the same).
 * As a command: `npx tsx grading/assignment/typecheck.ts a.ipynb [b.ipynb...]` prints each error
 * (notebook, cell, line, message) and exits 1 if there is one.
 */
import { createConverter } from 'tslab/dist/converter';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { useLibTypesInProcess } from '../runner/lib-types';
import { readNotebook, type Notebook } from '../runner/nbformat';

/** A TypeScript error tslab would print for a cell. */
export interface CellDiagnostic {
  /** 0-based index of the code cell in the notebook. */
  cell: number;
  /** 1-based line in the cell. */
  line: number;
  message: string;
  /** Set when the error is in an imported file rather than in the cell. */
  file?: string;
}

/** The TypeScript errors of every code cell of `notebook`, in order; empty when all cells type-check. */
export function typecheckNotebook(notebook: Notebook): CellDiagnostic[] {
  return typecheckNotebooks([notebook])[0];
}

/** The same for several notebooks, each from a fresh kernel's state, with one compiler (building it is most of the time). */
export function typecheckNotebooks(notebooks: readonly Notebook[]): CellDiagnostic[][] {
  // As the kernel does: lib/ through its prebuilt declarations when they are up to date (tslab-lib-types.cjs).
  useLibTypesInProcess();
  const converter = createConverter();
  try {
    return notebooks.map((notebook) => {
      const found: CellDiagnostic[] = [];
      let declarations = '';
      notebook.cells.forEach((cell, index) => {
        if (cell.cell_type !== 'code' || !cell.source.trim()) return;
        const converted = converter.convert(declarations, cell.source);
        if (converted.diagnostics.length) {
          for (const d of converted.diagnostics) found.push({ cell: index, line: d.start.line + 1, message: d.messageText, ...(d.fileName ? { file: d.fileName } : {}) });
          // tslab keeps only the declarations of the cells that ran: go on as if this one had not been run.
          return;
        }
        declarations = converted.declOutput ?? '';
      });
      return found;
    });
  } finally {
    converter.close();
  }
}

function main(files: string[]): number {
  const paths = files.map((file) => resolve(file));
  process.chdir(PROJECT_ROOT);
  let errors = 0;
  const results = typecheckNotebooks(paths.map((path) => readNotebook(path)));
  for (const [i, path] of paths.entries()) {
    const found = results[i];
    errors += found.length;
    for (const d of found) process.stdout.write(`${path}: cell ${d.cell + 1}, line ${d.line}${d.file ? ` (in ${d.file})` : ''}: ${d.message}\n`);
    if (!found.length) process.stdout.write(`${path}: every code cell type-checks\n`);
  }
  return errors ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

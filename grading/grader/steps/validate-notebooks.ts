/** Step: both notebooks exist and are valid nbformat JSON (check `notebooks-valid`); which edition of the course they are. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readNotebook } from '../../runner';
import type { Notebook } from '../../runner';
import { EDITION_LABELS, recordCheck, type Edition, type GradingContext, type NotebookKey } from './context';

/** The edition a notebook belongs to, from the kernel its metadata names (language, else kernel or language_info name): Python, else TypeScript. */
export function notebookEdition(notebook: Notebook | undefined): Edition {
  const metadata = (notebook?.metadata ?? {}) as { kernelspec?: { name?: unknown; language?: unknown }; language_info?: { name?: unknown } };
  const said = [metadata.kernelspec?.language, metadata.kernelspec?.name, metadata.language_info?.name].find((v) => typeof v === 'string' && v !== '');
  return typeof said === 'string' && /^python/i.test(said) ? 'python' : 'typescript';
}

/** Reads the spec's notebooks from the scratch copy; records why one is missing or invalid. */
export function validateNotebooks(ctx: GradingContext): void {
  const problems: string[] = [];
  for (const key of ['classification', 'testModel'] as NotebookKey[]) {
    const file = ctx.spec.notebooks[key];
    const path = join(ctx.scratch.dir, file);
    const state: { file: string; submitted?: ReturnType<typeof readNotebook>; problem?: string } = { file };
    if (!existsSync(path)) state.problem = `${file} est absent de la soumission.`;
    else {
      try {
        state.submitted = readNotebook(path);
      } catch (error) {
        // readNotebook names the file and what is wrong; keep only the file's own name.
        state.problem = (error as Error).message.split(path).join(file);
      }
    }
    if (state.problem) problems.push(state.problem);
    ctx.notebooks[key] = state;
  }
  ctx.edition = notebookEdition(ctx.notebooks.classification?.submitted);
  ctx.notes.push(`Édition du cours : ${EDITION_LABELS[ctx.edition]} (d’après le noyau de ${ctx.spec.notebooks.classification}).`);
  recordCheck(ctx, 'notebooks-valid', problems.length ? 0 : 1, problems.length ? problems.join(' ') : 'Les deux notebooks sont présents et lisibles (JSON nbformat 4 valide).');
}

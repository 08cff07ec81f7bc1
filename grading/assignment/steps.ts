/**
 * The steps a notebook still leaves to the student: its `aCompleter('…')` calls (lib/exercise),
 * read from the source without running it. The grader names them in its report; a students'
 * pre-submission check can list them the same way.
 */
import type { Notebook } from '../runner/nbformat';

/** One blank still in a notebook. */
export interface PendingStep {
  /** 0-based index of its code cell. */
  cell: number;
  /** The step, as its aCompleter call names it. */
  step: string;
}

// aCompleter('…'), aCompleter("…") or aCompleter(`…`) without interpolation; a call commented out does not count.
const CALL = /\baCompleter\s*\(\s*(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\$]|\\.)*)`)/g;

function withoutComments(line: string): string {
  // Good enough for notebook code: a `//` outside quotes starts a comment (URLs live in strings).
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '/' && line[i + 1] === '/') return line.slice(0, i);
  }
  return line;
}

/** The steps of the code in `source` still written as aCompleter calls, in order, each once. */
export function stepsInSource(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').split('\n').map(withoutComments).join('\n');
  const steps: string[] = [];
  for (const match of code.matchAll(CALL)) {
    const step = (match[1] ?? match[2] ?? match[3]).replace(/\\(.)/g, '$1');
    if (!steps.includes(step)) steps.push(step);
  }
  return steps;
}

/** Every blank of a notebook's code cells, in order; a step written in two calls of one cell counts once. */
export function pendingSteps(notebook: Notebook): PendingStep[] {
  const pending: PendingStep[] = [];
  notebook.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') return;
    for (const step of stepsInSource(cell.source)) pending.push({ cell: index, step });
  });
  return pending;
}

/** The pending steps in one French sentence for a report ("3 étapes à compléter : « a » (cellule 4), …"), or undefined when there are none. */
export function describePendingSteps(pending: readonly PendingStep[], limit = 20): string | undefined {
  if (!pending.length) return undefined;
  const shown = pending.slice(0, limit).map((p) => `« ${p.step} » (cellule ${p.cell + 1})`);
  const more = pending.length > limit ? `, et ${pending.length - limit} autre${pending.length - limit > 1 ? 's' : ''}` : '';
  return `${pending.length === 1 ? '1 étape reste' : `${pending.length} étapes restent`} à compléter : ${shown.join(', ')}${more}.`;
}

/**
 * The blanks of the student version of the lab (`npm run assignment`): each step left to the
 * student calls `aCompleter('the step')`, which throws a French error naming that step. Its return
 * type is whatever the declaration asks for (`const modele: LayersModel = aCompleter('…')`), so the
 * code after a blank still type-checks and the first failure a student meets is this message.
 * Not typed `never`: TypeScript would then take a blank written as a statement for the end of the
 * cell, and report the code after it (in tslab, a loop over an imported function) as uncallable.
 */
import { inspect } from 'node:util';

/** How the message of a blank begins; `stepOfMessage` reads the step back from it. */
export const STEP_MESSAGE_PREFIX = 'Étape à compléter';

// What follows the step in the message: stepOfMessage anchors on it, so a step may hold « » itself.
const STEP_MESSAGE_REST = ' : remplacez l’appel aCompleter(…) par votre code (les commentaires « À COMPLÉTER » juste au-dessus disent quoi écrire et où regarder).';

/** Thrown by a blank of the student version; `step` is what the student has to write there. */
export class StepToComplete extends Error {
  override name = 'StepToComplete';

  constructor(readonly step: string) {
    super(`${STEP_MESSAGE_PREFIX} « ${step} »${STEP_MESSAGE_REST}`);
  }

  /** In a notebook, tslab prints the error with console.error: the message alone, without a stack that only points at this file. */
  [inspect.custom](): string {
    return this.message;
  }
}

/** A blank of the student version: throws StepToComplete naming `step` (e.g. 'compiler le modèle (model.compile)'); typed as the value it stands for. */
export function aCompleter<T = void>(step: string): T {
  throw new StepToComplete(step);
}

/** The step a StepToComplete message names, or undefined for any other text (the grader uses it to name the step). */
export function stepOfMessage(text: string): string | undefined {
  const start = text.indexOf(`${STEP_MESSAGE_PREFIX} « `);
  if (start < 0) return undefined;
  const from = start + STEP_MESSAGE_PREFIX.length + 3;
  // The runner keeps the message's first line; it may stop short of the rest, then the step ends at the last ».
  const end = text.indexOf(` »${STEP_MESSAGE_REST.slice(0, 12)}`, from);
  const close = end >= 0 ? end : text.lastIndexOf(' »');
  return close > from ? text.slice(from, close) : undefined;
}

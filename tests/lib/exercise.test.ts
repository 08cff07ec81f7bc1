import { inspect } from 'node:util';
import { aCompleter, STEP_MESSAGE_PREFIX, stepOfMessage, StepToComplete } from '../../lib/exercise';

describe('aCompleter', () => {
  it('throws a French StepToComplete naming the step, shown without its stack', () => {
    let thrown: unknown;
    try {
      aCompleter('compiler le modèle (model.compile)');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StepToComplete);
    const error = thrown as StepToComplete;
    expect(error.step).toBe('compiler le modèle (model.compile)');
    expect(error.message).toBe('Étape à compléter « compiler le modèle (model.compile) » : remplacez l’appel aCompleter(…) par votre code (les commentaires « À COMPLÉTER » juste au-dessus disent quoi écrire et où regarder).');
    // What tslab's console.error(error) prints in the notebook: the message alone, on one line.
    expect(inspect(error)).toBe(error.message);
    expect(error.message).not.toContain('\n');
  });

  it('types the blank as the value it stands for', () => {
    // Compile-time: both lines type-check (tsc runs over the tests); at run time both throw.
    expect(() => {
      const count: number = aCompleter('compter');
      return count.toFixed(1);
    }).toThrow(StepToComplete);
    expect(() => aCompleter('une instruction')).toThrow(/^Étape à compléter « une instruction »/);
  });
});

describe('stepOfMessage', () => {
  it('reads the step back from the message, even one holding « », and from the first line only', () => {
    for (const step of ['sauvegarder le modèle (saveModel)', 'afficher « Selon moi l’image est : … »']) {
      expect(stepOfMessage(new StepToComplete(step).message)).toBe(step);
      expect(stepOfMessage(`Error: ${new StepToComplete(step).message}`)).toBe(step);
    }
    expect(stepOfMessage(`${STEP_MESSAGE_PREFIX} « charger le modèle »`)).toBe('charger le modèle');
  });

  it('is undefined for any other message', () => {
    for (const text of ['', 'TypeError: x is undefined', 'Étape à compléter', `${STEP_MESSAGE_PREFIX} « »`]) expect(stepOfMessage(text)).toBeUndefined();
  });
});

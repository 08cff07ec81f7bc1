/** The verifier's parts without running anything: which folder, model and spec it takes, how the two runs' checks combine, the French text. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SubmissionGrade } from '../../../grading/grader/pipeline';
import { CHECK_IDS, DEFAULT_SPEC, type CheckId } from '../../../grading/grader/spec';
import { resultLines } from '../../../grading/verifier/report';
import { combineChecks, QUICK_RUN_CHECKS, resolveTarget, VerifierInputError, type Verification } from '../../../grading/verifier/verify';
import { PROJECT_ROOT } from '../../../lib/paths';
import { temporaryFolder } from '../../helpers/fixtures';

const folder = temporaryFolder('verifier-unit-');
const savedModelEnv = process.env.ANALYSE_IMAGE_MODELE;
beforeEach(() => delete process.env.ANALYSE_IMAGE_MODELE);
afterAll(() => {
  if (savedModelEnv !== undefined) process.env.ANALYSE_IMAGE_MODELE = savedModelEnv;
  folder.cleanup();
});

function submission(name: string, files: string[]): string {
  const dir = join(folder.dir, name);
  for (const file of files) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    if (file.endsWith('/')) mkdirSync(join(dir, file), { recursive: true });
    else writeFileSync(join(dir, file), file.endsWith('.json') ? '{}' : '');
  }
  return dir;
}

/** A grade whose checks all pass but those in `failing` (given their points). */
function grade(failing: Partial<Record<CheckId, number>> = {}, notes: string[] = []): SubmissionGrade {
  const checks = CHECK_IDS.map((id) => {
    const max = DEFAULT_SPEC.points[id];
    const points = failing[id] ?? max;
    return { id, passed: !(id in failing), points, maxPoints: max, message: id in failing ? `${id} échoue` : `${id} réussit` };
  });
  return { id: 'v', name: 'v', folder: 'v', flags: [], score: 0, maxScore: 20, passed: false, checks, executed: false, sandbox: 'none', durationMs: 0, notes };
}

describe('resolveTarget', () => {
  it('takes the folder given, its own modele/ and bareme.json; a spec file given wins', () => {
    const dir = submission('rendu', ['classification.ipynb', 'test_model.ipynb', 'modele/', 'images/a.png']);
    writeFileSync(join(dir, 'bareme.json'), JSON.stringify({ accuracy: { pass: 0.5, bands: [] } }));
    const target = resolveTarget({ folder: 'rendu', cwd: folder.dir });
    expect(target).toMatchObject({ folder: dir, modelDir: join(dir, 'modele'), imagesDir: join(dir, 'images'), asIs: true, specOrigin: 'rendu/bareme.json (le barème joint au dossier)' });
    expect(target.spec.accuracy.pass).toBe(0.5);
    const other = join(folder.dir, 'autre.json');
    writeFileSync(other, JSON.stringify({ accuracy: { pass: 0.7, bands: [] } }));
    expect(resolveTarget({ folder: 'rendu', specFile: 'autre.json', cwd: folder.dir }).spec.accuracy.pass).toBe(0.7);
    expect(resolveTarget({ folder: 'rendu', modelDir: 'ailleurs', cwd: folder.dir })).toMatchObject({ modelDir: join(folder.dir, 'ailleurs'), asIs: false });
  });

  it('defaults to the folder the command was typed in; outside the project a folder without modele/ is graded as it is', () => {
    const dir = submission('sans-modele', ['classification.ipynb']);
    const target = resolveTarget({ cwd: dir });
    expect(target).toMatchObject({ folder: dir, modelDir: join(dir, 'modele'), imagesDir: undefined, asIs: true, specOrigin: 'celui du correcteur par défaut' });
    expect(target.spec).toBe(DEFAULT_SPEC);
  });

  it('in the project: the root gives notebooks/, and the model is the project’s (ANALYSE_IMAGE_MODELE if set), where its notebooks save it', () => {
    const target = resolveTarget({ cwd: PROJECT_ROOT });
    expect(target).toMatchObject({ folder: join(PROJECT_ROOT, 'notebooks'), modelDir: join(PROJECT_ROOT, 'modele'), asIs: false });
    process.env.ANALYSE_IMAGE_MODELE = join(folder.dir, 'mon-modele');
    expect(resolveTarget({ cwd: join(PROJECT_ROOT, 'notebooks') })).toMatchObject({ folder: join(PROJECT_ROOT, 'notebooks'), modelDir: join(folder.dir, 'mon-modele'), asIs: false });
  });

  it('refuses, in French, a missing folder, a file, and a folder without the notebooks', () => {
    expect(() => resolveTarget({ folder: 'absent', cwd: folder.dir })).toThrow(new VerifierInputError('absent n’existe pas.'));
    writeFileSync(join(folder.dir, 'fichier'), '');
    expect(() => resolveTarget({ folder: 'fichier', cwd: folder.dir })).toThrow(/fichier n’est pas un dossier/);
    const empty = mkdtempSync(join(folder.dir, 'vide-'));
    expect(() => resolveTarget({ cwd: empty })).toThrow(/ne contient ni classification\.ipynb ni test_model\.ipynb : lancez la vérification dans le dossier de vos notebooks/);
    rmSync(empty, { recursive: true });
  });
});

describe('combineChecks and the French result', () => {
  it('expected points: the lower of both runs for the checks a quick run speaks for, the stored run alone for accuracy', () => {
    // The quick model learns little (accuracy checks fail there) and its test_model fails: only the latter counts.
    const stored = grade({ 'reported-accuracy': 0 });
    const quick = grade({ 'test-accuracy': 0, 'reported-accuracy': 0, 'test-model-runs': 0, 'test-model-predictions': 0 });
    const combined = combineChecks(DEFAULT_SPEC, stored, quick);
    expect(combined.score).toBe(20 - 1 - 2 - 1);
    expect(combined.passed).toBe(false);
    expect(combined.checks.filter((c) => !c.passed).map((c) => c.id)).toEqual(['test-model-runs', 'reported-accuracy', 'test-model-predictions']);
    expect(combined.checks.filter((c) => c.quick).map((c) => c.id)).toEqual(QUICK_RUN_CHECKS);
    // Without the quick run, the stored grade alone.
    expect(combineChecks(DEFAULT_SPEC, stored)).toMatchObject({ score: 19, maxScore: 20, passed: false });
    expect(combineChecks(DEFAULT_SPEC, grade(), grade({ 'test-accuracy': 0 })).passed).toBe(true);
  });

  it('prints each check with the grader’s messages from the run that failed, the steps left once, the points expected', () => {
    const steps = '2 étapes restent à compléter : « a » (cellule 4), « b » (cellule 6).';
    const stored = grade({ 'classification-runs': 0 });
    const quick = grade({ 'classification-runs': 0, 'test-accuracy': 0 }, ['classification.ipynb : mémoire maximale 800 Mo.']);
    stored.checks[1].message = `classification.ipynb, cellule 2 : jamais exécutée. ${steps}`;
    quick.checks[1].message = `classification.ipynb, cellule 4 : étape à compléter « a ». ${steps}`;
    const target = resolveTarget({ cwd: submission('texte', ['classification.ipynb', 'test_model.ipynb', 'modele/']) });
    const verification: Verification = { target, stored, quick, ...combineChecks(DEFAULT_SPEC, stored, quick), pendingSteps: { classification: steps } };
    const text = resultLines(verification, target.folder).join('\n');
    expect(text).toContain('✘ classification.ipynb s’exécute sans erreur : 0 / 3\n    enregistré : classification.ipynb, cellule 2 : jamais exécutée.\n    rapide : classification.ipynb, cellule 4 : étape à compléter « a ».\n    2 étapes restent');
    expect(text.split(steps).length).toBe(2);
    expect(text).toContain('✔ Précision du modèle sur les 10 000 images de test : 8 / 8\n    enregistré : test-accuracy réussit\n');
    expect(text).toContain('  - classification.ipynb : mémoire maximale 800 Mo.');
    expect(text).toContain('Points attendus : 17 / 20 (pour chaque vérification, le moins bon des deux résultats');
    expect(text).toMatch(/✘ 1 vérification sur 8 échoue : corrigez ce qui est marqué ✘ avant de rendre votre travail\.$/);
    const alone = resultLines({ target, stored: grade(), ...combineChecks(DEFAULT_SPEC, grade()), pendingSteps: {} }, target.folder).join('\n');
    expect(alone).toContain('Attention : l’exécution rapide n’a pas été faite (--no-execute)');
    expect(alone).toMatch(/✔ Les 8 vérifications réussissent : vous pouvez rendre classification\.ipynb, test_model\.ipynb et modele\/\.$/);
  });
});

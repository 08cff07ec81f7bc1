import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accuracyFraction, DEFAULT_SPEC, loadSpec, maxScore, specFrom, SpecError } from '../../../grading/grader/spec';
import { temporaryFolder } from '../../helpers/fixtures';

test('the default spec: 20 points, full accuracy points from 0.90, partial bands below', () => {
  expect(maxScore(DEFAULT_SPEC)).toBe(20);
  expect(accuracyFraction(DEFAULT_SPEC, 0.915)).toBe(1);
  expect(accuracyFraction(DEFAULT_SPEC, 0.9)).toBe(1);
  expect(accuracyFraction(DEFAULT_SPEC, 0.89)).toBe(0.75);
  expect(accuracyFraction(DEFAULT_SPEC, 0.86)).toBe(0.5);
  expect(accuracyFraction(DEFAULT_SPEC, 0.81)).toBe(0.25);
  expect(accuracyFraction(DEFAULT_SPEC, 0.1)).toBe(0);
});

test('a spec file overrides only what it names', () => {
  const spec = specFrom({ points: { 'test-accuracy': 12 }, accuracy: { pass: 0.92 } });
  expect(spec.points['test-accuracy']).toBe(12);
  expect(spec.points['model-files']).toBe(2);
  expect(spec.accuracy.pass).toBe(0.92);
  expect(spec.accuracy.bands).toEqual(DEFAULT_SPEC.accuracy.bands);
  expect(maxScore(spec)).toBe(24);
});

test('bad spec files get errors naming the file and the field', () => {
  const { dir, cleanup } = temporaryFolder();
  try {
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    expect(() => loadSpec(join(dir, 'absent.json'))).toThrow(/absent\.json: fichier de barème illisible \(ENOENT\)/);
    expect(() => loadSpec(file('broken.json', '{"points": '))).toThrow(/broken\.json: JSON invalide/);
    expect(() => loadSpec(file('typo.json', '{"point": {}}'))).toThrow(/typo\.json: clé inconnue "point"/);
    expect(() => loadSpec(file('type.json', '{"accuracy": {"pass": "0.9"}}'))).toThrow(/type\.json: "accuracy\.pass" doit être de type number/);
    expect(() => loadSpec(file('range.json', '{"accuracy": {"pass": 1.5}}'))).toThrow(/range\.json: "accuracy\.pass" doit être entre 0 et 1/);
    expect(() => loadSpec(file('band.json', '{"accuracy": {"bands": [{"min": 0.95, "fraction": 0.5}]}}'))).toThrow(/"accuracy\.bands\[0\]\.min" doit être sous accuracy\.pass/);
    expect(() => loadSpec(file('neg.json', '{"points": {"model-files": -1}}'))).toThrow(/"points\.model-files" doit être un nombre positif/);
    expect(() => loadSpec(file('nb.json', '{"notebooks": {"classification": "../x.ipynb"}}'))).toThrow(/"notebooks\.classification" doit être un nom de fichier/);
    expect(() => specFrom([], 'x.json')).toThrow(SpecError);
  } finally {
    cleanup();
  }
});

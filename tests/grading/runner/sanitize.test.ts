import { compareLine, compareOutputs, compareText } from '../../../grading/runner/regression';
import { applyTerminalControls, parseSanitizeConfig, pythonRegex, pythonReplacement, sanitizeLines } from '../../../grading/runner/sanitize';

describe('sanitizing and comparing outputs', () => {
  it('compares numbers within rtol/atol and everything else exactly', () => {
    expect(compareLine('loss 0.30000', 'loss 0.300001', 1e-5, 0)).toBeUndefined();
    expect(compareLine('loss 0.3', 'loss 0.31', 1e-5, 1e-8)).toMatch(/0\.3 became 0\.31/);
    expect(compareLine('loss 0.3', 'perte 0.3', 1, 1)).toMatch(/expected "loss 0\.3"/);
    expect(compareLine('1e-3 NaN', '0.001 NaN', 1e-9, 0)).toBeUndefined();
  });

  it('ignores timing, progress-bar, ETA and stack-frame lines by default', () => {
    const text = 'Epoch 3/10 - 12s - loss: 0.3\nstep 4 took 153.2 ms\n 45%|████▌     | 45/100\neta=0.0 ======>\n    at Object.<anonymous> (/home/x.js:1:1)\nresult 42\n';
    expect(sanitizeLines(text)).toEqual(['result 42']);
    expect(sanitizeLines(text, { ignoreLines: [] })).toHaveLength(6);
    expect(compareText('stdout', 'took 12 ms\nok\n', 'took 999 ms\nok\n')).toEqual([]);
  });

  it('applies carriage returns and backspaces like a terminal', () => {
    expect(applyTerminalControls('10%\r50%\r100%\nab\bc')).toBe('100%\nac');
  });

  it('reads nbval INI and JSON sanitize files, converting Python regex syntax', () => {
    const ini = parseSanitizeConfig('[date]\nregex: \\d{4}-\\d{2}-\\d{2}\nreplace: DATE\n\n# comment\n[hex]\nregex: (?P<p>0x)[0-9a-f]+\nreplace: \\g<p>ADDR\n', 'san.cfg');
    expect(ini.map((r) => r.name)).toEqual(['date', 'hex']);
    expect(sanitizeLines('run 2024-01-31 at 0xdeadbeef', { rules: ini })).toEqual(['run DATE at 0xADDR']);
    const json = parseSanitizeConfig('{"seed=\\\\d+": "seed=N"}');
    expect(sanitizeLines('seed=1234', { rules: json })).toEqual(['seed=N']);
    expect(parseSanitizeConfig('[{"regex": "a", "replace": "$b"}]')[0].replace).toBe('$$b');
    expect(() => parseSanitizeConfig('[x]\nreplace: y\n', 'f.cfg')).toThrow(/f\.cfg: section \[x\] has no "regex:"/);
    expect(pythonRegex('(?i)abc').flags).toContain('i');
    expect('ab'.replace(pythonRegex('(a)(b)'), pythonReplacement('\\2\\1'))).toBe('ba');
  });

  it('compares images by MIME type only, other rich outputs by content', () => {
    const display = (data: Record<string, unknown>) => ({ output_type: 'display_data' as const, data, metadata: {} });
    expect(compareOutputs([display({ 'image/png': 'AAA' })], [display({ 'image/png': 'BBB' })])).toEqual([]);
    expect(compareOutputs([display({ 'image/png': 'AAA' })], [display({ 'text/plain': 'x' })])[0]).toMatch(/MIME types differ/);
    expect(compareOutputs([display({ 'text/html': '<b>1.0</b>' })], [display({ 'text/html': '<b>2.0</b>' })])[0]).toMatch(/text\/html line 1/);
    expect(compareOutputs([], [display({ 'text/plain': 'x' })])[0]).toMatch(/unexpected display_data/);
  });
});

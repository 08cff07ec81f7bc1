/** Output caps of the collector, fed with synthetic IOPub messages (the real-kernel cases are in output-limits-kernel.test.ts). */
import { DisplayRegistry, OutputBudget, OutputCollector, resolveOutputLimits, socketLimitsFor, summarizeError, type OutputLimits } from '../../../grading/runner';
import type { JupyterMessage } from '../../../grading/runner/wire';

function iopub(msgType: string, content: Record<string, unknown>, extra: Partial<JupyterMessage> = {}): JupyterMessage {
  return { identities: [], header: { msg_id: 'm', msg_type: msgType, session: 's', username: 'u', date: '', version: '5.3' }, parent_header: {}, metadata: {}, content, buffers: [], ...extra };
}
const out = (text: string, name = 'stdout') => iopub('stream', { name, text });
const display = (text: string, id?: string, type = 'display_data') => iopub(type, { data: { 'text/plain': text }, metadata: {}, ...(id ? { transient: { display_id: id } } : {}) });
const collector = (limits: OutputLimits, budget = new OutputBudget(limits), registry = new DisplayRegistry()) => new OutputCollector(registry, [], budget);
const texts = (c: OutputCollector) => c.outputs.map((o) => (o.output_type === 'stream' ? `${o.name}:${o.text}` : o.output_type === 'error' ? `error:${o.ename}` : `${o.output_type}:${String((o.data as Record<string, unknown>)['text/plain'])}`));

describe('output caps, as IOPub messages arrive', () => {
  it('keeps the first N lines of a cell, cut at a newline, then one French note counting what was dropped', () => {
    const c = collector({ cellLines: 5 });
    for (const text of ['l1\n', 'l2\nl3\n', 'l4\nl5\nl6\nl7\n', 'l8\n', 'encore\n']) c.handle(out(text));
    expect(texts(c)).toEqual([
      'stdout:l1\nl2\nl3\nl4\nl5\n',
      'stderr:[sortie tronquée par le correcteur : plus de 5 lignes dans cette cellule ; la suite (16 octets en 3 messages) n’est pas conservée]\n',
    ]);
    expect(c.truncation).toEqual({ reason: 'cell-lines', lines: 5, bytes: 15, droppedBytes: 16, droppedMessages: 3, refusedMessages: 0, lowerBound: false });
  });

  it('a text ending exactly at the last allowed line is kept whole; the next character starts the cut', () => {
    const c = collector({ cellLines: 2 });
    c.handle(out('a\nb\n'));
    expect(c.truncation).toBeUndefined();
    c.handle(out('c'));
    expect(c.truncation).toMatchObject({ reason: 'cell-lines', lines: 2, droppedBytes: 1 });
  });

  it('keeps at most the byte cap, never splitting a UTF-8 character, and stderr gets its own note', () => {
    const c = collector({ cellBytes: 7 });
    c.handle(out('éèàù', 'stderr'));
    expect(texts(c)).toEqual(['stderr:éèà', expect.stringMatching(/^stderr:\[sortie tronquée par le correcteur : plus de 7 octets de sortie dans cette cellule ; la suite \(2 octets en 1 message\)/)]);
    expect(c.truncation).toMatchObject({ reason: 'cell-bytes', bytes: 6, droppedBytes: 2 });
    expect(c.outputs).toHaveLength(2);
  });

  it('counts the notebook total across cells: the cell that crosses it is cut, later cells keep nothing but the note', () => {
    const budget = new OutputBudget({ cellBytes: 100, notebookBytes: 15 });
    const registry = new DisplayRegistry();
    const first = new OutputCollector(registry, [], budget);
    first.handle(out('12345678'));
    const second = new OutputCollector(registry, [], budget);
    second.handle(out('abcdefghij'));
    expect(texts(second)[0]).toBe('stdout:abcdefg');
    expect(second.truncation).toMatchObject({ reason: 'notebook-bytes', bytes: 7, droppedBytes: 3 });
    expect(budget).toMatchObject({ keptBytes: 15, full: true });
    const third = new OutputCollector(registry, [], budget);
    expect(third.wantsBody('stream', 100_000)).toBe(false);
    third.handle(out('x'));
    expect(texts(third)).toEqual(['stderr:[sortie tronquée par le correcteur : plus de 15 octets de sortie dans ce notebook ; la suite (1 octet en 1 message) n’est pas conservée]\n']);
    expect(first.truncation).toBeUndefined();
  });

  it('drops a display that does not fit whole, unread, counting its content frame', () => {
    const c = collector({ cellBytes: 1000 });
    expect(c.wantsBody('display_data', 999)).toBe(true);
    expect(c.wantsBody('display_data', 5000)).toBe(false);
    c.handle(iopub('display_data', {}, { contentBytes: 5000, bodySkipped: true }));
    expect(c.truncation).toMatchObject({ reason: 'cell-bytes', droppedBytes: 5000, droppedMessages: 1 });
    // Nothing more is parsed, except small streams (for the end of stderr) and one small error.
    expect(c.wantsBody('stream', 64 * 1024)).toBe(true);
    expect(c.wantsBody('stream', 65 * 1024)).toBe(false);
    expect(c.wantsBody('update_display_data', 10)).toBe(false);
    expect(c.wantsBody('error', 100)).toBe(true);
    expect(c.wantsBody('status', 1e9)).toBe(true);
  });

  it('counts text/plain lines of displays against the line cap', () => {
    const c = collector({ cellLines: 3 });
    c.handle(display('a\nb'));
    c.handle(out('c\n'));
    c.handle(display('d'));
    expect(texts(c)).toEqual(['display_data:a\nb', 'stdout:c\n', expect.stringMatching(/plus de 3 lignes/)]);
  });

  it('an update_display_data of a kept display cannot exceed the caps of the cell that keeps it; shrinking frees room', () => {
    const budget = new OutputBudget({ cellBytes: 100 });
    const registry = new DisplayRegistry();
    const first = new OutputCollector(registry, [], budget);
    first.handle(iopub('display_data', { data: { 'text/plain': 'v1' }, metadata: {}, transient: { display_id: 'd' } }, { contentBytes: 60 }));
    first.handle(out('x'.repeat(30)));
    const second = new OutputCollector(registry, [], budget);
    second.handle(iopub('update_display_data', { data: { 'text/plain': 'v2' }, metadata: {}, transient: { display_id: 'd' } }, { contentBytes: 80 }));
    expect(first.outputs[0]).toMatchObject({ data: { 'text/plain': 'v1' } });
    expect(second.truncation).toMatchObject({ reason: 'cell-bytes', droppedBytes: 80 });
    const third = new OutputCollector(registry, [], budget);
    third.handle(iopub('update_display_data', { data: { 'text/plain': 'v3' }, metadata: {}, transient: { display_id: 'd' } }, { contentBytes: 20 }));
    expect(first.outputs[0]).toMatchObject({ data: { 'text/plain': 'v3' } });
    expect(third.truncation).toBeUndefined();
    expect(first.keptBytes).toBe(50);
    expect(budget.keptBytes).toBe(50);
  });

  it('clear_output frees what it clears (a progress display never fills the cap), with or without wait', () => {
    const c = collector({ cellBytes: 10, cellLines: 2 });
    for (let i = 0; i < 50; i++) {
      c.handle(iopub('clear_output', { wait: i % 2 === 0 }));
      c.handle(out(`${i}%\n`));
    }
    expect(c.truncation).toBeUndefined();
    expect(texts(c)).toEqual(['stdout:49%\n']);
    expect(c.keptBytes).toBe(4);
  });

  it('a pending clear is applied by the output that starts the cut (as if kept); past the cut clear_output is ignored', () => {
    const c = collector({ cellBytes: 5 });
    c.handle(out('abc'));
    c.handle(iopub('clear_output', { wait: true }));
    c.handle(display('a display far too large for the cap'));
    expect(texts(c)).toEqual([expect.stringMatching(/^stderr:\[sortie tronquée/)]);
    c.handle(iopub('clear_output', { wait: false }));
    c.handle(out('more'));
    expect(c.outputs).toHaveLength(1);
    expect(c.truncation).toMatchObject({ droppedMessages: 2 });
  });

  it('never merges a later stream into the note; keeps one small error output after the cut', () => {
    const c = collector({ cellBytes: 4 });
    c.handle(out('abcdef', 'stderr'));
    c.handle(out('more', 'stderr'));
    c.handle(iopub('error', { ename: 'RangeError', evalue: 'trop', traceback: ['RangeError: trop'] }));
    c.handle(iopub('error', { ename: 'Second', evalue: '', traceback: [] }));
    expect(texts(c)).toEqual(['stderr:abcd', expect.stringMatching(/en 3 messages/), 'error:RangeError']);
  });

  it("finds tslab's error (printed on stderr) after the cut, not the note", () => {
    const c = collector({ cellLines: 2 });
    for (let i = 0; i < 10; i++) c.handle(out(`ligne ${i}\n`));
    c.handle(out('evalmachine.<anonymous>:3\n\nTypeError: x is not a function\n    at evalmachine\n', 'stderr'));
    expect(summarizeError({ status: 'error' }, c.errorOutputs())).toMatchObject({ ename: 'TypeError', evalue: 'x is not a function' });
    expect(c.errorOutputs().some((o) => o.output_type === 'stream' && o.text.includes('sortie tronquée'))).toBe(false);
  });

  it('a message refused by ZeroMQ ends the kept output; counts become lower bounds', () => {
    const c = collector({});
    c.handle(out('avant\n'));
    c.refused(16_000_000);
    c.handle(out('après\n'));
    expect(c.truncation).toMatchObject({ reason: 'cell-bytes', refusedMessages: 1, droppedMessages: 2, lowerBound: true });
    expect(texts(c)[1]).toBe(
      'stderr:[sortie tronquée par le correcteur : plus de 1 Mo de sortie dans cette cellule ; la suite (au moins 16,0 Mo en 2 messages, dont un message refusé car plus gros que 16 Mo) n’est pas conservée]\n',
    );
  });

  it('defaults, validation and the socket caps derived from the limits', () => {
    expect(resolveOutputLimits()).toEqual({ cellLines: 10_000, cellBytes: 1_000_000, notebookBytes: 20_000_000 });
    expect(() => resolveOutputLimits({ cellBytes: 0 })).toThrow(RangeError);
    expect(() => resolveOutputLimits({ cellLines: Number.NaN })).toThrow(/cellLines must be a positive number/);
    expect(socketLimitsFor()).toEqual({ maxMessageBytes: 16_000_000, receiveHighWaterMark: 16, receiveBufferBytes: 8_000_000 });
    expect(socketLimitsFor({ cellBytes: 50e6 })).toMatchObject({ maxMessageBytes: 100_000_000, receiveHighWaterMark: 4 });
    expect(socketLimitsFor({ cellBytes: Infinity }).maxMessageBytes).toBe(-1);
    const c = collector({ cellLines: Infinity, cellBytes: Infinity, notebookBytes: Infinity });
    c.handle(out('x\n'.repeat(20_000)));
    expect(c.truncation).toBeUndefined();
  });
});

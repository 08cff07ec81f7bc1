import { DisplayRegistry, OutputCollector, summarizeError } from '../../../grading/runner/outputs';
import type { JupyterMessage } from '../../../grading/runner/wire';

function iopub(msgType: string, content: Record<string, unknown>): JupyterMessage {
  return { identities: [], header: { msg_id: 'm', msg_type: msgType, session: 's', username: 'u', date: '', version: '5.3' }, parent_header: {}, metadata: {}, content, buffers: [] };
}

describe('IOPub messages to nbformat outputs', () => {
  it('merges consecutive chunks of the same stream, not across another stream or output', () => {
    const c = new OutputCollector(new DisplayRegistry());
    for (const [name, text] of [['stdout', 'a'], ['stdout', 'b\n'], ['stderr', 'e\n'], ['stdout', 'c\n']]) c.handle(iopub('stream', { name, text }));
    expect(c.outputs).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'ab\n' },
      { output_type: 'stream', name: 'stderr', text: 'e\n' },
      { output_type: 'stream', name: 'stdout', text: 'c\n' },
    ]);
  });

  it('clears at once, or before the next output with wait=true', () => {
    const c = new OutputCollector(new DisplayRegistry());
    c.handle(iopub('stream', { name: 'stdout', text: 'old\n' }));
    c.handle(iopub('clear_output', { wait: true }));
    expect(c.outputs).toHaveLength(1);
    c.handle(iopub('stream', { name: 'stdout', text: 'new\n' }));
    expect(c.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'new\n' }]);
    c.handle(iopub('clear_output', { wait: false }));
    expect(c.outputs).toEqual([]);
  });

  it('updates a display in place, even in an earlier cell, by display_id', () => {
    const registry = new DisplayRegistry();
    const first = new OutputCollector(registry);
    first.handle(iopub('display_data', { data: { 'text/plain': 'v1' }, metadata: {}, transient: { display_id: 'd' } }));
    const second = new OutputCollector(registry);
    second.handle(iopub('update_display_data', { data: { 'text/plain': 'v2' }, metadata: {}, transient: { display_id: 'd' } }));
    expect(second.outputs).toEqual([]);
    expect(first.outputs).toEqual([{ output_type: 'display_data', data: { 'text/plain': 'v2' }, metadata: {} }]);
    expect('transient' in first.outputs[0]).toBe(false);
  });

  it('summarizes tslab errors printed on stderr', () => {
    const stderr = (text: string) => [{ output_type: 'stream' as const, name: 'stderr' as const, text }];
    expect(summarizeError({ status: 'error' }, stderr('evalmachine.<anonymous>:2\nthrow x;\n\nRangeError: too big\n    at x\n'))).toMatchObject({ ename: 'RangeError', evalue: 'too big' });
    expect(summarizeError({ status: 'error' }, stderr("1:5 - Type 'string' is not assignable to type 'number'.\n"))).toMatchObject({ ename: 'TypeScriptError' });
    expect(summarizeError({ status: 'error', ename: 'E', evalue: 'v' }, [])).toMatchObject({ ename: 'E', evalue: 'v' });
  });
});

import { deserialize, newMessage, serialize, sign, WireError, DELIMITER, PROTOCOL_VERSION } from '../../../grading/runner/wire';

describe('Jupyter wire protocol', () => {
  const key = 'a3f1c0de-secret';

  it('round-trips a message with identities and buffers, signed with HMAC-SHA256 of the four JSON frames', () => {
    const msg = newMessage('execute_request', 'session-1', { code: '1 + 2', silent: false }, { msg_id: 'parent' });
    msg.identities = [Buffer.from('router-id')];
    msg.buffers = [Buffer.from([1, 2, 3])];
    const frames = serialize(msg, key);
    expect(frames[0].toString()).toBe('router-id');
    expect(frames[1].toString()).toBe(DELIMITER);
    expect(frames[2].toString()).toBe(sign(key, frames.slice(3, 7)));
    expect(frames[2].toString()).toMatch(/^[0-9a-f]{64}$/);
    const back = deserialize(frames, key);
    expect(back.header).toEqual(msg.header);
    expect(back.header.version).toBe(PROTOCOL_VERSION);
    expect(back.parent_header).toEqual({ msg_id: 'parent' });
    expect(back.content).toEqual({ code: '1 + 2', silent: false });
    expect(back.identities.map(String)).toEqual(['router-id']);
    expect(back.buffers).toEqual([Buffer.from([1, 2, 3])]);
  });

  it('rejects a message whose content was changed after signing, or signed with another key', () => {
    const frames = serialize(newMessage('status', 's', { execution_state: 'idle' }), key);
    const tampered = [...frames];
    tampered[5] = Buffer.from(JSON.stringify({ execution_state: 'busy' }));
    expect(() => deserialize(tampered, key)).toThrow(WireError);
    expect(() => deserialize(frames, 'another-key')).toThrow(/signature does not match/);
  });

  it('rejects frames without the delimiter or with too few parts', () => {
    expect(() => deserialize([Buffer.from('{}')], key)).toThrow(/delimiter/);
    expect(() => deserialize([Buffer.from(DELIMITER), Buffer.from('sig'), Buffer.from('{}')], key)).toThrow(/frames after the delimiter/);
  });

  it('parses metadata and content only when parseBody says so, after the signature held and from the frame length alone', () => {
    const frames = serialize(newMessage('stream', 's', { name: 'stdout', text: 'x'.repeat(1000) }, { msg_id: 'p' }), key);
    const seen: Array<[string, string | undefined, number]> = [];
    const skipped = deserialize(frames, key, { parseBody: (header, parent, bytes) => (seen.push([header.msg_type, parent.msg_id, bytes]), false) });
    expect(seen).toEqual([['stream', 'p', frames[5].length]]);
    expect(skipped).toMatchObject({ content: {}, metadata: {}, bodySkipped: true, contentBytes: frames[5].length, parent_header: { msg_id: 'p' } });
    expect(deserialize(frames, key, { parseBody: () => true }).content.text).toHaveLength(1000);
    const tampered = [...frames];
    tampered[5] = Buffer.from('{}');
    expect(() => deserialize(tampered, key, { parseBody: () => false })).toThrow(WireError);
  });

  it('leaves messages unsigned when the key is empty, as the protocol specifies', () => {
    const frames = serialize(newMessage('status', 's', {}), '');
    expect(frames[1].toString()).toBe('');
    expect(deserialize(frames, '').header.msg_type).toBe('status');
  });
});

import { describeKey } from '../../lib/cache/key-layout';

const DIGEST = 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sL2PFmBk';

describe('describeKey', () => {
  it.each([
    [`cachet:chat:Assistant.answer:${DIGEST}`, { kind: 'entry', namespace: 'chat', method: 'Assistant.answer' }],
    [`cachet:chat:a:b:${DIGEST}`, { kind: 'entry', namespace: 'chat', method: 'a:b' }],
    [`cachet:chat:Assistant.answer:${DIGEST}#lock`, { kind: 'lease', namespace: 'chat', method: 'Assistant.answer' }],
    [`cachet:chat:Assistant.answer:sem:${DIGEST}`, { kind: 'vectors', namespace: 'chat', method: 'Assistant.answer' }],
    ['cachet:tag:user:42', { kind: 'tag' }],
    ['cachet:stats', { kind: 'stats' }],
    ['cachet:chat:Assistant.answer:short', { kind: 'other' }],
    [`cachet:chat:${DIGEST}`, { kind: 'other' }],
    [`cachet::m:${DIGEST}`, { kind: 'other' }],
  ])('reads %s', (key, description) => {
    expect(describeKey('cachet', key)).toEqual(description);
  });

  it('knows nothing of keys outside `<prefix>:`', () => {
    expect(describeKey('cachet', `cachetx:chat:m:${DIGEST}`)).toBeUndefined();
    expect(describeKey('cachet', 'cachet!invalidations')).toBeUndefined();
    expect(describeKey('cachet', 'cachet-ledger')).toBeUndefined();
  });
});

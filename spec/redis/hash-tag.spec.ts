import { Cache } from '../../lib/cache/cache';
import { hashSlot } from '../../lib/redis/cluster';
import { canAnchor, companionKey, hasHashTag } from '../../lib/redis/hash-tag';
import { RedisCircuitState } from '../../lib/redis/redis-circuit-state';
import { RedisCostLedger } from '../../lib/redis/redis-cost-ledger';
import { RedisStore } from '../../lib/redis/redis-store';

// Checked against hashSlot, which spec/redis/cluster.spec.ts checks against a cluster's CLUSTER KEYSLOT.
describe('hash tags', () => {
  it.each([
    ['cachet:ledger', false],
    ['{cachet}:ledger', true],
    ['a{b}c', true],
    ['{}x', false], // an empty tag is no tag
    ['x{y', false],
    ['}{x}', true],
    ['a}b', false],
  ])('tells whether %j holds a hash tag (%j), as the slot function does', (key, tagged) => {
    expect(hasHashTag(key)).toBe(tagged);
    // Only a tag keeps a longer name in the key's slot.
    expect(hashSlot(`${key}:more`) === hashSlot(key)).toBe(tagged);
  });

  it.each(['cachet:ledger', 'cachet:circuit:openai', 'x{y', '{cachet}:ledger', 'a{b}c', '}{x}', 'ключ:🔑', 'p:{x'])(
    'names companions of %j in its slot',
    (anchor) => {
      expect(canAnchor(anchor)).toBe(true);
      for (const suffix of [':batch:0f3c', ':probe', ''])
        expect(hashSlot(companionKey(anchor, suffix))).toBe(hashSlot(anchor));
    },
  );

  it('keeps a plain anchor’s name and braces it for companions; a tagged anchor is kept as it is', () => {
    expect(companionKey('cachet:ledger', ':batch:1')).toBe('{cachet:ledger}:batch:1');
    expect(companionKey('{app}:ledger', ':batch:1')).toBe('{app}:ledger:batch:1');
  });

  it.each(['a}b', '{}x}', 'x}'])('cannot anchor %j: a `}` outside a tag', (anchor) => {
    expect(canAnchor(anchor)).toBe(false);
  });

  it('spreads different anchors over the slots (each ledger, circuit or cache prefix its own)', () => {
    const anchors = Array.from({ length: 100 }, (_, i) => `cachet:circuit:provider-${i}`);
    const slots = new Set(anchors.map((anchor) => hashSlot(companionKey(anchor, ':probe'))));
    expect(slots.size).toBeGreaterThan(95);
  });

  it('refuses, when constructed, key parts that could not anchor their companions', async () => {
    const url = 'redis://127.0.0.1:1';
    const message = /Expected `(key|prefix)` to be .*without `}`, or one that holds a hash tag.*got `"a}b"` \(string\)/;
    expect(() => new RedisCostLedger({ url, key: 'a}b' })).toThrow(message);
    expect(() => new RedisCircuitState({ url, prefix: 'a}b' })).toThrow(message);
    const store = new RedisStore({ url });
    try {
      expect(() => new Cache({ store, prefix: 'a}b', sharedStats: true })).toThrow(message);
      expect(() => new Cache({ store, prefix: 'a}b' })).not.toThrow();
    } finally {
      await store.close();
    }
  });

  it('accepts key parts that hold a hash tag', async () => {
    const url = 'redis://127.0.0.1:1';
    const made = [
      new RedisCostLedger({ url, key: '{cachet}:ledger' }),
      new RedisCircuitState({ url, prefix: '{cachet}:circuit' }),
    ];
    await Promise.all(made.map((m) => m.close().catch(() => {})));
  });
});

import { MemoryStore } from '../../lib/cache/memory-store';
import { describeCacheStore, manualClock } from '../ports/cache-store-contract';

describeCacheStore('MemoryStore', async () => {
  const clock = manualClock();
  const store = new MemoryStore({ clock });
  return { store, clock, cleanup: () => store.close() };
});

describe('MemoryStore', () => {
  const TTL = 60_000;

  it('hands back the very object that was stored, not a copy', () => {
    const store = new MemoryStore();
    const value = { nested: { list: [1, 2] }, at: new Date(0) };
    store.set('k', value, TTL);
    expect(store.get('k')?.value).toBe(value);
  });

  it('answers get, set and delete synchronously', () => {
    const store = new MemoryStore();
    expect(store.set('k', 1, TTL)).toBeUndefined();
    expect(store.get('k')).toMatchObject({ value: 1 });
    expect(store.delete('k')).toBe(true);
  });

  describe('eviction by maxEntries', () => {
    it('evicts the least recently set entry when it holds maxEntries entries', () => {
      const store = new MemoryStore({ maxEntries: 3 });
      for (const k of ['a', 'b', 'c', 'd']) store.set(k, k, TTL);
      expect(store.size).toBe(3);
      expect(store.get('a')).toBeUndefined();
      expect(['b', 'c', 'd'].map((k) => store.get(k)?.value)).toEqual(['b', 'c', 'd']);
    });

    it('evicts the least recently used entry: a get refreshes recency', () => {
      const store = new MemoryStore({ maxEntries: 3 });
      for (const k of ['a', 'b', 'c']) store.set(k, k, TTL);
      store.get('a');
      store.set('d', 'd', TTL);
      expect(store.get('b')).toBeUndefined();
      expect(['a', 'c', 'd'].map((k) => store.get(k)?.value)).toEqual(['a', 'c', 'd']);
    });

    it('counts setting an existing key again as a use', () => {
      const store = new MemoryStore({ maxEntries: 3 });
      for (const k of ['a', 'b', 'c']) store.set(k, k, TTL);
      store.set('a', 'a2', TTL);
      store.set('d', 'd', TTL);
      expect(store.size).toBe(3);
      expect(store.get('b')).toBeUndefined();
      expect(store.get('a')?.value).toBe('a2');
    });

    it('evicts in order of last use over many operations', () => {
      const store = new MemoryStore({ maxEntries: 2 });
      store.set('a', 1, TTL);
      store.set('b', 2, TTL);
      store.get('a'); // b is now least recently used
      store.set('c', 3, TTL); // evicts b
      store.get('a'); // c is now least recently used
      store.set('d', 4, TTL); // evicts c
      expect(store.get('b')).toBeUndefined();
      expect(store.get('c')).toBeUndefined();
      expect(store.get('a')?.value).toBe(1);
      expect(store.get('d')?.value).toBe(4);
    });
  });

  describe('eviction by maxBytes', () => {
    // Strings count 2 bytes a character, so each of these entries is a little over 100 bytes.
    const payload = (c: string): string => c.repeat(50);

    it('evicts least recently used entries until the estimated bytes fit maxBytes', () => {
      const store = new MemoryStore({ maxBytes: 250 });
      store.set('a', payload('a'), TTL);
      store.set('b', payload('b'), TTL);
      store.get('a');
      store.set('c', payload('c'), TTL);
      expect(store.bytes).toBeLessThanOrEqual(250);
      expect(store.get('b')).toBeUndefined();
      expect(store.get('a')?.value).toBe(payload('a'));
      expect(store.get('c')?.value).toBe(payload('c'));
    });

    it('does not store an entry larger than maxBytes, and keeps the entries it has', () => {
      const store = new MemoryStore({ maxBytes: 100 });
      store.set('small', 'x', TTL);
      store.set('big', 'y'.repeat(100), TTL);
      expect(store.get('big')).toBeUndefined();
      expect(store.get('small')?.value).toBe('x');
      expect(store.size).toBe(1);
    });

    it('drops the old value when a key is overwritten with one larger than maxBytes', () => {
      const store = new MemoryStore({ maxBytes: 100 });
      store.set('k', 'old', TTL);
      store.set('k', 'z'.repeat(100), TTL);
      expect(store.get('k')).toBeUndefined();
      expect(store.bytes).toBe(0);
    });

    it('returns its byte count to zero once every entry is overwritten, evicted or deleted', () => {
      const store = new MemoryStore({ maxEntries: 2 });
      store.set('a', { list: [1, 2, 3] }, TTL);
      store.set('a', 'a much longer string than before', TTL);
      store.set('b', new Map([[1, 'one']]), TTL);
      store.set('c', 3n, TTL); // evicts a
      expect(store.bytes).toBeGreaterThan(0);
      store.delete('b');
      store.delete('c');
      expect(store.size).toBe(0);
      expect(store.bytes).toBe(0);
    });
  });

  describe('expiry through the injected clock', () => {
    it('serves an entry until its TTL has passed, then returns undefined', () => {
      const clock = manualClock();
      const store = new MemoryStore({ clock });
      store.set('k', 'v', 1_000);
      clock.advance(999);
      expect(store.get('k')?.value).toBe('v');
      clock.advance(1);
      expect(store.get('k')).toBeUndefined();
    });

    it('removes an expired entry when it is read', () => {
      const clock = manualClock();
      const store = new MemoryStore({ clock });
      store.set('k', 'v', 1_000);
      clock.advance(1_000);
      expect(store.size).toBe(1);
      store.get('k');
      expect(store.size).toBe(0);
      expect(store.bytes).toBe(0);
    });

    it('delete() returns false for an entry that has already expired', () => {
      const clock = manualClock();
      const store = new MemoryStore({ clock });
      store.set('k', 'v', 1_000);
      clock.advance(5_000);
      expect(store.delete('k')).toBe(false);
      expect(store.size).toBe(0);
    });

    it('gives a key set again a fresh TTL', () => {
      const clock = manualClock();
      const store = new MemoryStore({ clock });
      store.set('k', 'first', 1_000);
      clock.advance(900);
      store.set('k', 'second', 1_000);
      clock.advance(900);
      expect(store.get('k')?.value).toBe('second');
    });
  });

  describe('clear()', () => {
    it('removes only the entries whose key starts with the prefix, and returns how many', () => {
      const store = new MemoryStore();
      for (const k of ['user:1', 'user:2', 'post:1', 'users']) store.set(k, k, TTL);
      expect(store.clear('user:')).toBe(2);
      expect(store.get('user:1')).toBeUndefined();
      expect(store.get('user:2')).toBeUndefined();
      expect(store.get('post:1')?.value).toBe('post:1');
      expect(store.get('users')?.value).toBe('users');
    });

    it('treats the prefix literally, not as a pattern', () => {
      const store = new MemoryStore();
      store.set('a*', 1, TTL);
      store.set('ab', 2, TTL);
      expect(store.clear('a*')).toBe(1);
      expect(store.get('ab')?.value).toBe(2);
    });

    it('removes everything without a prefix', () => {
      const store = new MemoryStore();
      for (const k of ['a', 'b', 'c']) store.set(k, k, TTL);
      expect(store.clear()).toBe(3);
      expect(store.size).toBe(0);
      expect(store.bytes).toBe(0);
    });
  });

  describe('options', () => {
    it.each([
      ['maxEntries', 0, '`0` (number)'],
      ['maxEntries', -1, '`-1` (number)'],
      ['maxEntries', 1.5, '`1.5` (number)'],
      ['maxEntries', NaN, '`NaN` (number)'],
      ['maxEntries', '10', '`"10"` (string)'],
      ['maxBytes', 0, '`0` (number)'],
      ['maxBytes', Infinity, '`Infinity` (number)'],
      ['maxBytes', null, '`null` (null)'],
    ])('rejects %s = %p with a TypeError in the standard format', (name, value, shown) => {
      expect(() => new MemoryStore({ [name]: value })).toThrow(
        new TypeError(`Expected \`${name}\` to be a positive integer, got ${shown}`),
      );
    });

    it('rejects an unknown option, naming it and the known ones', () => {
      expect(() => new MemoryStore({ maxEntry: 5 } as never)).toThrow(
        new TypeError(
          'Unknown MemoryStore option `maxEntry`; expected one of `maxEntries`, `maxBytes`, `checkValues`, `clock`',
        ),
      );
    });

    it('uses the default for an option given as undefined', () => {
      // Forwarding optional settings (`maxEntries: config.maxEntries`) is common, and the types allow it.
      const store = new MemoryStore({ maxEntries: undefined, maxBytes: undefined });
      store.set('k', 'v', TTL);
      expect(store.get('k')?.value).toBe('v');
    });
  });
});

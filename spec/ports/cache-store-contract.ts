import { randomUUID } from 'node:crypto';
import { isValueEncodeError, registerClass } from '../../lib/codec/value-codec';
import type { CacheEntry, CacheStore } from '../../lib/ports/cache-store';

/** A DTO with a method, as a NestJS service returns one. */
export class ContractUser {
  constructor(
    readonly id: string,
    readonly passwordHash: string,
  ) {}
  greeting(): string {
    return `hello ${this.id}`;
  }
}
registerClass(ContractUser, { name: 'contract.User' });

/** A value object whose state is private: it needs toData and fromData. */
export class ContractMoney {
  readonly #cents: bigint;
  constructor(cents: bigint) {
    this.#cents = cents;
  }
  get cents(): bigint {
    return this.#cents;
  }
}
registerClass(ContractMoney, {
  name: 'contract.Money',
  toData: (m) => m.cents,
  fromData: (cents) => new ContractMoney(cents as bigint),
});

/** A clock that only moves when a test moves it; pass it as a store's `clock` option. */
export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

/**
 * Starts far from the real time on purpose: a store that stamps entries with `Date.now()` instead of its
 * injected clock then shows up as a wrong `expiresAt` rather than passing by coincidence.
 */
export function manualClock(start = Date.UTC(2030, 0, 1)): ManualClock {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** What a contract suite needs from each store under test. */
export interface StoreFixture {
  readonly store: CacheStore;
  /** The clock the store was given; the contract reads it to check `expiresAt`. */
  readonly clock: ManualClock;
  /** Closes the store and anything else the factory opened. Called after every test. */
  cleanup(): Promise<void>;
}

/** Long enough that no entry expires in real time during a test, so the contract holds for Redis's PX too. */
const TTL = 60_000;

/**
 * The behaviour every {@link CacheStore} must share, run once per implementation. Expiry in real time is
 * store-specific (the memory store follows its clock, Redis its own PX), so it is tested beside each
 * store; the contract only checks the `expiresAt` a store reports.
 */
export function describeCacheStore(name: string, factory: () => Promise<StoreFixture>): void {
  describe(`${name} (CacheStore contract)`, () => {
    let fixture: StoreFixture;
    let store: CacheStore;
    let prefix: string;
    const written = new Set<string>();
    let closed = false;

    /** A key unique to this test; remembered so that it can be deleted afterwards. */
    const key = (label: string): string => {
      const full = `${prefix}:${label}`;
      written.add(full);
      return full;
    };

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
      prefix = `contract-${randomUUID().slice(0, 8)}`;
      written.clear();
      closed = false;
    });

    afterEach(async () => {
      if (!closed) await Promise.all([...written].map((k) => store.delete(k)));
      await fixture.cleanup();
    });

    it('returns undefined for a key that was never set', async () => {
      await expect(Promise.resolve(store.get(key('missing')))).resolves.toBeUndefined();
    });

    it('returns the stored value after a set', async () => {
      const k = key('greeting');
      await store.set(k, 'hello', TTL);
      const entry = await store.get(k);
      expect(entry?.value).toBe('hello');
    });

    it('reports expiresAt as the clock time of the set plus the TTL', async () => {
      const k = key('stamped');
      const setAt = fixture.clock.now();
      await store.set(k, 'v', TTL);
      fixture.clock.advance(1_000);
      const entry = await store.get(k);
      expect(entry?.value).toBe('v');
      expect(entry?.expiresAt).toBe(setAt + TTL);
    });

    it('still serves an entry shortly before its TTL has passed', async () => {
      const k = key('almost');
      await store.set(k, 'v', TTL);
      fixture.clock.advance(TTL - 1);
      expect((await store.get(k))?.value).toBe('v');
    });

    it('replaces the value and the expiry when a key is set again', async () => {
      const k = key('overwritten');
      await store.set(k, 'first', TTL);
      const first = (await store.get(k)) as CacheEntry;
      await store.set(k, 'second', TTL * 2);
      const second = (await store.get(k)) as CacheEntry;
      expect(second.value).toBe('second');
      expect(second.expiresAt).toBeGreaterThan(first.expiresAt);
    });

    it('delete() resolves true for a stored key, then false, and the key is gone', async () => {
      const k = key('doomed');
      await store.set(k, 'v', TTL);
      await expect(Promise.resolve(store.delete(k))).resolves.toBe(true);
      await expect(Promise.resolve(store.get(k))).resolves.toBeUndefined();
      await expect(Promise.resolve(store.delete(k))).resolves.toBe(false);
    });

    it('delete() resolves false for a key that was never set and leaves other keys alone', async () => {
      const kept = key('kept');
      await store.set(kept, 'v', TTL);
      await expect(Promise.resolve(store.delete(key('never')))).resolves.toBe(false);
      expect((await store.get(kept))?.value).toBe('v');
    });

    it('stores null, undefined and other falsy values as entries, not as misses', async () => {
      const values: [string, unknown][] = [
        ['null', null],
        ['undefined', undefined],
        ['false', false],
        ['zero', 0],
        ['empty', ''],
      ];
      for (const [name, value] of values) await store.set(key(name), value, TTL);
      for (const [name, value] of values) {
        const entry = await store.get(key(name));
        expect(entry).toBeDefined();
        expect(Object.is(entry?.value, value)).toBe(true);
      }
    });

    it('round-trips top-level NaN, -0, Infinity and a BigInt with their exact values', async () => {
      const values: [string, unknown][] = [
        ['nan', NaN],
        ['negzero', -0],
        ['inf', -Infinity],
        ['big', -(2n ** 80n)],
      ];
      for (const [name, value] of values) await store.set(key(name), value, TTL);
      for (const [name, value] of values) {
        expect(Object.is((await store.get(key(name)))?.value, value)).toBe(true);
      }
    });

    it('round-trips Date, Map, Set, BigInt, Buffer, undefined properties, NaN and -0 with their types', async () => {
      const k = key('rich');
      const value = {
        date: new Date(Date.UTC(2024, 1, 29, 12, 30, 45, 678)),
        map: new Map<unknown, unknown>([
          ['text', 1],
          [2, { big: 3n }],
        ]),
        set: new Set<unknown>([1, 'two', null]),
        big: 123_456_789_012_345_678_901_234_567_890n,
        buffer: Buffer.from([0, 1, 127, 128, 254, 255]),
        missing: undefined,
        nothing: null,
        nan: NaN,
        negZero: -0,
        text: 'ünïcødé ✓ "quoted" \\ back\nslash',
        // A plain object that looks like one of the codec's tagged nodes must come back as itself.
        lookalike: { '~': 'D', v: 0 },
        nested: { list: [1, undefined, { deep: [new Date(0), new Set([new Map([[1, 2]])])] }], empty: {}, none: [] },
      };
      await store.set(k, value, TTL);
      const got = (await store.get(k))?.value as typeof value;

      expect(got.date).toBeInstanceOf(Date);
      expect(got.date.getTime()).toBe(value.date.getTime());
      expect(got.map).toBeInstanceOf(Map);
      expect([...got.map.keys()]).toEqual(['text', 2]);
      expect(typeof (got.map.get(2) as { big: unknown }).big).toBe('bigint');
      expect(got.set).toBeInstanceOf(Set);
      expect([...got.set]).toEqual([1, 'two', null]);
      expect(typeof got.big).toBe('bigint');
      expect(got.big).toBe(value.big);
      expect(Buffer.isBuffer(got.buffer)).toBe(true);
      expect(got.buffer.equals(value.buffer)).toBe(true);
      expect('missing' in got).toBe(true);
      expect(got.missing).toBeUndefined();
      expect(got.nothing).toBeNull();
      expect(Number.isNaN(got.nan)).toBe(true);
      expect(Object.is(got.negZero, -0)).toBe(true);
      expect(got.text).toBe(value.text);
      expect(Object.getPrototypeOf(got.lookalike)).toBe(Object.prototype);
      expect(got.lookalike).toEqual({ '~': 'D', v: 0 });
      expect(got.nested.list).toHaveLength(3);
      expect(1 in got.nested.list).toBe(true);
      expect(got.nested.list[2]).toEqual({ deep: [new Date(0), new Set([new Map([[1, 2]])])] });
      // Jest's equality compares numbers with Object.is, so this also pins -0 and NaN everywhere.
      expect(got).toStrictEqual(value);
    });

    it('hands back instances of registered classes as instances of their class, nested ones included', async () => {
      const k = key('classes');
      const value = { user: new ContractUser('u1', 'secret-hash'), price: new ContractMoney(1999n) };
      await store.set(k, value, TTL);
      const got = (await store.get(k))?.value as typeof value;
      expect(got.user).toBeInstanceOf(ContractUser);
      expect(got.user.greeting()).toBe('hello u1');
      expect(got.user.passwordHash).toBe('secret-hash');
      expect(got.price).toBeInstanceOf(ContractMoney);
      expect(got.price.cents).toBe(1999n);
    });

    it('refuses an instance of an unregistered class with a ValueEncodeError, and stores nothing', async () => {
      class Unregistered {
        constructor(readonly id: string) {}
      }
      const k = key('unregistered');
      const error = await Promise.resolve()
        .then(() => store.set(k, { item: new Unregistered('x') }, TTL))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isValueEncodeError(error)).toBe(true);
      expect((error as Error).message).toContain('registerClass(Unregistered)');
      await expect(Promise.resolve(store.get(k))).resolves.toBeUndefined();
    });

    it('setIfCurrent stores and tags an entry unless one of its names was stamped after the mark', async () => {
      if (store.setIfCurrent === undefined || store.tags === undefined) return;
      const clockKey = `${prefix}!invalidations`;
      written.add(clockKey);
      const tag = key('tag:t');
      const mark = await store.tags.mark(clockKey);
      const fresh = key('current');
      expect(
        await store.setIfCurrent(fresh, 'v1', TTL, undefined, [tag], { clockKey, names: [fresh, tag], mark }),
      ).toBe(true);
      expect((await store.get(fresh))?.value).toBe('v1');
      await store.tags.stamp(clockKey, [tag]);
      const raced = key('raced');
      expect(
        await store.setIfCurrent(raced, 'old', TTL, undefined, [tag], { clockKey, names: [raced, tag], mark }),
      ).toBe(false);
      await expect(Promise.resolve(store.get(raced))).resolves.toBeUndefined();
      // The entry stored before the stamp carries the tag, so invalidating the tag removes it.
      expect(await store.tags.invalidate([tag])).toBe(1);
      await expect(Promise.resolve(store.get(fresh))).resolves.toBeUndefined();
      // A fill that began after the stamp stores again.
      const later = await store.tags.mark(clockKey);
      expect(later).toBeGreaterThan(mark);
      expect(
        await store.setIfCurrent(raced, 'new', TTL, undefined, [tag], { clockKey, names: [raced, tag], mark: later }),
      ).toBe(true);
      expect((await store.get(raced))?.value).toBe('new');
    });

    it('keeps keys with colons, glob characters, whitespace and unicode apart', async () => {
      const names = [
        ':',
        'a:b:c',
        '*',
        'user:*',
        '?',
        '[a-z]',
        '{tag}',
        'pipe|bar',
        'back\\slash',
        'space in key',
        'tab\tand\nnewline',
        'ключ',
        '鍵',
        '🔑',
        'e\u0301', // decomposed é: a different key from the composed one below
        '\u00e9',
      ];
      for (const [i, name] of names.entries()) await store.set(key(name), { i, name }, TTL);
      for (const [i, name] of names.entries()) {
        expect((await store.get(key(name)))?.value).toEqual({ i, name });
      }
      // A glob-like key names only itself.
      await expect(Promise.resolve(store.delete(key('user:*')))).resolves.toBe(true);
      expect((await store.get(key('a:b:c')))?.value).toEqual({ i: 1, name: 'a:b:c' });
      await expect(Promise.resolve(store.get(key('user:*')))).resolves.toBeUndefined();
    });

    it('answers 200 concurrent sets and then 200 concurrent gets, each with its own value', async () => {
      const keys = Array.from({ length: 200 }, (_, i) => key(`many-${i}`));
      await Promise.all(keys.map((k, i) => store.set(k, { i, label: `value ${i}` }, TTL)));
      const entries = await Promise.all(keys.map((k) => store.get(k)));
      expect(entries.map((e) => e?.value)).toEqual(keys.map((_, i) => ({ i, label: `value ${i}` })));
    });

    it('answers concurrent gets of present and missing keys in the order they were asked', async () => {
      const keys = Array.from({ length: 50 }, (_, i) => key(`mixed-${i}`));
      await Promise.all(keys.map((k, i) => (i % 3 === 0 ? store.set(k, i, TTL) : undefined)));
      const entries = await Promise.all(keys.map((k) => store.get(k)));
      expect(entries.map((e) => e?.value)).toEqual(keys.map((_, i) => (i % 3 === 0 ? i : undefined)));
    });

    it('a get issued after an awaited set returns the new value, even while an earlier get of the key is in flight', async () => {
      const k = key('read-your-write');
      await store.set(k, 'old', TTL);
      const earlier = Promise.resolve(store.get(k));
      // One tick: a batching store sends the earlier read now, so the write below follows it on the wire.
      await new Promise((resolve) => process.nextTick(resolve));
      await store.set(k, 'new', TTL);
      const later = await store.get(k);
      await earlier;
      expect(later?.value).toBe('new');
    });

    it('a get issued after an awaited delete returns undefined, even while an earlier get of the key is in flight', async () => {
      const k = key('read-your-delete');
      await store.set(k, 'old', TTL);
      const earlier = Promise.resolve(store.get(k));
      await new Promise((resolve) => process.nextTick(resolve));
      await store.delete(k);
      const later = await store.get(k);
      await earlier;
      expect(later).toBeUndefined();
    });

    it('peek() shows an entry with its expiry, freshness and encoded size, and nothing for a missing key', async () => {
      const k = key('peeked');
      const setAt = fixture.clock.now();
      await store.set(k, { answer: 42 }, TTL, 1_000);
      const entry = await store.peek!(k);
      expect(entry).toMatchObject({
        value: { answer: 42 },
        expiresAt: setAt + TTL,
        freshUntil: setAt + 1_000,
        size: Buffer.byteLength('1:{"answer":42}'),
      });
      expect(['memory', 'redis']).toContain(entry?.store);
      await expect(store.peek!(key('never-set'))).resolves.toBeUndefined();
    });

    it('scan() lists the live keys matching a glob, in pages of about `count`', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => key(`listed:${i}`));
      await Promise.all(keys.map((k) => store.set(k, 1, TTL)));
      await store.set(key('unlisted'), 1, TTL);
      const pages: (readonly string[])[] = [];
      for await (const page of store.scan!(`${prefix}:listed:*`, 10)) pages.push(page);
      expect(new Set(pages.flat())).toEqual(new Set(keys));
      expect(pages.length).toBeGreaterThan(1);
    });

    it('tags.tagsOf() answers the tags under a prefix that a key carries, among candidates or all', async () => {
      const k = key('tagged');
      const tagKeys = [`${prefix}:tag:b`, `${prefix}:tag:a`];
      await store.set(k, 'v', TTL);
      await store.tags!.tag(k, tagKeys, TTL);
      tagKeys.forEach((t) => written.add(t));
      await expect(Promise.resolve(store.tags!.tagsOf!(k, `${prefix}:tag:`))).resolves.toEqual([
        `${prefix}:tag:a`,
        `${prefix}:tag:b`,
      ]);
      await expect(
        Promise.resolve(store.tags!.tagsOf!(k, `${prefix}:tag:`, [`${prefix}:tag:b`, `${prefix}:tag:c`])),
      ).resolves.toEqual([`${prefix}:tag:b`]);
      await expect(Promise.resolve(store.tags!.tagsOf!(key('untagged'), `${prefix}:tag:`))).resolves.toEqual([]);
    });

    it('stops serving entries after close(), settles every call, and closes twice without error', async () => {
      // A short TTL: once the store is closed this test cannot delete the key, so it must expire on its own.
      const k = key('closing');
      await store.set(k, 'v', 1_000);
      await store.close();
      closed = true;
      const outcome = await Promise.resolve()
        .then(() => store.get(k))
        .then(
          (entry) => ({ entry }),
          (error: unknown) => ({ error }),
        );
      expect('entry' in outcome ? outcome.entry : undefined).toBeUndefined();
      await expect(store.close()).resolves.toBeUndefined();
    });
  });
}

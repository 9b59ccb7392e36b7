import pLimit from 'p-limit';
import {
  Cache,
  isStoreError,
  MemoryCostLedger,
  MemoryStore,
  PriceTable,
  StoreError,
  type CacheEntry,
  type CacheStore,
} from '../../lib';
import { deferred } from '../support/async';

/** A store whose operations fail on demand: the cache's policy, not Redis, is under test here. */
class BrokenStore implements CacheStore {
  readonly name = 'broken';
  readonly inner = new MemoryStore();
  failing = true;
  get(key: string): Promise<CacheEntry | undefined> {
    return this.failing ? Promise.reject(new Error('boom')) : Promise.resolve(this.inner.get(key));
  }
  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    if (this.failing) throw new Error('boom');
    this.inner.set(key, value, ttlMs);
  }
  async delete(key: string): Promise<boolean> {
    return this.inner.delete(key);
  }
  async close(): Promise<void> {}
}

describe('Cache', () => {
  it('wraps a plain function without decorators', async () => {
    const cache = new Cache();
    let calls = 0;
    const lookup = cache.wrap(
      async (id: number) => {
        calls++;
        return { id };
      },
      { name: 'lookup' },
    );
    expect(await lookup(1)).toEqual({ id: 1 });
    expect(await lookup(1)).toEqual({ id: 1 });
    expect(calls).toBe(1);
    expect(Object.keys(cache.stats().methods)).toEqual(['default:lookup']);
  });

  it('requires a name for anonymous functions', () => {
    expect(() => new Cache().wrap(async () => 1)).toThrow(/Expected `name` to be a non-empty name/);
  });

  it('emits hit, miss and fill events with the method and key', async () => {
    const cache = new Cache();
    const seen: string[] = [];
    cache.on('hit', (e) => seen.push(`hit ${e.method}`));
    cache.on('miss', (e) => seen.push(`miss ${e.method}`));
    cache.on('fill', (e) => seen.push(`fill ${e.method} stored=${e.stored} ${e.key.startsWith('cachet:default:f:')}`));
    const f = cache.wrap(async (x: number) => x, { name: 'f' });
    await f(1);
    await f(1);
    expect(seen).toEqual(['miss default:f', 'fill default:f stored=true true', 'hit default:f']);
  });

  it('reports hits, misses and hit rate per method and in total', async () => {
    const cache = new Cache();
    const a = cache.wrap(async (x: number) => x, { name: 'a' });
    const b = cache.wrap(async (x: number) => x, { name: 'b' });
    await a(1);
    await a(1);
    await a(1);
    await b(1);
    const stats = cache.stats();
    expect(stats.methods['default:a']).toMatchObject({
      hits: 2,
      misses: 1,
      fills: 1,
      hitRate: 2 / 3,
      storeHitRate: 2 / 3,
    });
    expect(stats.total).toMatchObject({ hits: 2, misses: 2, fills: 2, hitRate: 0.5, storeHitRate: 0.5 });
  });

  it("counts callers who shared another caller's fill in the hit rate, as the cost ledger counts them saved", async () => {
    const prices = new PriceTable({ 'model-a': { inputPer1K: 0.001, outputPer1K: 0.002 } });
    const ledger = new MemoryCostLedger({ prices });
    const cache = new Cache({ ledger });
    const gate = deferred<void>();
    const ask = cache.wrap(
      async (question: string) => {
        await gate.promise;
        return { answer: question, usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } };
      },
      { name: 'ask', usage: (result) => ({ model: 'model-a', usage: (result as { usage: object }).usage as never }) },
    );
    const calls = Array.from({ length: 40 }, () => ask('same question'));
    gate.resolve();
    await Promise.all(calls);
    const { total } = cache.stats();
    expect(total).toMatchObject({ hits: 0, misses: 40, coalesced: 39, fills: 1 });
    expect(total.hitRate).toBe(39 / 40);
    expect(total.storeHitRate).toBe(0);
    await ledger.flush();
    expect((await ledger.report()).total).toMatchObject({ fills: 1, hits: 39, callsAvoided: 39, hitRate: 39 / 40 });
  });

  it('returns its single-flight lock table to empty when idle, however many keys it saw', async () => {
    const cache = new Cache();
    const f = cache.wrap(async (x: number) => x * 2, { name: 'f' });
    // p-limit ships ESM only; this also proves Jest's transform of it works on a fresh clone.
    const limit = pLimit(64);
    const results = await Promise.all(Array.from({ length: 2_000 }, (_, i) => limit(() => f(i % 500))));
    expect(results[1_999]).toBe(998);
    expect(cache.fillsInProgress).toBe(0);
    await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) =>
        cache.wrap(async () => Promise.reject(new Error(`e${i}`)), { name: `g${i}` })(),
      ),
    );
    expect(cache.fillsInProgress).toBe(0);
  });

  it('holds one lock table entry per key while fills run', async () => {
    const cache = new Cache();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const f = cache.wrap(
      async (x: number) => {
        await gate;
        return x;
      },
      { name: 'f' },
    );
    const pending = [f(1), f(1), f(2), f(3), f(3)];
    expect(cache.fillsInProgress).toBe(3);
    release();
    await Promise.all(pending);
    expect(cache.fillsInProgress).toBe(0);
  });

  describe('when the store fails', () => {
    it('runs the method and returns its result, counting and emitting the errors (bypass)', async () => {
      const store = new BrokenStore();
      const cache = new Cache({ store });
      const errors: unknown[] = [];
      cache.on('error', (e) => errors.push(e.error));
      let calls = 0;
      const f = cache.wrap(async (x: number) => ++calls + x, { name: 'f' });
      await expect(f(10)).resolves.toBe(11);
      expect(cache.stats().total.storeErrors).toBe(2); // the read and the write
      expect(errors).toHaveLength(2);
      expect(errors.every(isStoreError)).toBe(true);
      expect((errors[0] as StoreError).operation).toBe('get');
      expect((errors[0] as StoreError).cause).toEqual(new Error('boom'));
    });

    it('still runs the method once for concurrent identical calls', async () => {
      const cache = new Cache({ store: new BrokenStore() });
      let calls = 0;
      const f = cache.wrap(
        async () => {
          calls++;
          await new Promise((r) => setImmediate(r));
          return 'v';
        },
        { name: 'f' },
      );
      await Promise.all(Array.from({ length: 50 }, () => f()));
      expect(calls).toBe(1);
    });

    it('rejects with the StoreError when the policy is throw', async () => {
      const cache = new Cache({ store: new BrokenStore(), onStoreError: 'throw' });
      const f = cache.wrap(async () => 1, { name: 'f' });
      await expect(f()).rejects.toMatchObject({ code: 'ERR_CACHET_STORE', operation: 'get' });
    });

    it('lets a method override the cache policy', async () => {
      const cache = new Cache({ store: new BrokenStore(), onStoreError: 'throw' });
      const f = cache.wrap(async () => 1, { name: 'f', onStoreError: 'bypass' });
      await expect(f()).resolves.toBe(1);
    });

    it('recovers by itself when the store works again', async () => {
      const store = new BrokenStore();
      const cache = new Cache({ store });
      let calls = 0;
      const f = cache.wrap(async () => ++calls, { name: 'f' });
      await f();
      store.failing = false;
      await f();
      await f();
      expect(calls).toBe(2);
      expect(cache.stats().total.hits).toBe(1);
    });
  });

  it('turns a throwing event listener into a process warning instead of failing the call', async () => {
    const cache = new Cache();
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      cache.on('miss', () => {
        throw new Error('listener bug');
      });
      await expect(cache.wrap(async () => 5, { name: 'f' })()).resolves.toBe(5);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('listener bug'), 'CachetListenerWarning');
    } finally {
      warn.mockRestore();
    }
  });

  it('warns when two different methods would share keys', async () => {
    const cache = new Cache();
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      cache.wrap(async () => 1, { name: 'same' });
      expect(warn).not.toHaveBeenCalled();
      cache.wrap(async () => 2, { name: 'same' });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('default:same'), 'CachetKeyCollisionWarning');
    } finally {
      warn.mockRestore();
    }
  });

  it.each([
    [{ prefix: '' }, /Expected `prefix` to be a non-empty string/],
    [
      { prefix: 'app:cache' },
      /^Expected `prefix` to be a non-empty string of at most 200 characters without whitespace or `:`, got `"app:cache"` \(string\)$/,
    ],
    [
      { namespace: 'a:b' },
      /^Expected `namespace` to be a non-empty string of at most 200 characters without whitespace or `:`/,
    ],
    [{ namespace: 'tag' }, /^Expected `namespace` to be a namespace other than `tag`/],
    [{ ttl: 'soon' }, /Expected `ttl` to be a duration/],
    [{ onStoreError: 'retry' }, /Expected `onStoreError` to be one of 'bypass', 'throw'/],
    [{ store: {} }, /Expected `store` to be a CacheStore/],
    [{ stroe: new MemoryStore() }, /Unknown Cache option `stroe`/],
  ])('rejects bad options %j with a TypeError', (options, message) => {
    expect(() => new Cache(options as never)).toThrow(TypeError);
    expect(() => new Cache(options as never)).toThrow(message);
  });
});

describe('Cache when the invalidation check fails', () => {
  it('gives the fill’s value to the callers who joined it, runs the method once, and keeps no entry', async () => {
    const memory = new MemoryStore();
    const index = memory.tags;
    const down = new StoreError('mark', undefined, 'store down');
    // The store answers everything but the check a fill makes after storing (its stamps' node is down).
    const store: CacheStore = {
      name: 'check-fails',
      get: (key) => memory.get(key),
      set: (key, value, ttlMs, freshMs) => memory.set(key, value, ttlMs, freshMs),
      delete: (key) => memory.delete(key),
      close: () => memory.close(),
      tags: {
        tag: (key, tagKeys, ttlMs) => index.tag(key, tagKeys, ttlMs),
        invalidate: (tagKeys) => index.invalidate(tagKeys),
        mark: (clockKey) => index.mark(clockKey),
        stamp: (clockKey, names) => index.stamp(clockKey, names),
        stampedSince: () => Promise.reject(down),
      },
    };
    const cache = new Cache({ store });
    const errors: unknown[] = [];
    cache.on('error', (event) => errors.push(event.error));
    const gate = deferred<void>();
    let runs = 0;
    const ask = cache.wrap(
      async (q: string) => {
        runs++;
        await gate.promise;
        return `answer ${q}`;
      },
      { name: 'ask' },
    );
    const calls = Array.from({ length: 5 }, () => ask('q'));
    gate.resolve();
    await expect(Promise.all(calls)).resolves.toEqual(Array(5).fill('answer q'));
    expect(runs).toBe(1);
    expect(errors).toContain(down);
    // The value may have raced an invalidation nobody could check: it is not kept.
    await expect(ask('q')).resolves.toBe('answer q');
    expect(runs).toBe(2);
  });
});

describe('Cache.wrap input checks', () => {
  it('rejects a non-function with the standard message', () => {
    expect(() => new Cache().wrap(undefined as never)).toThrow(
      /^Expected `fn` to be a function returning a promise or a stream, got `undefined`/,
    );
  });

  it('names the wrapper after the name option', () => {
    expect(new Cache().wrap(async () => 1, { name: 'loadUser' }).name).toBe('loadUser');
  });
});

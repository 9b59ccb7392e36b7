import { Cache, Cached, MemoryStore } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { deferred, eventually } from '../support/async';
import { cleanUpKeys, testRedisUrl, uniquePrefix } from '../support/redis';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.
// Time is an injected clock: nothing here sleeps.

function setUp(options: Record<string, unknown>, random = () => 0.5) {
  let now = 1_000_000;
  const clock = { now: () => now };
  const cache = new Cache({ store: new MemoryStore({ clock }), clock, random, ttl: '1s' });
  const keys: string[] = [];
  cache.on('miss', ({ key }) => keys.push(key));
  let version = 0;
  let failing = false;
  let gate: Promise<void> | undefined;
  class Tokens {
    calls = 0;
    @Cached({ cache, ...options })
    async token(user: string): Promise<string> {
      this.calls++;
      if (gate !== undefined) await gate;
      if (failing) throw new Error('provider down');
      return `${user}-v${++version}`;
    }
  }
  return {
    cache,
    tokens: new Tokens(),
    keys,
    advance: (ms: number) => (now += ms),
    now: () => now,
    fail: (on: boolean) => (failing = on),
    hold: (promise: Promise<void> | undefined) => (gate = promise),
  };
}

describe('freshness', () => {
  it('shortens TTLs by up to `jitter`, from the injected randomness', async () => {
    const t = setUp({ jitter: 0.2 }, () => 0.5);
    await t.tokens.token('u');
    const entry = await t.cache.store.get(t.keys[0]!);
    expect(entry?.expiresAt).toBe(t.now() + 900);
  });

  it('stores an entry again for the hot TTL once it has had `hits` hits', async () => {
    const t = setUp({ hot: { hits: 3, ttl: '1h' } });
    await t.tokens.token('u');
    await t.tokens.token('u');
    await t.tokens.token('u');
    expect((await t.cache.store.get(t.keys[0]!))?.expiresAt).toBe(t.now() + 1_000);
    await t.tokens.token('u');
    expect((await t.cache.store.get(t.keys[0]!))?.expiresAt).toBe(t.now() + 3_600_000);
    t.advance(5_000);
    expect(await t.tokens.token('u')).toBe('u-v1');
    expect(t.tokens.calls).toBe(1);
  });

  describe('staleWhileRevalidate', () => {
    it('serves the old value at once while one background refresh runs, then the new one', async () => {
      const t = setUp({ staleWhileRevalidate: '10s' });
      expect(await t.tokens.token('u')).toBe('u-v1');
      t.advance(1_500);
      const refresh = deferred<void>();
      t.hold(refresh.promise);
      const served = await Promise.all([t.tokens.token('u'), t.tokens.token('u'), t.tokens.token('u')]);
      expect(served).toEqual(['u-v1', 'u-v1', 'u-v1']);
      expect(t.tokens.calls).toBe(2);
      refresh.resolve();
      t.hold(undefined);
      await eventually(() => t.cache.fillsInProgress === 0);
      expect(await t.tokens.token('u')).toBe('u-v2');
      expect(t.cache.stats().total).toMatchObject({ stale: 3, refreshes: 1 });
    });

    it('never serves a value older than the window: past it, the caller waits for a fresh one', async () => {
      const t = setUp({ staleWhileRevalidate: '10s' });
      await t.tokens.token('u');
      t.advance(1_000 + 10_000);
      expect(await t.tokens.token('u')).toBe('u-v2');
      expect(t.cache.stats().total.stale).toBe(0);
    });
  });

  describe('staleIfError', () => {
    it('serves the old value when the method fails within the window, and reports the error', async () => {
      const t = setUp({ staleIfError: '1m' });
      const errors: string[] = [];
      t.cache.on('error', ({ operation, error }) => errors.push(`${operation}: ${(error as Error).message}`));
      await t.tokens.token('u');
      t.advance(30_000);
      t.fail(true);
      expect(await t.tokens.token('u')).toBe('u-v1');
      expect(errors).toEqual(['fill (served stale): provider down']);
      t.fail(false);
      expect(await t.tokens.token('u')).toBe('u-v2');
      expect(t.cache.stats().total.staleOnError).toBe(1);
    });

    it('lets the error through past the window', async () => {
      const t = setUp({ staleIfError: '1m' });
      await t.tokens.token('u');
      t.advance(1_000 + 60_000);
      t.fail(true);
      await expect(t.tokens.token('u')).rejects.toThrow('provider down');
    });
  });

  describe('refreshAhead', () => {
    it('refreshes in the background an entry read within the margin of its expiry, as tokens are', async () => {
      const t = setUp({ ttl: '1h', refreshAhead: '5m' });
      expect(await t.tokens.token('u')).toBe('u-v1');
      t.advance(50 * 60_000);
      expect(await t.tokens.token('u')).toBe('u-v1');
      expect(t.tokens.calls).toBe(1);
      t.advance(6 * 60_000); // 4 minutes left
      expect(await t.tokens.token('u')).toBe('u-v1');
      await eventually(() => t.cache.fillsInProgress === 0);
      expect(t.tokens.calls).toBe(2);
      expect(await t.tokens.token('u')).toBe('u-v2');
      t.advance(10 * 60_000); // the refreshed entry has 50 minutes left: no new refresh
      await t.tokens.token('u');
      expect(t.tokens.calls).toBe(2);
    });
  });

  it('rejects freshness options a stream cannot honour, and bad values', () => {
    expect(() => Cached({ stream: true, staleWhileRevalidate: '1m' } as never)).toThrow(
      /Expected `stream` to be false when hot, staleWhileRevalidate, staleIfError or refreshAhead is set/,
    );
    expect(() => Cached({ jitter: 1 })).toThrow(/Expected `jitter` to be a share from 0 to below 1/);
    expect(() => Cached({ hot: { hits: 0, ttl: '1h' } })).toThrow(/Expected `hot.hits` to be a positive integer/);
  });
});

describe('staleWhileRevalidate across instances on Redis', () => {
  const prefix = uniquePrefix('swr');
  afterAll(() => cleanUpKeys(prefix));

  it('runs one refresh for two instances serving the same stale entry', async () => {
    let now = 5_000_000;
    const clock = { now: () => now };
    const caches = [0, 1].map(
      () => new Cache({ store: new RedisStore({ url: testRedisUrl(), clock }), clock, prefix, ttl: '1s' }),
    );
    let calls = 0;
    const refresh = deferred<void>();
    let hold = false;
    const make = (cache: Cache) => {
      class Rates {
        @Cached({ cache, staleWhileRevalidate: '1m' })
        async rate(pair: string): Promise<string> {
          calls++;
          if (hold) await refresh.promise;
          return `${pair}@${calls}`;
        }
      }
      return new Rates();
    };
    const [a, b] = caches.map(make);
    try {
      expect(await a!.rate('EURUSD')).toBe('EURUSD@1');
      now += 2_000;
      hold = true;
      expect(await a!.rate('EURUSD')).toBe('EURUSD@1');
      expect(await b!.rate('EURUSD')).toBe('EURUSD@1');
      await eventually(() => calls === 2);
      refresh.resolve();
      await eventually(() => caches.every((c) => c.fillsInProgress === 0));
      expect(calls).toBe(2);
      expect(await b!.rate('EURUSD')).toBe('EURUSD@2');
    } finally {
      await Promise.all(caches.map((c) => c.close()));
    }
  });
});

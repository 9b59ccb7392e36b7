import { Cache, Cached, MemoryStore } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { startWorker } from '../support/child-processes';
import { cleanUpKeys, testRedisUrl, uniquePrefix } from '../support/redis';

describe('shared statistics', () => {
  const prefix = uniquePrefix('stats');
  afterAll(() => cleanUpKeys(prefix));

  it('adds up the counters of 3 processes exactly in one report', async () => {
    const env = { REDIS_URL: testRedisUrl(), PREFIX: prefix, CALLS: '60' };
    const workers = [1, 2, 3].map(() => startWorker('stats-worker', env));
    const observer = new Cache({ store: new RedisStore({ url: testRedisUrl() }), prefix, sharedStats: true });
    try {
      await Promise.all(workers.map((w) => w.ready));
      workers.forEach((w) => w.go());
      const results = (await Promise.all(workers.map((w) => w.result))) as {
        hits: number;
        misses: number;
        fills: number;
      }[];
      const sum = (name: 'hits' | 'misses' | 'fills') => results.reduce((total, r) => total + r[name], 0);
      const report = await observer.report();
      expect(report.scope).toBe('shared');
      expect(report.total).toMatchObject({ hits: sum('hits'), misses: sum('misses'), fills: sum('fills') });
      expect(report.total.hits + report.total.misses).toBe(180);
      expect(report.total.storeHitRate).toBeCloseTo(sum('hits') / 180, 10);
      expect(report.total.hitRate).toBeCloseTo((report.total.hits + report.total.coalesced) / 180, 10);
      expect(Object.keys(report.methods)).toEqual(['default:Faq.answer']);
      expect(report.redis?.usedMemoryBytes).toBeGreaterThan(0);
      expect(report.redis?.keys).toBeGreaterThan(0);
      expect(report.redis?.version).toMatch(/^\d+\.\d+/);
    } finally {
      workers.forEach((w) => w.kill());
      await observer.close();
    }
  }, 60_000);

  it('includes this instance’s own latest counts, sent before the report reads them', async () => {
    const cache = new Cache({
      store: new RedisStore({ url: testRedisUrl() }),
      prefix: `${prefix}-own`,
      sharedStats: { flushInterval: '1h' },
    });
    try {
      class Faq {
        @Cached({ cache })
        async answer(q: string): Promise<string> {
          return q;
        }
      }
      const faq = new Faq();
      await faq.answer('a');
      await faq.answer('a');
      expect((await cache.report()).total).toMatchObject({ hits: 1, misses: 1 });
      await faq.answer('a');
      expect((await cache.report()).total).toMatchObject({ hits: 2, misses: 1 });
    } finally {
      await cache.close();
      await cleanUpKeys(`${prefix}-own`);
    }
  });

  it('reports this instance only without sharedStats, and refuses sharedStats without Redis', async () => {
    const cache = new Cache();
    expect(await cache.report()).toMatchObject({ scope: 'instance', redis: undefined, total: { hits: 0 } });
    expect(() => new Cache({ store: new MemoryStore(), sharedStats: true })).toThrow(
      /Expected `sharedStats` to be false unless the store is shared by processes \(RedisStore, TieredStore\)/,
    );
  });
});

import { Cache, Circuit, PriceTable } from '../../lib';
import { RedisCircuitState, RedisCostLedger, RedisRateLimiter, RedisSemaphore, RedisStore } from '../../lib/redis';
import { toRateRule } from '../../lib/rate-limit/gcra';
import { startRedisServer, type TestRedisServer } from '../support/redis-server';
import { connectTestClient } from '../support/redis';

// A server of its own: this suite uses every class's default keys, which the shared server's other
// suites must never see cleared.
describe('the default keys of cachet’s Redis classes', () => {
  let server: TestRedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it('a whole-prefix cache.clear() removes the cache’s keys and nothing of the limiter, circuits, semaphore or ledger', async () => {
    const { url } = server;
    const cache = new Cache({ store: new RedisStore({ url }) });
    const limiter = new RedisRateLimiter({ url });
    const circuits = new RedisCircuitState({ url });
    const semaphore = new RedisSemaphore({ url, name: 'gpu', max: 2 });
    const ledger = new RedisCostLedger({
      url,
      prices: new PriceTable({ big: { inputPer1K: 0.001, outputPer1K: 0.002 } }),
      flushInterval: '1h',
    });
    const admin = await connectTestClient(url);
    const keys = async () => (await admin.sendCommand<string[]>(['KEYS', '*'])).sort();
    try {
      await cache.wrap(async (q: string) => q.length, { name: 'ask' })('hello');
      expect((await limiter.decide('openai', toRateRule(10, 60_000, 1), 1)).allowed).toBe(true);
      const openai = new Circuit({ name: 'openai', store: circuits, threshold: 5 });
      await expect(openai.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
      const permit = await semaphore.acquire();
      ledger.recordFill({
        namespace: 'chat',
        tenant: 'acme',
        model: 'big',
        usage: { promptTokens: 10, completionTokens: 5 },
      });
      await ledger.flush();

      const before = await keys();
      const entries = before.filter((key) => key.startsWith('cachet:default:ask:'));
      expect(entries).toHaveLength(1);

      expect(await cache.clear()).toBe(1);
      // The clear stamps its prefix (outside the cache's key space), so fills racing it drop their values.
      const after = (await keys()).filter((key) => !key.startsWith('cachet!invalidations'));
      expect(after).toEqual(before.filter((key) => !entries.includes(key)));
      expect(after).toEqual(
        expect.arrayContaining([
          'cachet-circuit:openai',
          'cachet-ledger',
          'cachet-rate:openai',
          'cachet-semaphore:gpu',
        ]),
      );
      await permit.release();
    } finally {
      admin.destroy();
      await Promise.all([cache.close(), limiter.close(), circuits.close(), semaphore.close(), ledger.close()]);
    }
  });
});

import { ChatClient, type ChatCompletion, type ChatRequest } from '../../lib/llm';
import { ConcurrentRouter } from '../../lib/router';
import { MemoryRateLimiter } from '../../lib';
import { LocalProvider } from '../../lib/testing';
import { startWorker } from '../support/child-processes';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

const request = (content: string): ChatRequest => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  temperature: 0,
});

describe('ConcurrentRouter across instances and quotas', () => {
  let provider: LocalProvider;
  let baseURL: string;
  beforeAll(async () => {
    provider = new LocalProvider({ latency: '40ms' });
    baseURL = await provider.start();
  });
  afterEach(() => provider.resetCounters());
  afterAll(() => provider.close());

  it('keeps the cap of an endpoint with a RedisSemaphore across 3 processes', async () => {
    const prefix = uniquePrefix('router');
    const env = { REDIS_URL: testRedisUrl(), PREFIX: prefix, BASE_URL: baseURL, MAX: '3', CALLS: '10' };
    const workers = [1, 2, 3].map(() => startWorker('router-worker', env));
    try {
      await Promise.all(workers.map((w) => w.ready));
      workers.forEach((w) => w.go());
      const results = (await Promise.all(workers.map((w) => w.result))) as { ok: number; failed: number }[];
      expect(results).toEqual([
        { ok: 10, failed: 0 },
        { ok: 10, failed: 0 },
        { ok: 10, failed: 0 },
      ]);
      expect(provider.requests).toBe(30);
      expect(provider.maxInFlight).toBeLessThanOrEqual(3);
      expect(provider.maxInFlight).toBeGreaterThan(1);
    } finally {
      workers.forEach((w) => w.kill());
      const redis = await connectTestClient();
      await deleteKeys(redis, prefix);
      await redis.close();
    }
  }, 60_000);

  it('skips an endpoint whose quota is spent, and reports when it admits again', async () => {
    let now = 10_000;
    const clock = { now: () => now };
    const client = new ChatClient({ baseURL, apiKey: 'k' });
    const spare = new LocalProvider();
    const spareClient = new ChatClient({ baseURL: await spare.start(), apiKey: 'k' });
    try {
      const router = new ConcurrentRouter<ChatRequest, ChatCompletion>({
        clock,
        endpoints: [
          {
            name: 'quota',
            client,
            maxConcurrent: 4,
            rateLimit: { limit: 2, interval: '1s', burst: 2, limiter: new MemoryRateLimiter({ clock }) },
          },
          { name: 'spare', client: spareClient, maxConcurrent: 4, priority: 1 },
        ],
      });
      const endpoints = [];
      for (let i = 0; i < 3; i++) endpoints.push((await router.route(request(`q${i}`))).endpoint);
      expect(endpoints).toEqual(['quota', 'quota', 'spare']);
      expect(provider.requests).toBe(2);
      now += 500;
      expect((await router.route(request('later'))).endpoint).toBe('quota');

      const only = new ConcurrentRouter<ChatRequest, ChatCompletion>({
        clock,
        endpoints: [
          {
            name: 'quota',
            client,
            maxConcurrent: 4,
            rateLimit: { limit: 1, interval: '1s', limiter: new MemoryRateLimiter({ clock }) },
          },
        ],
      });
      await only.route(request('first'));
      const error = await only.route(request('second')).catch((e: unknown) => e);
      expect(error).toMatchObject({
        reason: 'exhausted',
        skipped: [{ endpoint: 'quota', reason: 'rate-limited', until: now + 1_000 }],
      });
    } finally {
      await Promise.all([client.close(), spareClient.close()]);
      await spare.close();
    }
  });
});

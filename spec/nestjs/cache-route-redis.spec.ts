import { startHttpWorker, type HttpWorker } from '../support/child-processes';
import { cleanUpKeys, testRedisUrl, uniquePrefix } from '../support/redis';

// Two instances of a real NestJS 11 application (spec/support/children/nest-http-worker.ts), each a child
// process serving HTTP on 127.0.0.1, whose GET /answers/:q responses CachetInterceptor caches in the test
// Redis, shared by both.

describe('CachetInterceptor in two NestJS application processes sharing Redis', () => {
  const prefix = uniquePrefix('nest-http');
  let a: HttpWorker;
  let b: HttpWorker;

  const start = () => startHttpWorker('nest-http-worker', { CACHE_REDIS_URL: testRedisUrl(), CACHE_PREFIX: prefix });

  beforeAll(async () => {
    [a, b] = await Promise.all([start(), start()]);
  }, 60_000);

  afterAll(async () => {
    for (const instance of [a, b]) if (instance !== undefined) instance.worker.kill();
    await cleanUpKeys(prefix);
  });

  const get = (instance: HttpWorker, path: string, tenant = 't1') =>
    fetch(`${instance.base}${path}`, { headers: { 'x-tenant': tenant } });
  const post = async (instance: HttpWorker, path: string) => {
    const response = await fetch(`${instance.base}${path}`, { method: 'POST' });
    expect(response.status).toBe(201);
    return response.json();
  };
  const handlerRuns = async () => {
    const counts = await Promise.all(
      [a, b].map(async (i) => ((await (await get(i, '/calls')).json()) as { calls: number }).calls),
    );
    return counts[0]! + counts[1]!;
  };

  it('runs the handler once for concurrent identical requests across both instances', async () => {
    const before = await handlerRuns();
    await Promise.all([post(a, '/hold'), post(b, '/hold')]);
    const responses = Array.from({ length: 20 }, (_, i) => get(i % 2 === 0 ? a : b, '/answers/weather?day=1'));
    // One handler has started, in one of the two processes, and is held while the other requests arrive.
    await Promise.race([a.worker.message('filling'), b.worker.message('filling')]);
    await Promise.all([post(a, '/release'), post(b, '/release')]);
    const settled = await Promise.all(
      responses.map(async (pending) => {
        const response = await pending;
        expect(response.status).toBe(200);
        return { body: await response.text(), cache: response.headers.get('x-cache') };
      }),
    );
    expect(new Set(settled.map((response) => response.body)).size).toBe(1);
    expect(settled.filter((response) => response.cache === 'MISS')).toHaveLength(1);
    expect(await handlerRuns()).toBe(before + 1);
    // Another tenant's identical request is its own entry.
    expect((await get(b, '/answers/weather?day=1', 't2')).headers.get('x-cache')).toBe('MISS');
    expect(await handlerRuns()).toBe(before + 2);
  });

  it('shows an invalidation by tag made in one instance to the other', async () => {
    const first = await (await get(b, '/answers/news')).text();
    const hit = await get(a, '/answers/news');
    expect([hit.headers.get('x-cache'), await hit.text()]).toEqual(['HIT', first]);
    const runs = await handlerRuns();
    expect(((await post(a, '/invalidate')) as { removed: number }).removed).toBeGreaterThanOrEqual(1);
    const after = await get(b, '/answers/news');
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(await after.text()).not.toBe(first);
    expect(await handlerRuns()).toBe(runs + 1);
  });
});

import { startHttpWorker, type HttpWorker } from '../support/child-processes';
import { cleanUpKeys, testRedisUrl, uniquePrefix } from '../support/redis';

// Two instances of a real NestJS 11 application (spec/support/children/nest-worker.ts), each a child process
// serving HTTP on 127.0.0.1, configured through ConfigService and CachetModule.forRootAsync, sharing the test
// Redis. The decorated service is declared before any configuration exists.

describe('CachetModule in two NestJS application processes sharing Redis', () => {
  const prefix = uniquePrefix('nest-module');
  let a: HttpWorker;
  let b: HttpWorker;

  const start = () => startHttpWorker('nest-worker', { CACHE_REDIS_URL: testRedisUrl(), CACHE_PREFIX: prefix });

  beforeAll(async () => {
    [a, b] = await Promise.all([start(), start()]);
  }, 60_000);

  afterAll(async () => {
    for (const instance of [a, b]) if (instance !== undefined) instance.worker.kill();
    await cleanUpKeys(prefix);
  });

  const get = async (instance: HttpWorker, path: string) => fetch(`${instance.base}${path}`);
  const post = async (instance: HttpWorker, path: string) => {
    const response = await fetch(`${instance.base}${path}`, { method: 'POST' });
    expect(response.status).toBe(201);
  };
  const providerCalls = async () => {
    const counts = await Promise.all(
      [a, b].map(async (i) => ((await (await get(i, '/calls')).json()) as { calls: number }).calls),
    );
    return counts[0]! + counts[1]!;
  };

  it('makes one provider call for concurrent identical requests across both instances', async () => {
    await Promise.all([post(a, '/hold'), post(b, '/hold')]);
    const responses = Array.from({ length: 20 }, (_, i) => get(i % 2 === 0 ? a : b, '/answers/weather'));
    // The fill has started in one of the two processes, and is held while the other requests arrive.
    await Promise.race([a.worker.message('filling'), b.worker.message('filling')]);
    await Promise.all([post(a, '/release'), post(b, '/release')]);
    const bodies = await Promise.all(
      responses.map(async (response) => {
        const settled = await response;
        expect(settled.status).toBe(200);
        return settled.text();
      }),
    );
    expect(new Set(bodies).size).toBe(1);
    expect(await providerCalls()).toBe(1);
  });

  it('holds one rate limit, registered by name in each process, across both', async () => {
    const statuses: number[] = [];
    for (const instance of [a, b, a, b, a]) statuses.push((await get(instance, '/limited')).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('shows an invalidation made in one instance to the other', async () => {
    const before = await (await get(b, '/answers/news')).json();
    expect(await (await get(a, '/answers/news')).json()).toEqual(before);
    const calls = await providerCalls();
    await post(a, '/invalidate');
    const after = (await (await get(b, '/answers/news')).json()) as { fill: number };
    expect(after).not.toEqual(before);
    expect(await providerCalls()).toBe(calls + 1);
  });

  it('closes everything on app.close(): both processes exit by themselves with code 0', async () => {
    for (const instance of [a, b]) instance.worker.tell('close');
    expect(await Promise.all([a.worker.result, b.worker.result])).toEqual(['closed', 'closed']);
    expect(await Promise.all([a.worker.exited, b.worker.exited])).toEqual([0, 0]);
  });
});

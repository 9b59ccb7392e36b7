import { Cache, Cached } from '../../lib';
import { RedisStore, TieredStore } from '../../lib/redis';
import { MemoryStore } from '../../lib/cache/memory-store';
import { eventually } from '../support/async';
import { startWorker } from '../support/child-processes';
import { cleanUpKeys, connectTestClient, testRedisUrl, uniquePrefix } from '../support/redis';
import { describeCacheStore, manualClock } from '../ports/cache-store-contract';

describeCacheStore('TieredStore', async () => {
  const clock = manualClock();
  const store = new TieredStore({
    redis: new RedisStore({ url: testRedisUrl(), clock }),
    memory: new MemoryStore({ clock }),
    clock,
    channel: uniquePrefix('contract'),
  });
  await eventually(() => store.coherent);
  return { store, clock, cleanup: () => store.close() };
});

describe('TieredStore', () => {
  const prefix = uniquePrefix('tier');
  const channel = `${prefix}:tier`;
  const made: TieredStore[] = [];
  async function instance(): Promise<TieredStore> {
    const store = new TieredStore({ redis: new RedisStore({ url: testRedisUrl(), operationTimeout: '2s' }), channel });
    made.push(store);
    await eventually(() => store.coherent);
    return store;
  }
  afterEach(async () => {
    await Promise.all(made.splice(0).map((s) => s.close()));
  });
  afterAll(() => cleanUpKeys(prefix));

  it('answers a Redis hit from memory afterwards, for the remaining TTL', async () => {
    const a = await instance();
    const b = await instance();
    await a.set(`${prefix}:k`, 'v', 60_000);
    // A read that crosses the write's own notice is served but not promoted; the next one is.
    await eventually(
      async () => (await b.get(`${prefix}:k`))?.value === 'v' && b.memory.get(`${prefix}:k`) !== undefined,
    );
    const hitsFromRedis = b.counts.redisHits;
    const second = b.get(`${prefix}:k`);
    expect(second).not.toBeInstanceOf(Promise); // answered synchronously, from memory
    expect((second as { value: unknown }).value).toBe('v');
    expect(b.counts.redisHits).toBe(hitsFromRedis);
    const promoted = b.memory.get(`${prefix}:k`);
    const inRedis = await a.redis.get(`${prefix}:k`);
    expect(promoted?.expiresAt).toBe(inRedis?.expiresAt);
  });

  it('drops another instance’s memory copy on a write, a delete, a tag invalidation and a clear', async () => {
    const a = await instance();
    const b = await instance();
    const key = `${prefix}:shared`;
    // Until b holds the key in its memory tier, so that each step below tests the drop, not a miss.
    const warm = () =>
      eventually(async () => {
        await b.get(key);
        return b.memory.get(key) !== undefined;
      });
    await a.set(key, 'v1', 60_000);
    await warm();
    await a.set(key, 'v2', 60_000);
    await eventually(() => b.memory.get(key) === undefined);
    expect((await b.get(key))?.value).toBe('v2');

    await warm();
    await a.delete(key);
    await eventually(() => b.memory.get(key) === undefined);
    expect(await b.get(key)).toBeUndefined();

    await a.set(key, 'v3', 60_000);
    await a.tags.tag(key, [`${prefix}:tag:t`], 60_000);
    await warm();
    expect(await a.tags.invalidate([`${prefix}:tag:t`])).toBe(1);
    await eventually(() => b.memory.get(key) === undefined);

    await a.set(key, 'v4', 60_000);
    await warm();
    await a.clear(`${prefix}:`);
    await eventually(() => b.memory.get(key) === undefined);
  });

  it('shows an update made in one process to another process within a bounded time', async () => {
    const a = await instance();
    const key = `${prefix}:xproc`;
    await a.set(key, 'before', 60_000);
    const worker = startWorker('tier-worker', { REDIS_URL: testRedisUrl(), KEY: key, PREFIX: prefix });
    try {
      await worker.ready;
      worker.go();
      await worker.reached('reading');
      await a.set(key, 'after', 60_000);
      const result = (await worker.result) as { first: string; seen: string; memoryHits: number; afterMs: number };
      expect(result.first).toBe('before');
      expect(result.seen).toBe('after');
      expect(result.memoryHits).toBeGreaterThan(1); // it was reading its memory tier when the update came
      expect(result.afterMs).toBeLessThan(5_000);
    } finally {
      worker.kill();
    }
  }, 30_000);

  it('clears and bypasses its memory tier when it loses the channel, and uses it again once back', async () => {
    const store = await instance();
    const states: boolean[] = [];
    store.events.on('coherence', ({ live }) => states.push(live));
    const key = `${prefix}:lost`;
    await store.set(key, 'v', 60_000);
    await store.get(key);
    expect(store.memory.size).toBe(1);
    const admin = await connectTestClient();
    try {
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    } finally {
      await admin.close();
    }
    await eventually(() => states.includes(false));
    expect(store.memory.size).toBe(0);
    await eventually(() => store.coherent);
    expect(states).toEqual([false, true]);
    await store.get(key);
    expect(store.memory.get(key)).toBeDefined();
  });

  it('works under @Cached: repeated calls hit memory, and tags invalidate across instances', async () => {
    const caches = [await instance(), await instance()].map((store) => new Cache({ store, prefix }));
    let calls = 0;
    const make = (cache: Cache) => {
      class Faq {
        @Cached({ cache, tags: (_a: string, q: string) => [`faq:${q}`] })
        async answer(q: string): Promise<string> {
          calls++;
          return `answer ${calls} to ${q}`;
        }
      }
      return new Faq();
    };
    const [one, two] = caches.map(make);
    expect(await one!.answer('q')).toBe('answer 1 to q');
    expect(await two!.answer('q')).toBe('answer 1 to q');
    expect(await two!.answer('q')).toBe('answer 1 to q');
    await caches[0]!.invalidateTags(['faq:q']);
    await eventually(() => (caches[1]!.store as TieredStore).memory.size === 0);
    expect(await two!.answer('q')).toBe('answer 2 to q');
  });
});

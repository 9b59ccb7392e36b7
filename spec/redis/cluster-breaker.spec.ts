import { Cache } from '../../lib/cache/cache';
import { hashSlot } from '../../lib/redis/cluster';
import { closeRedis } from '../../lib/redis/close-client';
import { RedisStore } from '../../lib/redis/redis-store';
import { StoreError } from '../../lib/core/errors';
import { manualClock } from '../ports/cache-store-contract';
import { recordingLogger } from '../support/logger';
import { connectTestClient, uniquePrefix } from '../support/redis';
import { slotOwners, startRedisCluster, type TestRedisCluster } from '../support/redis-cluster';
import { connectCluster } from '../support/redis-target';
import type { RedisClusterLike } from '../../lib/redis/cluster';

// One master of a three-master cluster stops answering (SIGSTOP: it keeps its connections and answers
// nothing). The store's failures must stay on that master's keys: its breaker opens, the other masters'
// keys keep being read, also when they are read in one batch with keys of the frozen master.
describe('RedisStore on a cluster whose master hangs', () => {
  let cluster: TestRedisCluster;
  let client: RedisClusterLike;
  let frozen: number | undefined;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = await connectCluster(cluster.urls);
  }, 30_000);
  afterEach(() => {
    if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
    frozen = undefined;
  });
  afterAll(async () => {
    await closeRedis(client);
    await cluster.stop();
  });

  async function freeze(url: string): Promise<void> {
    const admin = await connectTestClient(url);
    const info = await admin.sendCommand<string>(['INFO', 'server']);
    admin.destroy();
    frozen = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    expect(frozen).toBeGreaterThan(0);
    process.kill(frozen, 'SIGSTOP');
  }

  it('closes promptly while the master hangs: cache.close() and closeRedis(cluster)', async () => {
    const own = await connectCluster(cluster.urls);
    const cache = new Cache({ store: new RedisStore({ client: own, operationTimeout: '100ms' }), prefix: 'closing' });
    const ask = cache.wrap(async (q: string) => `answer ${q}`, { name: 'ask' });
    for (let i = 0; i < 30; i++) await ask(`q${i}`);
    await freeze(cluster.urls[0] as string);
    // Calls in flight toward the hung master while everything closes.
    const inFlight = Array.from({ length: 30 }, (_, i) => ask(`q${i}`));
    await cache.close();
    await closeRedis(own, '200ms');
    expect(own.isOpen).toBe(false);
    await expect(Promise.all(inFlight)).resolves.toHaveLength(30);
  });

  it('opens the breaker of that master only, and batched reads of the other masters keep hitting', async () => {
    const prefix = uniquePrefix('frozen');
    const admin = await connectTestClient(cluster.urls[0]);
    const ownerOf = await slotOwners(admin, cluster.urls);
    admin.destroy();
    const keys = Array.from({ length: 60 }, (_, i) => `${prefix}:k${i}`);
    const onFrozen = keys.filter((key) => ownerOf(hashSlot(key)) === 0);
    const healthy = keys.filter((key) => ownerOf(hashSlot(key)) !== 0);
    expect(onFrozen.length).toBeGreaterThan(0);
    expect(healthy.length).toBeGreaterThan(0);

    const logger = recordingLogger();
    const store = new RedisStore({
      client,
      operationTimeout: '100ms',
      breakerCooldown: 60_000,
      clock: manualClock(),
      logger,
    });
    try {
      await Promise.all(keys.map((key) => store.set(key, key, 60_000)));
      await freeze(cluster.urls[0] as string);

      // Every key in one batch: the frozen master's keys fail, every other key is read.
      for (let round = 0; round < 4; round++) {
        const results = await Promise.allSettled(keys.map((key) => store.get(key)));
        results.forEach((result, i) => {
          const key = keys[i] as string;
          if (onFrozen.includes(key)) expect(result.status).toBe('rejected');
          else expect(result).toEqual({ status: 'fulfilled', value: expect.objectContaining({ value: key }) });
        });
      }
      const frozenAddress = new URL(cluster.urls[0] as string).host;
      expect(store.circuits.get(frozenAddress)).toBe('open');
      expect([...store.circuits].filter(([, state]) => state === 'open')).toHaveLength(1);
      expect(store.circuit).toBe('open');
      // One line, naming the master whose breaker opened.
      expect(logger.lines.map(([level, fields]) => [level, fields])).toEqual([
        [
          'warn',
          {
            event: 'cachet.breaker-opened',
            backend: 'RedisStore',
            node: frozenAddress,
            failures: 3,
            cooldownMs: 60_000,
          },
        ],
      ]);
      // Writes to healthy masters are not skipped either.
      await expect(store.set(healthy[0] as string, 'new', 60_000)).resolves.toBeUndefined();
      await expect(store.set(onFrozen[0] as string, 'new', 60_000)).rejects.toBeInstanceOf(StoreError);
    } finally {
      if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
      frozen = undefined;
      await store.close();
    }
  });
});

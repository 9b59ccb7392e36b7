import { Cache } from '../../lib/cache/cache';
import { hashSlot } from '../../lib/redis/cluster';
import type { RedisClientLike } from '../../lib/redis/connection';
import { RedisCircuitState } from '../../lib/redis/redis-circuit-state';
import { RedisCostLedger } from '../../lib/redis/redis-cost-ledger';
import { RedisRateLimiter } from '../../lib/redis/redis-rate-limiter';
import { RedisSemaphore } from '../../lib/redis/redis-semaphore';
import { RedisStore } from '../../lib/redis/redis-store';
import { Circuit } from '../../lib/resilience/circuit-breaker';
import { QueueFullError } from '../../lib/concurrency/concurrency-errors';
import { deferred } from '../support/async';
import { connectTestClient, uniquePrefix } from '../support/redis';
import { slotOwners, startRedisCluster, type TestRedisCluster } from '../support/redis-cluster';
import { clusterTarget, type RedisTarget } from '../support/redis-target';
import { redisLimiterFixture } from './redis-limiter-fixture';
import { describeRateLimiter } from '../ports/rate-limiter-contract';
import { manualClock } from '../ports/cache-store-contract';
import { describeLedgerAcrossProcesses, describeRedisCostLedger, entry, prices } from './redis-cost-ledger-suite';
import { describeRedisCircuitState, fail } from './redis-circuit-state-suite';
import { describeSemaphore } from '../ports/semaphore-contract';
import { redisSemaphoreFixture, REDIS_SEMAPHORE_TRAITS } from './redis-semaphore-fixture';

/*
 * The Redis classes that run scripts over several keys (the cost ledger, the shared circuit state, shared
 * statistics), on a real three-master cluster: their suites as on one Redis, and where their keys land.
 * A script whose keys hash to different slots is refused with CROSSSLOT.
 */
describe('scripts on a three-master Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let target: RedisTarget;
  /** One plain client per master, to see which master holds a key. */
  let nodes: RedisClientLike[];
  let ownerOfSlot: (slot: number) => number;
  const ownerOf = (key: string): number => ownerOfSlot(hashSlot(key));

  /** Names `<label>-<n>` (n = 0, 1, ...) until `count` of them map, through `keyOf`, to every master. */
  const spread = (label: string, count: number, keyOf: (name: string) => string): string[] => {
    const base = uniquePrefix(label);
    for (let n = count; ; n++) {
      const names = Array.from({ length: n }, (_, i) => `${base}-${i}`);
      if (new Set(names.map((name) => ownerOf(keyOf(name)))).size === 3) return names;
    }
  };

  /** The keys one master holds that start with `prefix`. */
  const keysOn = async (node: RedisClientLike, prefix: string): Promise<string[]> => {
    const [, keys] = await node.sendCommand<[string, string[]]>(['SCAN', '0', 'MATCH', `${prefix}*`, 'COUNT', '10000']);
    return keys;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
    nodes = await Promise.all(cluster.urls.map((url) => connectTestClient(url)));
    ownerOfSlot = await slotOwners(nodes[0] as RedisClientLike, cluster.urls);
    target = await clusterTarget(cluster.urls);
  }, 30_000);

  afterAll(async () => {
    await target?.close();
    for (const node of nodes ?? []) node.destroy();
    await cluster?.stop();
  });

  describeRedisCostLedger('RedisCostLedger over a cluster client', () => target);
  describeLedgerAcrossProcesses('cost ledger across 3 processes, each with its own cluster client', () => target);
  describeRedisCircuitState('Circuit over RedisCircuitState on a cluster client', () => target);
  describeSemaphore(
    'RedisSemaphore on a cluster client',
    redisSemaphoreFixture(() => target),
    REDIS_SEMAPHORE_TRAITS,
  );

  it('keeps each ledger’s batch markers on the master of its totals, with ledgers spread over all masters', async () => {
    const keys = spread('ledger-spread', 3, (key) => key);
    const ledgers = await Promise.all(
      keys.map(async (key) => new RedisCostLedger({ ...(await target.source()), key, prices, flushInterval: '1h' })),
    );
    try {
      for (const ledger of ledgers) {
        ledger.recordHit(entry);
        await ledger.flush();
      }
      for (const key of keys) {
        const owner = nodes[ownerOf(key)] as RedisClientLike;
        expect(await owner.sendCommand(['HGET', key, 'chat|acme|big|hits'])).toBe('1');
        expect(await keysOn(owner, `{${key}}:batch:`)).toHaveLength(1);
      }
    } finally {
      await Promise.all(ledgers.map((ledger) => ledger.close()));
      await target.release();
      await target.deleteKeys(...keys, ...keys.map((key) => `{${key}}`));
    }
  });

  it('keeps each circuit’s state and probe slot on one master, with circuits spread over all masters', async () => {
    const prefix = uniquePrefix('circuit-spread');
    const names = spread('c', 3, (name) => `${prefix}:${name}`);
    const store = new RedisCircuitState({ ...(await target.source()), prefix, serverTime: false });
    const errors: unknown[] = [];
    store.events.on('error', (error) => errors.push(error));
    const clock = manualClock();
    const probes: Promise<unknown>[] = [];
    const finish = deferred<void>();
    try {
      for (const name of names) {
        const circuit = new Circuit({ name, store, clock, threshold: 1, halfOpenAfter: '10s', probeTimeout: '1m' });
        await expect(circuit.execute(fail)).rejects.toThrow('boom');
        clock.advance(10_000);
        // The probe runs until the end of the test, so its slot stays taken.
        const started = deferred<void>();
        probes.push(circuit.execute(() => (started.resolve(), finish.promise)));
        await started.promise;
        await expect(circuit.execute(fail)).rejects.toMatchObject({ state: 'half-open' });
      }
      for (const name of names) {
        const owner = nodes[ownerOf(`${prefix}:${name}`)] as RedisClientLike;
        expect(await owner.sendCommand(['HGET', `${prefix}:${name}`, 'state'])).toBe('half-open');
        expect(await owner.sendCommand(['EXISTS', `{${prefix}:${name}}:probe`])).toBe(1);
      }
      finish.resolve();
      await Promise.all(probes);
      expect(errors).toEqual([]);
    } finally {
      finish.resolve();
      await store.close();
      await target.release();
      await target.deleteKeys(prefix, `{${prefix}`);
    }
  });

  it('adds up shared statistics on the cluster, each cache prefix in a slot of its own', async () => {
    const prefixes = spread('stats', 3, (prefix) => `${prefix}:stats`);
    const caches = await Promise.all(
      prefixes.map(
        async (prefix) =>
          new Cache({
            store: new RedisStore({ ...(await target.source()), operationTimeout: '2s' }),
            prefix,
            sharedStats: { flushInterval: '1h' },
          }),
      ),
    );
    try {
      for (const cache of caches) {
        const answer = cache.wrap(async (q: string) => q.toUpperCase(), { name: 'answer' });
        await answer('a');
        await answer('a');
        await answer('a');
        expect((await cache.report()).total).toMatchObject({ hits: 2, misses: 1 });
      }
      for (const prefix of prefixes) {
        const owner = nodes[ownerOf(`${prefix}:stats`)] as RedisClientLike;
        expect(await owner.sendCommand(['HGET', `${prefix}:stats`, 'default:answer|hits'])).toBe('2');
      }
    } finally {
      await Promise.all(caches.map((cache) => cache.close()));
      await target.release();
      await target.deleteKeys(...prefixes, ...prefixes.map((prefix) => `{${prefix}`));
    }
  });

  describeRateLimiter('RedisRateLimiter through the cluster adapter', async () => {
    const prefix = uniquePrefix('rl');
    const limiter = new RedisRateLimiter({ client: target.admin, prefix });
    return redisLimiterFixture(limiter, prefix, target.admin, async () => {
      await limiter.close();
      await target.deleteKeys(prefix);
    });
  });

  it('grants and refuses RedisSemaphore slots on keys spread over all masters (one key per script)', async () => {
    const prefix = uniquePrefix('sem');
    const keys = spread('k', 3, (key) => `${prefix}:gpu:${key}`);
    const semaphore = new RedisSemaphore({ client: target.admin, prefix, name: 'gpu', max: 1, maxQueue: 0 });
    const fallbacks: unknown[] = [];
    semaphore.events.on('fallback', ({ error }) => fallbacks.push(error));
    try {
      for (const key of keys) {
        const permit = await semaphore.acquire({ key });
        await expect(semaphore.acquire({ key })).rejects.toBeInstanceOf(QueueFullError);
        const owner = nodes[ownerOf(`${prefix}:gpu:${key}`)] as RedisClientLike;
        expect(await owner.sendCommand(['ZCARD', `${prefix}:gpu:${key}`])).toBe(1);
        await permit.release();
      }
      expect(fallbacks).toEqual([]);
    } finally {
      await target.deleteKeys(prefix);
    }
  });
});

import { Cache, Cached, MemoryStore } from '../../lib';
import { escapeGlob } from '../../lib/keys/glob';
import { hashSlot } from '../../lib/redis/cluster';
import type { RedisClientLike } from '../../lib/redis/connection';
import { RedisStore } from '../../lib/redis/redis-store';
import { TieredStore } from '../../lib/redis/tiered-store';
import { eventually } from '../support/async';
import { cleanUpKeys, connectTestClient, testRedisUrl, uniquePrefix } from '../support/redis';
import { clusterTarget, redisTarget, type RedisTarget } from '../support/redis-target';
import { slotOwners, startRedisCluster, type TestRedisCluster } from '../support/redis-cluster';
import { describeInspection, type InspectionTarget } from '../cache/inspection-suite';

/** Longer than the default: the suite writes 2,500 entries at once while other suites share the machine. */
const operationTimeout = '2s';

/** Calls of `command` on each of `nodes`, from `INFO commandstats`. */
async function commandCalls(nodes: readonly RedisClientLike[], command: string): Promise<number[]> {
  return Promise.all(
    nodes.map(async (node) => {
      const info = await node.sendCommand<string>(['INFO', 'commandstats']);
      return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    }),
  );
}

function inspectionTarget(
  redis: RedisTarget,
  nodes: readonly RedisClientLike[],
  masterOf?: (key: string) => number,
): InspectionTarget {
  return {
    kind: redis.kind,
    store: async (clock) => new RedisStore({ ...(await redis.source()), clock, operationTimeout }),
    command: (args) => redis.admin.sendCommand(args),
    commandCalls: (command) => commandCalls(nodes, command),
    ...(masterOf === undefined ? {} : { masterOf }),
    cleanup: async (prefix) => {
      await redis.deleteKeys(`${prefix}:`);
      await redis.release();
    },
  };
}

describe('on one Redis', () => {
  let redis: RedisTarget;
  beforeAll(async () => {
    redis = await redisTarget();
  });
  afterAll(async () => {
    await redis.close();
  });

  describeInspection(
    'redis',
    () => inspectionTarget(redis, [redis.admin]),
    () => uniquePrefix('insp'),
  );

  it('lists the keys Redis lists for the same glob, on a memory store', async () => {
    const prefix = uniquePrefix('iglob');
    const keys = ['a:b:c', 'a:x', 'ab', 'a*b', 'a\\b', 'h[1]', 'hello', 'hallo', 'hxllo', 'héllo', 'a:b/c'];
    const memory = new MemoryStore();
    const store = new RedisStore({ url: testRedisUrl(), operationTimeout });
    try {
      for (const key of keys) {
        memory.set(`${prefix}${key}`, 1, 60_000);
        await store.set(`${prefix}${key}`, 1, 60_000);
      }
      const list = async (s: MemoryStore | RedisStore, pattern: string) => {
        const all: string[] = [];
        for await (const page of s.scan(`${escapeGlob(prefix)}${pattern}`, 100)) all.push(...page);
        return all.sort();
      };
      for (const pattern of [
        '*',
        'a*',
        'a:*',
        'a?b',
        'a\\*b',
        'h[ae]llo',
        'h[^e]llo',
        'h[a-f]llo',
        'h?llo',
        'h??llo',
        'h\\[1]',
        'a\\\\b',
        '*/*',
      ]) {
        expect([pattern, await list(memory, pattern)]).toEqual([pattern, await list(store, pattern)]);
      }
    } finally {
      await store.close();
      await cleanUpKeys(prefix);
    }
  });

  it('peeks through a TieredStore at the Redis entry, saying whether this instance holds a memory copy', async () => {
    const prefix = uniquePrefix('itier');
    const store = new TieredStore({
      redis: new RedisStore({ url: testRedisUrl(), operationTimeout }),
      channel: `${prefix}:tier`,
    });
    const cache = new Cache({ store, prefix });
    class Service {
      @Cached({ cache, tags: (_v, id: string) => [id] })
      async get(id: string): Promise<string> {
        return `v-${id}`;
      }
    }
    const s = new Service();
    try {
      await eventually(() => store.coherent);
      await s.get('a');
      expect(await cache.peek(s, 'get', 'a')).toMatchObject({
        value: 'v-a',
        store: 'redis',
        memoryCopy: true,
        tags: ['a'],
      });
      store.memory.clear('');
      expect(await cache.peek(s, 'get', 'a')).toMatchObject({ value: 'v-a', memoryCopy: false });
      expect(store.memory.size).toBe(0); // peeking promoted nothing
    } finally {
      await cache.close();
      await cleanUpKeys(`${prefix}:`);
    }
  });
});

describe('on a three-master Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let redis: RedisTarget;
  let nodes: RedisClientLike[];
  let masterOf: (key: string) => number;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = await clusterTarget(cluster.urls);
    nodes = await Promise.all(cluster.urls.map((url) => connectTestClient(url)));
    const owner = await slotOwners(nodes[0] as RedisClientLike, cluster.urls);
    masterOf = (key) => owner(hashSlot(key));
  }, 30_000);

  afterAll(async () => {
    for (const node of nodes ?? []) node.destroy();
    await redis?.close();
    await cluster?.stop();
  });

  describeInspection(
    'cluster',
    () => inspectionTarget(redis, nodes, masterOf),
    () => uniquePrefix('cinsp'),
  );
});

import { createCluster } from 'redis';
import { ClusterClientAdapter, type RedisClusterLike } from '../../lib/redis/cluster';
import type { RedisClientLike } from '../../lib/redis/connection';
import type { RedisConnectionOptions } from '../../lib/redis/redis-executor';

type ClientSource = Pick<RedisConnectionOptions, 'url' | 'client'>;
import { connectTestClient, testRedisUrl } from './redis';

/**
 * The Redis a suite runs against: the server of the test run, or the local three-master cluster. Suites
 * written against it (`describeRedisCostLedger(target)`) run unchanged on both.
 */
export interface RedisTarget {
  /** `redis` or `cluster`, for test names. */
  readonly kind: 'redis' | 'cluster';
  /** A client for assertions that routes each command by its key (a cluster adapter on a cluster). */
  readonly admin: RedisClientLike;
  /** How a worker process connects the same way: `REDIS_URL`, or `REDIS_CLUSTER_URLS` (comma-separated). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Client options for one component, as one process would make them: its own `url`, or on a cluster a
   * cluster client of its own (closed by {@link release}).
   */
  source(): Promise<ClientSource>;
  /** Closes the clients {@link source} made. */
  release(): Promise<void>;
  /** Deletes every key that starts with one of `prefixes`, on every master. */
  deleteKeys(...prefixes: string[]): Promise<void>;
  close(): Promise<void>;
}

/** The `redis-server` the test run started (`CACHET_TEST_REDIS_URL`). */
export async function redisTarget(): Promise<RedisTarget> {
  const url = testRedisUrl();
  const admin = await connectTestClient(url);
  return {
    kind: 'redis',
    admin,
    env: { REDIS_URL: url },
    source: async () => ({ url }),
    release: async () => {},
    deleteKeys: (...prefixes) => deleteFrom([admin], admin, prefixes),
    close: () => admin.close(),
  };
}

/** A cluster client with an `error` listener, connected to the masters at `urls`. */
export async function connectCluster(urls: readonly string[]): Promise<RedisClusterLike> {
  const cluster = createCluster({ rootNodes: urls.map((url) => ({ url })) });
  cluster.on('error', () => {});
  await cluster.connect();
  return cluster as unknown as RedisClusterLike;
}

/** A running cluster (`startRedisCluster()`), reached through cluster clients. */
export async function clusterTarget(urls: readonly string[]): Promise<RedisTarget> {
  const own = await connectCluster(urls);
  const admin = new ClusterClientAdapter(own);
  const made: RedisClusterLike[] = [];
  const release = async (): Promise<void> => {
    await Promise.all(made.splice(0).map((client) => client.close()));
  };
  return {
    kind: 'cluster',
    admin,
    env: { REDIS_CLUSTER_URLS: urls.join(',') },
    source: async () => {
      const client = await connectCluster(urls);
      made.push(client);
      return { client };
    },
    release,
    deleteKeys: async (...prefixes) => deleteFrom(await admin.masterClients(), admin, prefixes),
    close: async () => {
      await release();
      await own.close();
    },
  };
}

/** Scans each of `nodes` for the prefixes and unlinks what it finds through `router` (split by slot on a cluster). */
async function deleteFrom(
  nodes: readonly RedisClientLike[],
  router: RedisClientLike,
  prefixes: readonly string[],
): Promise<void> {
  for (const node of nodes) {
    for (const prefix of prefixes) {
      const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
      let cursor = '0';
      do {
        const [next, keys] = await node.sendCommand<[string, string[]]>([
          'SCAN',
          cursor,
          'MATCH',
          pattern,
          'COUNT',
          '500',
        ]);
        cursor = next;
        if (keys.length > 0) await router.sendCommand(['UNLINK', ...keys]);
      } while (cursor !== '0');
    }
  }
}

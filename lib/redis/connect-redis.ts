import { createClient, createCluster } from '@redis/client';
import { CachetError } from '../core/errors';
import { parseDuration, type Duration } from '../core/duration';
import { assertKnownOptions, optionError } from '../core/validate';
import { closeClient } from './close-client';
import { ClusterClientAdapter, type RedisClusterLike } from './cluster';
import type { RedisClientLike } from './connection';

/** Why {@link connectRedis} could not connect. */
export type RedisConnectFailure = 'unreachable' | 'auth' | 'not-a-cluster';

/** {@link connectRedis} could not connect; `reason` says why and the message says what to check. */
export class RedisConnectError extends CachetError {
  readonly code = 'ERR_CACHET_REDIS_CONNECT';

  constructor(
    readonly reason: RedisConnectFailure,
    /** The address tried, `host:port`, without the password. */
    readonly address: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for a {@link RedisConnectError}, also from another copy of cachet. */
export function isRedisConnectError(error: unknown): error is RedisConnectError {
  return (error as { code?: unknown } | null)?.code === 'ERR_CACHET_REDIS_CONNECT';
}

/** Options of {@link connectRedis}. */
export interface ConnectRedisOptions {
  /** `true`: it must be a cluster; `false`: one server; `'auto'`: asks the server (`INFO cluster`). @default 'auto' */
  readonly cluster?: boolean | 'auto';
  /** Longest wait for the connection (and each node's, on a cluster). @default '5s' */
  readonly connectTimeout?: Duration;
}

/** A connection {@link connectRedis} opened: pass `client` to any Redis class, then `close()` it. */
export interface RedisConnection {
  readonly client: RedisClientLike | RedisClusterLike;
  readonly cluster: boolean;
  /** One client per master (the one server, or each master of the cluster), for per-node commands (`INFO`, `SCAN`). */
  nodes(): Promise<{ readonly address: string; readonly client: RedisClientLike }[]>;
  close(): Promise<void>;
}

/**
 * Connects to Redis once, for a tool or a script that must say at once why it cannot (no reconnect
 * loop, no offline queue): an unreachable host, a refused password (`NOAUTH`, `WRONGPASS`) and a cluster
 * asked of a single server each reject with a {@link RedisConnectError}. With `cluster: 'auto'` a server
 * that reports `cluster_enabled:1` is reconnected as a cluster, with the URL's node as the seed.
 * @example const redis = await connectRedis(process.env.REDIS_URL!); new RedisStore({ client: redis.client });
 */
export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<RedisConnection> {
  assertKnownOptions('connectRedis', options, ['cluster', 'connectTimeout']);
  const { cluster = 'auto', connectTimeout = '5s' } = options;
  if (cluster !== 'auto' && typeof cluster !== 'boolean')
    throw optionError('cluster', "true, false or 'auto'", cluster);
  const timeoutMs = parseDuration('connectTimeout', connectTimeout);
  let parsed: URL;
  try {
    parsed = new URL(url);
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error('not redis');
  } catch {
    throw optionError('url', 'a redis:// or rediss:// URL', url);
  }
  const address = `${parsed.hostname}:${parsed.port || '6379'}`;
  const socket = { connectTimeout: timeoutMs, reconnectStrategy: false as const };
  const single = createClient({ url, socket, disableOfflineQueue: true }) as unknown as RedisClientLike;
  single.on('error', () => {});
  let enabled: boolean;
  try {
    await single.connect();
    enabled = /^cluster_enabled:1\r?$/m.test(await single.sendCommand<string>(['INFO', 'cluster']));
  } catch (error) {
    await closeClient(single, 0);
    throw connectFailure(error, address);
  }
  if (cluster === true && !enabled) {
    await closeClient(single);
    throw new RedisConnectError('not-a-cluster', address, `${address} is a single Redis server, not a cluster`);
  }
  if (!enabled || cluster === false) return singleConnection(single, address);
  await closeClient(single);
  const auth = {
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
  };
  const client = createCluster({
    rootNodes: [{ url }],
    defaults: { ...auth, socket },
  }) as unknown as RedisClusterLike;
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await closeClient(new ClusterClientAdapter(client), 0);
    throw connectFailure(error, address);
  }
  const adapter = new ClusterClientAdapter(client);
  return {
    client,
    cluster: true,
    nodes: async () => {
      const addresses = adapter.masterAddresses();
      return Promise.all(addresses.map(async (node) => ({ address: node, client: await adapter.masterClient(node) })));
    },
    close: () => closeClient(adapter),
  };
}

function singleConnection(client: RedisClientLike, address: string): RedisConnection {
  return {
    client,
    cluster: false,
    nodes: () => Promise.resolve([{ address, client }]),
    close: () => closeClient(client),
  };
}

/** A driver's connection or handshake failure as a {@link RedisConnectError} that says what to check. */
function connectFailure(error: unknown, address: string): RedisConnectError {
  const detail = error instanceof Error ? error.message : String(error);
  if (/^(NOAUTH|WRONGPASS)\b/.test(detail) || /invalid password|invalid username-password/i.test(detail)) {
    return new RedisConnectError(
      'auth',
      address,
      `Redis at ${address} refused the credentials (${detail.split('\n')[0]}): check the password in the URL (redis://:PASSWORD@host:port)`,
      { cause: error },
    );
  }
  const code = (error as { code?: unknown } | null)?.code;
  // A name the resolver does not know (a typo, a `.invalid` host) or could not resolve now: say so, not a socket error.
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const host = address.slice(0, address.lastIndexOf(':'));
    return new RedisConnectError(
      'unreachable',
      address,
      `Cannot reach Redis at ${address}: the host name ${host} could not be resolved (${code}): check the host in the URL`,
      { cause: error },
    );
  }
  const why = typeof code === 'string' ? `${code}: ${detail}` : detail;
  return new RedisConnectError('unreachable', address, `Cannot reach Redis at ${address} (${why})`, { cause: error });
}

import { parseDuration, type Duration } from '../core/duration';
import { ClusterClientAdapter, isClusterClient, type RedisClusterLike } from './cluster';
import type { RedisClientLike } from './connection';

/** How long a graceful close may wait for replies still owed before the connection is cut. */
export const CLOSE_BOUND_MS = 1_000;

/**
 * Closes a client gracefully when it is connected, waiting at most `boundMs` for the replies still owed
 * (a Redis that hangs, or a cluster whose master is down, owes them forever), then destroys it.
 * A client that is not connected is destroyed at once, which also stops a reconnect loop that would
 * otherwise keep retrying (and keep the process alive) forever.
 */
export async function closeClient(client: RedisClientLike, boundMs = CLOSE_BOUND_MS): Promise<void> {
  if (client.isReady) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bounded = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), boundMs)));
    try {
      const outcome = await Promise.race([
        client.close().then(
          () => 'closed' as const,
          () => 'failed' as const,
        ),
        bounded,
      ]);
      if (outcome === 'closed') return;
    } finally {
      clearTimeout(timer);
    }
  }
  try {
    client.destroy();
  } catch {
    // Already closed.
  }
}

/**
 * Closes a node-redis client or cluster client that you created, without hanging on a Redis that is
 * down: it waits up to `bound` (default 1 s) for replies still owed, then cuts the connections. node-redis's
 * own `cluster.close()` does not return while a master is down.
 * @example await closeRedis(cluster); // after cache.close(), on shutdown
 */
export async function closeRedis(
  client: RedisClientLike | RedisClusterLike,
  bound: Duration = CLOSE_BOUND_MS,
): Promise<void> {
  const boundMs = parseDuration('bound', bound);
  await closeClient(isClusterClient(client) ? new ClusterClientAdapter(client) : (client as RedisClientLike), boundMs);
}

// The core client, not the `redis` umbrella: cachet sends every command through `sendCommand` and needs
// none of the modules (JSON, search, bloom, time series) the umbrella adds. See docs/decisions.md, "Packaging
// and tooling".
import { createClient } from '@redis/client';

/**
 * The slice of a node-redis client that cachet uses. Any node-redis 5 or 6 client (`createClient()` from
 * `redis` or `@redis/client`) fits; typing it structurally keeps node-redis's heavy generics out of our
 * public types.
 */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  sendCommand<T = unknown>(args: readonly string[], options?: { timeout?: number }): Promise<T>;
  duplicate(): RedisClientLike;
  connect(): Promise<unknown>;
  on(event: 'error' | 'ready' | 'end', listener: (...args: any[]) => void): unknown;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

/**
 * Per-command options for every command cachet sends. node-redis 6 gives each command a 5-second
 * timeout by default, implemented with one AbortSignal.timeout() per command; that costs about a third
 * of the client's throughput when pipelining (39K vs 129K GET/s measured here). cachet keeps its own,
 * shorter timeouts (one timer per batch), so it switches the driver's off.
 */
export const COMMAND_OPTIONS = Object.freeze({ timeout: 0 });

/** Creates the client a RedisStore owns when it is given a `url`. */
export function createOwnedClient(url: string, connectTimeoutMs: number): RedisClientLike {
  const client = createClient({
    url,
    // While disconnected, fail commands at once instead of queueing them: the cache then bypasses Redis
    // immediately, and stale writes are not replayed when the connection returns.
    disableOfflineQueue: true,
    commandOptions: COMMAND_OPTIONS,
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000),
    },
  });
  return client as unknown as RedisClientLike;
}

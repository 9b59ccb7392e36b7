import { Cache, type CacheOptions } from '../cache/cache';
import { readSettings } from '../core/settings';
import { connectRedis, RedisStore, type RedisConnection } from '../redis';
import { EXIT, CliError } from './cli-error';

/** How a command connects: from `--url`, `--cluster`, `--prefix` and `--timeout`, or the environment. */
export interface SessionOptions {
  readonly url: string | undefined;
  readonly cluster: boolean;
  readonly prefix: string | undefined;
  readonly timeoutMs: number;
}

/**
 * One connection to Redis for one command, and what commands build on it: the `RedisStore` and the
 * caches over it. Closed by the command line when the command ends.
 */
export class Session {
  readonly redis: RedisConnection;
  readonly store: RedisStore;
  /** The key prefix the caches use. */
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly #caches: Cache[] = [];

  private constructor(redis: RedisConnection, prefix: string, timeoutMs: number) {
    this.redis = redis;
    this.prefix = prefix;
    this.timeoutMs = timeoutMs;
    this.store = new RedisStore({ client: redis.client, operationTimeout: timeoutMs });
  }

  /** Connects; a {@link CliError} (exit code 2) when no URL is given or set. */
  static async open(options: SessionOptions): Promise<Session> {
    const settings = readSettings();
    const url = options.url ?? settings.redisUrl;
    if (url === undefined)
      throw new CliError('No Redis to talk to: pass --url redis://host:port or set REDIS_URL', EXIT.usage);
    const redis = await connectRedis(url, {
      cluster: options.cluster ? true : 'auto',
      connectTimeout: options.timeoutMs,
    });
    return new Session(redis, options.prefix ?? settings.prefix ?? 'cachet', options.timeoutMs);
  }

  /** A cache over the session's store with the session's prefix (a `TypeError` for a bad prefix). */
  cache(options: Omit<CacheOptions, 'store' | 'prefix'> = {}): Cache {
    const cache = new Cache({ ...options, store: this.store, prefix: this.prefix });
    this.#caches.push(cache);
    return cache;
  }

  async close(): Promise<void> {
    // A cache's close closes the store it was given; the store leaves the client, which is ours, open.
    for (const cache of this.#caches.splice(0)) await cache.close().catch(() => undefined);
    await this.store.close().catch(() => undefined);
    await this.redis.close();
  }
}

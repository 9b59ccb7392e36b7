import { StoreError } from '../core/errors';
import { optionError } from '../core/validate';
import { closeClient } from './close-client';
import { ClusterClientAdapter, isClusterClient, type RedisClusterLike } from './cluster';
import { createOwnedClient, type RedisClientLike } from './connection';
import { TimeoutSweeper } from './timeout-sweeper';

/**
 * Where a Redis component gets its client: a URL it connects itself, or a client the caller owns (a
 * single-node client, or a cluster client from `createCluster()`).
 */
export interface ClientSource {
  readonly url?: string;
  readonly client?: RedisClientLike | RedisClusterLike;
}

/**
 * The client of one Redis component (store, rate limiter, circuit state) and the rules every round trip
 * follows: wait for the first connection, give up after the operation timeout, and report failures as
 * {@link StoreError}. Each component keeps its own breaker policy on top.
 */
export class RedisConnection {
  readonly client: RedisClientLike;
  readonly #owned: boolean;
  readonly #timeouts: TimeoutSweeper;
  #connecting: Promise<unknown> | undefined;
  #closed = false;

  /** @throws TypeError unless exactly one of `url` (a redis:// or rediss:// URL) and `client` is given. */
  constructor(source: ClientSource, timeoutMs: number) {
    const { url, client } = source;
    if ((url === undefined) === (client === undefined)) {
      throw optionError('url or client', 'exactly one of a Redis URL or a node-redis client', { url, client });
    }
    this.#timeouts = new TimeoutSweeper(timeoutMs);
    if (url === undefined) {
      // A cluster client is used through the adapter, which routes each command to its key's master.
      this.client = isClusterClient(client) ? new ClusterClientAdapter(client) : (client as RedisClientLike);
      this.#owned = false;
      return;
    }
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) throw optionError('url', 'a redis:// or rediss:// URL', url);
    this.client = createOwnedClient(url, timeoutMs * 4);
    this.#owned = true;
    // Without a listener node-redis would crash the process on a connection error.
    this.client.on('error', () => {});
    this.#connecting = this.client.connect().finally(() => (this.#connecting = undefined));
    this.#connecting.catch(() => {});
  }

  /**
   * One round trip, bounded by the operation timeout. An operation that times out while the first
   * connection is still being made is never sent afterwards: its caller was told it failed, and a late
   * write could overwrite a newer value or charge a quota twice. After {@link close} every operation
   * fails, also on a client passed in (which stays open for its owner).
   */
  async send<T>(operation: string, key: string | undefined, run: (client: RedisClientLike) => Promise<T>): Promise<T> {
    let abandoned = false;
    try {
      if (this.#closed) throw new Error('the connection was closed');
      const sent =
        this.#connecting === undefined
          ? run(this.client)
          : this.#connecting.then(() => (abandoned ? Promise.reject(new Error('abandoned after timeout')) : run(this.client)));
      return await this.#timeouts.guard(sent, operation, key);
    } catch (error) {
      abandoned = true;
      throw toStoreError(error, operation, key);
    }
  }

  /** Closes the client if this connection opened it (a client passed in is left open). Never waits on a Redis that is down. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#timeouts.stop();
    if (this.#owned) await closeClient(this.client);
  }
}

/** Wraps a driver error as a {@link StoreError} (one already is passes through). */
export function toStoreError(error: unknown, operation: string, key: string | undefined): StoreError {
  if (error instanceof StoreError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError(operation, key, `Redis \`${operation}\` failed: ${detail}`, { cause: error });
}

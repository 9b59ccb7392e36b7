import { assertKnownOptions } from '../core/validate';
import type { BlobStore } from '../ports/blob-store';
import { COMMAND_OPTIONS } from './connection';
import { CONNECTION_OPTIONS, RedisExecutor, type RedisConnectionOptions } from './redis-executor';

/** Options of {@link RedisBlobStore}: the connection options every Redis class shares (`operationTimeout` defaults to `'2s'`). */
export type RedisBlobStoreOptions = RedisConnectionOptions;

/**
 * A {@link BlobStore} in Redis: bytes under a key, as base64 text so that any client and RESP mode reads
 * them back intact. For index snapshots that several instances share (`saveSnapshot` in
 * `cachet/retrieval`).
 * @example
 * const blobs = new RedisBlobStore({ url: process.env.REDIS_URL });
 * await saveSnapshot(index, blobs, 'faq:index');
 */
export class RedisBlobStore implements BlobStore {
  readonly #redis: RedisExecutor;

  constructor(options: RedisBlobStoreOptions) {
    assertKnownOptions('RedisBlobStore', options, CONNECTION_OPTIONS);
    this.#redis = new RedisExecutor(options, { operationTimeout: '2s', owner: 'RedisBlobStore' });
  }

  async getBlob(key: string): Promise<Uint8Array | undefined> {
    const text = await this.#redis.run('get', key, (client) =>
      client.sendCommand<string | null>(['GET', key], COMMAND_OPTIONS),
    );
    return text === null || text === undefined ? undefined : Buffer.from(text, 'base64');
  }

  async setBlob(key: string, bytes: Uint8Array): Promise<void> {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    await this.#redis.run('set', key, (client) => client.sendCommand(['SET', key, text], COMMAND_OPTIONS));
  }

  /** Closes the client if this store created it (from `url`). */
  close(): Promise<void> {
    return this.#redis.close();
  }
}

/**
 * Bytes under a key, shared by every process that uses the same store: an index snapshot built once
 * and loaded by every instance. Implementation: `RedisBlobStore` (`cachet/redis`).
 */
export interface BlobStore {
  /** The bytes stored under `key`, or `undefined` when there are none. */
  getBlob(key: string): Promise<Uint8Array | undefined>;
  /** Stores `bytes` under `key`, replacing what was there. */
  setBlob(key: string, bytes: Uint8Array): Promise<void>;
}

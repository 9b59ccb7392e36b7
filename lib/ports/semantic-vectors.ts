/**
 * One cached question of the semantic cache: the question's text, its L2-normalised embedding, and the
 * exact key of the entry that answers it. `expiresAt` is the entry's expiry (epoch milliseconds): a record
 * lives no longer than its entry.
 */
export interface VectorRecord {
  readonly key: string;
  readonly question: string;
  readonly vector: Float32Array;
  readonly expiresAt: number;
}

/**
 * The semantic cache's questions kept beside a store's entries, so that every instance sharing the store
 * shares them: one hash per partition (`partitionKey`, a full key made by the cache). `RedisStore` has one
 * (and `TieredStore` delegates to it); a store without it keeps the questions in each cache's memory only.
 */
export interface SemanticVectors {
  /** Stores `record` in `partitionKey` and announces it to every instance (see {@link subscribe}). */
  add(partitionKey: string, record: VectorRecord): Promise<void>;
  /** Every live record of the partition. */
  load(partitionKey: string): Promise<VectorRecord[]>;
  /** Removes the record of `key` from the partition (its entry was found gone). */
  remove(partitionKey: string, key: string): Promise<void>;
  /** Calls `listener` with every record added afterwards by any instance; resolves a function that stops it. */
  subscribe(listener: (partitionKey: string, record: VectorRecord) => void): Promise<() => void>;
}

import type { VectorRecord } from '../ports/semantic-vectors';
import { createVectorIndex } from '../semantic/index-kind';
import type { VectorIndex } from '../semantic/vector-index';
import type { MethodRuntime } from './method-runtime';
import type { ResolvedSemantic } from './semantic-options';

/** One partition's cached questions. */
export interface Partition {
  /** Flat, or an approximate graph (`semantic.index`). */
  readonly records: VectorIndex<VectorRecord>;
  /** Set while the shared store's records of the partition are being read. */
  loading: Promise<void> | undefined;
}

/**
 * The cached questions of one method, per partition, at most `maxEntries` in all (the oldest go first).
 * With a store that shares vectors (`store.vectors`, Redis), each partition is read from it on its first
 * lookup, new questions are written beside their entries, and other instances' additions arrive as notices.
 * A failure of the shared store is counted (`storeErrors`) and reported (`error`), never thrown.
 */
export class SemanticPartitions {
  readonly #partitions = new Map<string, Partition>();
  /** Every record, oldest first: `partitionKey \0 key`. */
  readonly #order = new Map<string, VectorRecord & { readonly partitionKey: string }>();
  #subscribed: Promise<unknown> | undefined;

  constructor(
    private readonly rt: MethodRuntime,
    private readonly options: Pick<ResolvedSemantic, 'index' | 'maxEntries'>,
  ) {}

  /** Records `record` here and in the shared store (announced to every instance); resolves once the store has it. */
  async add(partitionKey: string, record: VectorRecord): Promise<void> {
    this.#insert(partitionKey, record);
    const vectors = this.rt.store.vectors;
    if (vectors !== undefined)
      await vectors.add(partitionKey, record).catch((error) => this.#failed(error, 'semantic add', record.key));
  }

  /** Forgets the question answered by `key`; with `shared`, in the shared store too. */
  drop(partitionKey: string, key: string, shared: boolean): void {
    this.#order.delete(`${partitionKey}\0${key}`);
    this.#partitions.get(partitionKey)?.records.remove(key);
    const vectors = this.rt.store.vectors;
    if (shared && vectors !== undefined) {
      void vectors.remove(partitionKey, key).catch((error) => this.#failed(error, 'semantic remove', key));
    }
  }

  /** The partition, read from the shared store on its first lookup in this process. */
  async open(partitionKey: string): Promise<Partition> {
    let partition = this.#partitions.get(partitionKey);
    const vectors = this.rt.store.vectors;
    if (partition === undefined) {
      partition = this.#newPartition();
      this.#partitions.set(partitionKey, partition);
      if (vectors !== undefined) {
        partition.loading = this.#load(partitionKey, partition);
      }
    }
    if (partition.loading !== undefined) await partition.loading;
    return partition;
  }

  #newPartition(): Partition {
    return { records: createVectorIndex(this.options.index), loading: undefined };
  }

  async #load(partitionKey: string, partition: Partition): Promise<void> {
    const vectors = this.rt.store.vectors!;
    try {
      // Subscribe first: a record added while the partition is read then arrives one way or the other.
      await (this.#subscribed ??= vectors
        .subscribe((key, record) => {
          const known = this.#partitions.get(key);
          if (known === undefined) return;
          if (!known.records.has(record.key)) this.rt.counters.semanticNotices++;
          this.#insert(key, record);
        })
        .catch((error: unknown) => {
          this.#subscribed = undefined;
          throw error;
        }));
      const records = await vectors.load(partitionKey);
      for (const record of records) if (!partition.records.has(record.key)) this.#insert(partitionKey, record);
    } catch (error) {
      // Read again on the next lookup.
      this.#partitions.delete(partitionKey);
      this.#failed(error, 'semantic load', partitionKey);
    } finally {
      partition.loading = undefined;
    }
  }

  #failed(error: unknown, operation: string, key: string): void {
    this.rt.counters.storeErrors++;
    if (this.rt.events.has('error')) this.rt.events.emit('error', { method: this.rt.method, key, operation, error });
  }

  #insert(partitionKey: string, record: VectorRecord): void {
    let partition = this.#partitions.get(partitionKey);
    if (partition === undefined) this.#partitions.set(partitionKey, (partition = this.#newPartition()));
    const id = `${partitionKey}\0${record.key}`;
    this.#order.delete(id);
    partition.records.add(record);
    this.#order.set(id, { ...record, partitionKey });
    while (this.#order.size > this.options.maxEntries) {
      const [oldest, item] = this.#order.entries().next().value as [string, VectorRecord & { partitionKey: string }];
      this.#order.delete(oldest);
      this.#partitions.get(item.partitionKey)?.records.remove(item.key);
    }
  }
}

import { encodeValueForKey } from '../keys/canonical';
import { digest } from '../keys/digest';
import type { CacheEntry } from '../ports/cache-store';
import type { VectorRecord } from '../ports/semantic-vectors';
import type { MethodRuntime } from './method-runtime';
import type { ResolvedSemantic } from './semantic-options';

/** A call's question: its text, its partition's key, and (once embedded) its normalised vector. */
export interface SemanticQuery {
  readonly text: string;
  readonly partitionKey: string;
  vector?: Float32Array;
}

/** A cached question that answers a query. */
export interface SemanticMatch {
  readonly record: VectorRecord;
  readonly entry: CacheEntry;
  readonly similarity: number;
}

/** Candidates above the threshold tried in turn (nearest first) when guards or `verify` refuse. */
const MAX_CANDIDATES = 8;

interface Partition {
  readonly records: Map<string, VectorRecord>;
  /** Set while the shared store's records of the partition are being read. */
  loading: Promise<void> | undefined;
}

/**
 * The semantic index of one cached method: per partition, the cached questions (L2-normalised vectors)
 * and the exact keys of their answers, at most `maxEntries` in all (the oldest go first). With a store
 * that shares vectors (`store.vectors`, Redis), each partition is read from it on its first lookup, new
 * questions are written beside their entries, and other instances' additions arrive as notices.
 * A question whose entry is found gone (expired, invalidated, cleared) is dropped here and in the store.
 */
export class SemanticIndex {
  readonly #partitions = new Map<string, Partition>();
  /** Every record, oldest first: `partitionKey \0 key`. */
  readonly #order = new Map<string, VectorRecord & { readonly partitionKey: string }>();
  #subscribed: Promise<unknown> | undefined;

  constructor(
    private readonly rt: MethodRuntime,
    private readonly options: ResolvedSemantic,
  ) {}

  /** The question of a call, or `undefined` when it asks none (the lookup is skipped). Throws what `text` or `partition` throw. */
  queryOf(self: unknown, args: unknown[]): SemanticQuery | undefined {
    const text = this.options.text.apply(self, args);
    if (text === undefined) return undefined;
    if (typeof text !== 'string')
      throw new TypeError(`semantic.text of ${this.rt.method} must return a string or undefined`);
    if (text.trim() === '') return undefined;
    const partition: unknown = this.options.partition.apply(self, args);
    const identity = encodeValueForKey([this.options.embed.model, partition === undefined ? null : partition]);
    return { text, partitionKey: `${this.rt.keys.base}sem:${digest(identity)}` };
  }

  /**
   * Embeds the query and finds the nearest cached question of its partition whose entry still lives, at
   * least `threshold` alike, that the guards and `verify` accept; `undefined` when there is none.
   */
  async find(query: SemanticQuery): Promise<SemanticMatch | undefined> {
    const { rt, options } = this;
    const started = rt.clock.now();
    const [raw] = await options.embed.embed([query.text]);
    rt.counters.embeddings++;
    rt.counters.embedMs += rt.clock.now() - started;
    if (!(raw instanceof Float32Array) || raw.length === 0) throw new TypeError(`semantic.embed returned no vector`);
    const vector = normalised(raw);
    query.vector = vector;
    const partition = await this.#partition(query.partitionKey);
    const now = rt.clock.now();
    const candidates: { record: VectorRecord; similarity: number }[] = [];
    for (const record of partition.records.values()) {
      if (record.expiresAt <= now) {
        this.#drop(query.partitionKey, record.key, false);
        continue;
      }
      if (record.vector.length !== vector.length) continue;
      const similarity = dot(vector, record.vector);
      if (similarity >= options.threshold) candidates.push({ record, similarity });
    }
    candidates.sort((a, b) => b.similarity - a.similarity);
    for (const { record, similarity } of candidates.slice(0, MAX_CANDIDATES)) {
      if (!this.#guardsAgree(query.text, record.question)) continue;
      if (options.verify !== undefined && !(await options.verify(query.text, record.question))) continue;
      const entry = await rt.store.get(record.key);
      if (entry === undefined || (entry.freshUntil !== undefined && entry.freshUntil <= rt.clock.now())) {
        if (entry === undefined) this.#drop(query.partitionKey, record.key, true);
        continue;
      }
      return { record, entry, similarity };
    }
    return undefined;
  }

  /**
   * Records that `key` now answers `query` for `ttlMs`: here, and in the shared store (announced to every
   * instance). Resolves once the shared store has it, so that a caller's answer can be found from any
   * instance once the caller has it; never rejects (a failure is counted and reported).
   */
  async add(query: SemanticQuery, key: string, ttlMs: number): Promise<void> {
    if (query.vector === undefined) return;
    const record: VectorRecord = {
      key,
      question: query.text,
      vector: query.vector,
      expiresAt: this.rt.clock.now() + ttlMs,
    };
    this.#insert(query.partitionKey, record);
    const vectors = this.rt.store.vectors;
    if (vectors !== undefined)
      await vectors.add(query.partitionKey, record).catch((error) => this.#failed(error, 'semantic add', key));
  }

  #guardsAgree(query: string, candidate: string): boolean {
    for (const guard of this.options.guards) if (guard(query, candidate) !== undefined) return false;
    return true;
  }

  #insert(partitionKey: string, record: VectorRecord): void {
    let partition = this.#partitions.get(partitionKey);
    if (partition === undefined)
      this.#partitions.set(partitionKey, (partition = { records: new Map(), loading: undefined }));
    const id = `${partitionKey}\0${record.key}`;
    this.#order.delete(id);
    partition.records.set(record.key, record);
    this.#order.set(id, { ...record, partitionKey });
    while (this.#order.size > this.options.maxEntries) {
      const [oldest, item] = this.#order.entries().next().value as [string, VectorRecord & { partitionKey: string }];
      this.#order.delete(oldest);
      this.#partitions.get(item.partitionKey)?.records.delete(item.key);
    }
  }

  #drop(partitionKey: string, key: string, shared: boolean): void {
    this.#order.delete(`${partitionKey}\0${key}`);
    this.#partitions.get(partitionKey)?.records.delete(key);
    const vectors = this.rt.store.vectors;
    if (shared && vectors !== undefined) {
      void vectors.remove(partitionKey, key).catch((error) => this.#failed(error, 'semantic remove', key));
    }
  }

  /** The partition, read from the shared store on its first lookup in this process. */
  async #partition(partitionKey: string): Promise<Partition> {
    let partition = this.#partitions.get(partitionKey);
    const vectors = this.rt.store.vectors;
    if (partition === undefined) {
      partition = { records: new Map(), loading: undefined };
      this.#partitions.set(partitionKey, partition);
      if (vectors !== undefined) {
        partition.loading = this.#load(partitionKey, partition);
      }
    }
    if (partition.loading !== undefined) await partition.loading;
    return partition;
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
}

/** `vector` scaled to length 1 (a copy; the embedder's array is left alone). */
function normalised(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += (vector[i] as number) * (vector[i] as number);
  const out = new Float32Array(vector.length);
  if (sum === 0) return out;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) out[i] = (vector[i] as number) * scale;
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

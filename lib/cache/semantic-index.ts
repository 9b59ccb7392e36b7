import { encodeValueForKey } from '../keys/canonical';
import { digest } from '../keys/digest';
import type { CacheEntry } from '../ports/cache-store';
import type { VectorRecord } from '../ports/semantic-vectors';
import type { GuardName, GuardRefusal } from '../semantic/guards';
import type { MethodRuntime } from './method-runtime';
import type { ResolvedSemantic } from './semantic-options';
import { normalised } from '../semantic/embedder';
import { createVectorIndex } from '../semantic/index-kind';
import type { VectorIndex } from '../semantic/vector-index';

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

/** One cached question of the partition, as {@link Cache.explainSemantic} judges it against the call's. */
export interface SemanticCandidate {
  /** The cached question, and the key of the entry that answers it. */
  readonly question: string;
  readonly key: string;
  /** Cosine similarity to the question asked. */
  readonly similarity: number;
  /**
   * What refuses it, in the lookup's order: `threshold` (below it), a guard (`numbers`, `negation`, `quotes`,
   * `entities`), `verify`, or its entry: `gone` (expired, invalidated) or `stale`. Absent: it answers.
   */
  readonly refusedBy?: 'threshold' | GuardName | 'verify' | 'gone' | 'stale';
  /** With a guard's refusal: what the guard read on each side. */
  readonly refusal?: GuardRefusal;
}

/** What a semantic lookup of a call would do, from {@link Cache.explainSemantic}. */
export interface SemanticExplanation {
  /** `namespace:Class.method`. */
  readonly method: string;
  /** The question the call asks; `undefined` when it asks none (`text` returned `undefined`): no lookup. */
  readonly question: string | undefined;
  /** The key of the call's partition (only its questions are compared). */
  readonly partition: string | undefined;
  readonly threshold: number;
  /**
   * The nearest cached questions of the partition (at most 8), nearest first, each with what refuses it;
   * the first without `refusedBy` is the one a lookup would serve (`served`).
   */
  readonly candidates: readonly SemanticCandidate[];
  /** The candidate a lookup would serve now, if any. */
  readonly served: SemanticCandidate | undefined;
}

/** Candidates above the threshold tried in turn (nearest first) when guards or `verify` refuse. */
const MAX_CANDIDATES = 8;

interface Partition {
  /** Flat, or an approximate graph (`semantic.index`). */
  readonly records: VectorIndex<VectorRecord>;
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
    const vector = await this.#embed(query);
    const partition = await this.#partition(query.partitionKey);
    const now = rt.clock.now();
    const nearest = partition.records.nearest(vector, MAX_CANDIDATES, (record) => {
      if (record.expiresAt > now) return true;
      this.#drop(query.partitionKey, record.key, false);
      return false;
    });
    // Similarities are exact (an approximate index only proposes): the threshold means what it means flat.
    for (const { record, similarity } of nearest) {
      if (similarity < options.threshold) break;
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

  /** {@link explain} for a call of the method, from its arguments. Throws what `text` or `partition` throw. */
  async explainCall(self: unknown, args: unknown[]): Promise<SemanticExplanation> {
    const head = { method: this.rt.method, threshold: this.options.threshold };
    const query = this.queryOf(self, args);
    if (query === undefined)
      return { ...head, question: undefined, partition: undefined, candidates: [], served: undefined };
    return { ...head, question: query.text, ...(await this.explain(query)) };
  }

  /**
   * What {@link find} would do for `query`, candidate by candidate, without serving, counting a lookup or
   * changing the index: it embeds the question (counted in `embeddings`), reads the partition if this
   * process has not, and asks `verify` about every candidate at or above the threshold that the guards pass.
   */
  async explain(query: SemanticQuery): Promise<Omit<SemanticExplanation, 'method' | 'question' | 'threshold'>> {
    const { rt, options } = this;
    const vector = await this.#embed(query);
    const partition = await this.#partition(query.partitionKey);
    const now = rt.clock.now();
    const nearest = partition.records.nearest(vector, MAX_CANDIDATES, (record) => record.expiresAt > now);
    const candidates: SemanticCandidate[] = [];
    for (const { record, similarity } of nearest) {
      const candidate = { question: record.question, key: record.key, similarity };
      if (similarity < options.threshold) {
        candidates.push({ ...candidate, refusedBy: 'threshold' });
        continue;
      }
      const refusal = this.#refusal(query.text, record.question);
      if (refusal !== undefined) {
        candidates.push({ ...candidate, refusedBy: refusal.guard, refusal });
        continue;
      }
      if (options.verify !== undefined && !(await options.verify(query.text, record.question))) {
        candidates.push({ ...candidate, refusedBy: 'verify' });
        continue;
      }
      const entry = await rt.store.get(record.key);
      if (entry === undefined) candidates.push({ ...candidate, refusedBy: 'gone' });
      else if (entry.freshUntil !== undefined && entry.freshUntil <= rt.clock.now())
        candidates.push({ ...candidate, refusedBy: 'stale' });
      else candidates.push(candidate);
    }
    return {
      partition: query.partitionKey,
      candidates,
      served: candidates.find((candidate) => candidate.refusedBy === undefined),
    };
  }

  /** Embeds the query's text (counted), keeps its normalised vector on the query, and returns it. */
  async #embed(query: SemanticQuery): Promise<Float32Array> {
    const { rt, options } = this;
    const started = rt.clock.now();
    const [raw] = await options.embed.embed([query.text]);
    rt.counters.embeddings++;
    rt.counters.embedMs += rt.clock.now() - started;
    if (!(raw instanceof Float32Array) || raw.length === 0) throw new TypeError(`semantic.embed returned no vector`);
    const vector = normalised(raw);
    query.vector = vector;
    return vector;
  }

  /** Counts a semantic hit of the call keyed `key` and reports it (`semanticHit`); the caller serves `match`. */
  served(query: SemanticQuery, match: SemanticMatch, key: string): void {
    const rt = this.rt;
    rt.counters.semanticHits++;
    if (rt.events.has('semanticHit')) {
      rt.events.emit('semanticHit', {
        method: rt.method,
        key,
        question: query.text,
        matched: { question: match.record.question, key: match.record.key },
        similarity: match.similarity,
      });
    }
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
    return this.#refusal(query, candidate) === undefined;
  }

  #refusal(query: string, candidate: string): GuardRefusal | undefined {
    for (const guard of this.options.guards) {
      const refusal = guard(query, candidate);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
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

  #drop(partitionKey: string, key: string, shared: boolean): void {
    this.#order.delete(`${partitionKey}\0${key}`);
    this.#partitions.get(partitionKey)?.records.remove(key);
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
}

import { encodeValueForKey } from '../keys/canonical';
import { digest } from '../keys/digest';
import type { VectorRecord } from '../ports/semantic-vectors';
import type { GuardRefusal } from '../semantic/guards';
import type { MethodRuntime } from './method-runtime';
import type { ResolvedSemantic } from './semantic-options';
import { normalised } from '../semantic/embedder';
import { SemanticPartitions } from './semantic-partitions';
import type { SemanticCandidate, SemanticExplanation, SemanticMatch, SemanticQuery } from './semantic-types';

// The types live in semantic-types.ts; this one is still named from here by the cache.

/** Candidates above the threshold tried in turn (nearest first) when guards or `verify` refuse. */
const MAX_CANDIDATES = 8;

/**
 * The semantic index of one cached method: per partition, the cached questions (L2-normalised vectors)
 * and the exact keys of their answers, kept by {@link SemanticPartitions}. A lookup embeds the call's
 * question and tries the nearest cached ones through the threshold, the guards and `verify`.
 * A question whose entry is found gone (expired, invalidated, cleared) is dropped here and in the store.
 */
export class SemanticIndex {
  readonly #partitions: SemanticPartitions;

  constructor(
    private readonly rt: MethodRuntime,
    private readonly options: ResolvedSemantic,
  ) {
    this.#partitions = new SemanticPartitions(rt, options);
  }

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
    const partition = await this.#partitions.open(query.partitionKey);
    const now = rt.clock.now();
    const nearest = partition.records.nearest(vector, MAX_CANDIDATES, (record) => {
      if (record.expiresAt > now) return true;
      this.#partitions.drop(query.partitionKey, record.key, false);
      return false;
    });
    // Similarities are exact (an approximate index only proposes): the threshold means what it means flat.
    for (const { record, similarity } of nearest) {
      if (similarity < options.threshold) break;
      if (!this.#guardsAgree(query.text, record.question)) continue;
      if (options.verify !== undefined && !(await options.verify(query.text, record.question))) continue;
      const entry = await rt.store.get(record.key);
      if (entry === undefined || (entry.freshUntil !== undefined && entry.freshUntil <= rt.clock.now())) {
        if (entry === undefined) this.#partitions.drop(query.partitionKey, record.key, true);
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
    const partition = await this.#partitions.open(query.partitionKey);
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
    await this.#partitions.add(query.partitionKey, record);
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
}

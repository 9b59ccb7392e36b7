import type { CacheEntry } from '../ports/cache-store';
import type { VectorRecord } from '../ports/semantic-vectors';
import type { GuardName, GuardRefusal } from '../semantic/guards';

/** The shapes a semantic lookup passes around and {@link Cache.explainSemantic} returns. */

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

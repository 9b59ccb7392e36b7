/** Payload of `hit` and `miss` events. */
export interface LookupEvent {
  /** `namespace:Class.method`. */
  readonly method: string;
  readonly key: string;
}

/** Payload of `fill` events: the method ran for the cache. */
export interface FillEvent extends LookupEvent {
  /** How long the method took. */
  readonly durationMs: number;
  /** Whether the result was stored (`unless`, `complete` or a TTL of 0 say no). */
  readonly stored: boolean;
}

/** Payload of `error` events: a store operation failed and the call went on without it. */
export interface CacheErrorEvent extends LookupEvent {
  /** `get`, `set`, `lease`, ... */
  readonly operation: string;
  readonly error: unknown;
}

/** Payload of `invalidate` events: entries removed on purpose (by tag, key or prefix). */
export interface InvalidateEvent {
  readonly tags: readonly string[];
  readonly keys: readonly string[];
  readonly prefix?: string;
  /** Entries removed. */
  readonly removed: number;
}

/** Payload of `semanticHit` events: an exact miss served the answer of a cached question that means the same. */
export interface SemanticHitEvent extends LookupEvent {
  /** The question asked. */
  readonly question: string;
  /** The cached question whose answer was served, and its entry's key. */
  readonly matched: { readonly question: string; readonly key: string };
  /** Cosine similarity of the two questions' embeddings. */
  readonly similarity: number;
}

/** Events of a {@link Cache}. */
export interface CacheEvents {
  invalidate: (event: InvalidateEvent) => void;
  hit: (event: LookupEvent) => void;
  semanticHit: (event: SemanticHitEvent) => void;
  miss: (event: LookupEvent) => void;
  fill: (event: FillEvent) => void;
  error: (event: CacheErrorEvent) => void;
}

/** What a {@link FillScope} is told about the fill it wraps. */
export interface FillInfo {
  /** `namespace:Class.method`. */
  readonly method: string;
  readonly namespace: string;
  readonly key: string;
}

/**
 * Runs one fill's method call (`run`) and returns what it returns: the hook tracing uses to open a span
 * that the method's own calls nest under (`cachet/otel`). It must call `run` exactly once.
 */
export type FillScope = <T>(fill: FillInfo, run: () => Promise<T>) => Promise<T>;

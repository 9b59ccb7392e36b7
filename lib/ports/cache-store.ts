import type { SemanticVectors } from './semantic-vectors';

/** What a store hands back on a hit. The memory store returns its own node, so a hit allocates nothing. */
export interface CacheEntry<T = unknown> {
  readonly value: T;
  /** Epoch milliseconds after which the entry is no longer served. */
  readonly expiresAt: number;
  /**
   * Epoch milliseconds after which the entry is stale: kept (until `expiresAt`) only to be served while
   * it is refreshed, or when the refresh fails. Absent, it is fresh until `expiresAt`.
   */
  readonly freshUntil?: number;
  /**
   * Reserved for the cache: a resolved promise of `value`, made on the entry's first hit and returned by
   * every later one, so that a memory hit allocates nothing. Stores leave it alone.
   */
  settled?: Promise<unknown>;
}

/**
 * An entry as a store holds it, read to look inside the cache (`cache.peek`, `cache.inspect`): no
 * lookup is counted, no recency is touched where the store can avoid it, nothing is filled.
 */
export interface StoredEntry {
  readonly value: unknown;
  /** Epoch milliseconds after which the entry is no longer served. */
  readonly expiresAt: number;
  /** Epoch milliseconds after which the entry is stale (absent: fresh until `expiresAt`). */
  readonly freshUntil?: number;
  /** Epoch milliseconds at which this store stored it, when the store knows (the memory store does). */
  readonly storedAt?: number;
  /** Bytes of the value encoded with the value codec, as Redis keeps it (without the expiry header). */
  readonly size: number;
  /** Name of the store that holds it: `memory`, `redis`. */
  readonly store: string;
  /** For a `TieredStore`: whether this instance's memory tier holds a live copy (a lookup would be served it). */
  readonly memoryCopy?: boolean;
}

/** A value, or a promise of it: the memory store answers synchronously so a memory hit costs no extra tick. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * A claim, held by one process, to run the method that fills a key. While it is held, other processes
 * wait for the value instead of calling the method too.
 */
export interface FillLease {
  /** Gives the lease up and tells waiters to look for the value. Safe to call twice. */
  release(): Promise<void>;
}

/** What a waiter learned while another process held the lease. */
export type FillWait =
  /** The holder stored the value. */
  | { readonly status: 'filled'; readonly entry: CacheEntry }
  /** The lease is gone but no value was stored (the holder failed, declined to store it, or died). */
  | { readonly status: 'released' }
  /** The wait's bound ran out while the lease was still held. */
  | { readonly status: 'timeout' }
  /**
   * Nobody will give the lease back soon: its holder announced it could not (its node failed), or the
   * store knows the lease's node to be down. The waiter decides at once, without the lease.
   */
  | { readonly status: 'abandoned' };

/**
 * Coordinates fills between processes that share a store. Stores that only live in one process (memory)
 * have none; in-process single flight is the cache's own job.
 */
export interface FillCoordinator {
  /** Tries to take the lease of `key`. Resolves `undefined` when another process holds it. */
  acquire(key: string, leaseMs: number): Promise<FillLease | undefined>;
  /**
   * Waits until the lease of `key` is released or a value that `accept` takes appears (by default any;
   * a refresh accepts only a fresh one), at most `timeoutMs`.
   */
  waitForFill(key: string, timeoutMs: number, accept?: (entry: CacheEntry) => boolean): Promise<FillWait>;
}

/**
 * Which entries carry which tags, and when things were last invalidated, kept beside a store's entries:
 * {@link MemoryStore} and `RedisStore` have one. Tag keys are full keys (`<prefix>:tag:<tag>`), made by
 * the cache.
 *
 * Invalidations are stamped on one counter per cache (`clockKey`): a fill reads it before the method
 * runs ({@link TagIndex.mark}) and, once it has stored, asks whether its key, its namespace or one of its
 * tags was stamped since ({@link TagIndex.stampedSince}). If so, an invalidation ran during the fill and
 * may have missed the value being stored, so the fill removes it. Only fills that raced an invalidation
 * of their own key, namespace or tags are affected.
 */
export interface TagIndex {
  /** Records that `key` carries `tagKeys`, for at least `ttlMs` (the entry's lifetime). */
  tag(key: string, tagKeys: readonly string[], ttlMs: number): MaybePromise<void>;
  /** Deletes every entry carrying any of `tagKeys`, and the tags themselves; resolves how many entries went. */
  invalidate(tagKeys: readonly string[]): Promise<number>;
  /** The invalidation counter under `clockKey` now (0 before the first invalidation). */
  mark(clockKey: string): MaybePromise<number>;
  /**
   * Moves the counter under `clockKey` and stamps each of `names` (tag keys, entry keys, key prefixes)
   * with its new value; called before the invalidation itself. A stamp is kept for a day: a fill that
   * runs longer is not protected.
   */
  stamp(clockKey: string, names: readonly string[]): MaybePromise<void>;
  /** Whether any of `names` was stamped after the counter read `mark`. */
  stampedSince(clockKey: string, names: readonly string[], mark: number): MaybePromise<boolean>;
  /**
   * The tag keys under `tagPrefix` that `key` carries, sorted; for looking inside the cache, not for a
   * hot path. With `candidates`, only those are checked (the tags the entry's method gives it); without,
   * every tag under the prefix may be (Redis walks its tag sets).
   */
  tagsOf?(key: string, tagPrefix: string, candidates?: readonly string[]): MaybePromise<readonly string[]>;
}

/** What {@link CacheStore.setIfCurrent} checks: that no name was stamped on `clockKey` after `mark`. */
export interface CurrencyCheck {
  readonly clockKey: string;
  readonly names: readonly string[];
  readonly mark: number;
}

/** How long an invalidation stamp is kept: the longest fill it protects. */
export const STAMP_TTL_MS = 86_400_000;

/**
 * Counters of one cached method (or of a whole cache, summed). Every call that consults the cache (a
 * lookup) is a hit or a miss: `hits + misses` is the number of lookups. A miss either runs the method (a
 * fill) or shares the run of another caller, in this process or another (`coalesced`).
 */
export interface CacheCounters {
  /** Lookups answered from the store. */
  hits: number;
  /** Lookups that found nothing in the store, including those then answered by another caller's fill. */
  misses: number;
  /** Method runs whose result was produced for the cache (stored or not). */
  fills: number;
  /** Misses answered by another caller's fill, in this process or another, without running the method. */
  coalesced: number;
  /** Calls where `when` said no and the cache was not consulted. */
  bypassed: number;
  /** Store operations that failed or timed out (the call went on without the store). */
  storeErrors: number;
  /** Stored values that could not be decoded and were treated as misses. */
  decodeErrors: number;
  /** Results not cached because the store cannot keep their value (a function, a cycle, an unregistered class). */
  encodeErrors: number;
  /** Hits served stale while a refresh ran (`staleWhileRevalidate`). */
  stale: number;
  /** Stale values served because the method failed (`staleIfError`). */
  staleOnError: number;
  /** Background refreshes started (`staleWhileRevalidate`, `refreshAhead`). */
  refreshes: number;
  /**
   * Lookups answered by the semantic cache: an exact miss served the stored answer of a question that
   * means the same (`@Cached({ semantic })`). Not counted in `hits` or `misses`.
   */
  semanticHits: number;
  /** Embedding calls made by semantic lookups, and the milliseconds they took together. */
  embeddings: number;
  embedMs: number;
  /**
   * Questions another instance cached that reached this instance's semantic index as notices on the
   * store's notice bus (`cachet:semantic`), after this instance had read their partition: learned without
   * reading the partition again. A question this instance already held is not counted.
   */
  semanticNotices: number;
}

/** Counters kept in the store itself, so that every instance's add up; see {@link CacheStore.shareCounters}. */
export interface SharedCounters {
  /** Sends what was counted since the last flush; rejects when the store does not take it (it is kept). */
  flush(): Promise<void>;
  /** Every instance's totals, per `namespace:Class.method`. */
  totals(): Promise<Map<string, CacheCounters>>;
  /** Flushes once more and stops. */
  close(): Promise<void>;
}

/** The figures a store's server reports about itself (Redis's `INFO`), for `cache.report()`. */
export interface StoreInfo {
  readonly usedMemoryBytes: number;
  readonly connectedClients: number;
  readonly totalCommandsProcessed: number;
  /** Keys in every database together. */
  readonly keys: number;
  readonly version: string;
}

/**
 * Where cached values live. Implementations: {@link MemoryStore} (default) and {@link RedisStore}.
 * Errors from a store are the cache's business: it applies its `onStoreError` policy to them.
 */
export interface CacheStore {
  /** A short name for reports and events: `memory`, `redis`. */
  readonly name: string;
  /** Cross-process fill coordination, for stores shared between processes. */
  readonly coordinator?: FillCoordinator;
  /** The live entry, or `undefined` when there is none or it has expired. */
  get(key: string): MaybePromise<CacheEntry | undefined>;
  /** Stores `value` for `ttlMs` milliseconds (> 0); fresh for the first `freshMs` of them when given. */
  set(key: string, value: unknown, ttlMs: number, freshMs?: number): MaybePromise<void>;
  /** Removes the entry; resolves whether there was one. */
  delete(key: string): MaybePromise<boolean>;
  /** Tags of entries, for `@Cached({ tags })` and `cache.invalidateTags()`. */
  readonly tags?: TagIndex;
  /** The semantic cache's questions, shared by every instance of a shared store (`@Cached({ semantic })`). */
  readonly vectors?: SemanticVectors;
  /**
   * Stores like {@link CacheStore.set} and records the entry's `tagKeys` (for `ttlMs`), unless one of
   * `check.names` was stamped after `check.mark`; resolves whether it stored. The memory store and a
   * single Redis do this atomically, so an invalidation either comes after the entry (and removes it) or
   * before (and it is not stored); a cluster checks just before the write. Stores without it get
   * `set`, `tags.tag` and a check after the write.
   */
  setIfCurrent?(
    key: string,
    value: unknown,
    ttlMs: number,
    freshMs: number | undefined,
    tagKeys: readonly string[],
    check: CurrencyCheck,
  ): MaybePromise<boolean>;
  /**
   * The live entry under `key` with its details, without counting, filling or (where the store can)
   * touching its recency; `undefined` when there is none. Its tags come from {@link TagIndex.tagsOf}.
   * Throws `ValueDecodeError` when the key holds something that is not a cachet entry.
   */
  peek?(key: string): Promise<StoredEntry | undefined>;
  /**
   * The keys matching `pattern` (a Redis glob: `*`, `?`, `[...]`, `\\` escapes), in pages of about
   * `count`; in Redis with `SCAN` on every master (never `KEYS`). A key written or removed during the
   * scan may or may not be listed; one may be listed twice when Redis resizes its table meanwhile.
   */
  scan?(pattern: string, count: number): AsyncIterable<readonly string[]>;
  /** Removes every entry whose key starts with `prefix` (in batches, never blocking the store); resolves how many. */
  clear?(prefix: string): MaybePromise<number>;
  /**
   * For stores shared by processes: keeps a cache's counters (`snapshot`, read every `intervalMs`) summed
   * in the store under `prefix`, so that `cache.report()` adds up every instance (`sharedStats`).
   */
  shareCounters?(
    prefix: string,
    snapshot: () => ReadonlyMap<string, Readonly<CacheCounters>>,
    intervalMs: number,
  ): SharedCounters;
  /** The server's own figures, for `cache.report()`. */
  info?(): Promise<StoreInfo>;
  /** Releases connections and timers. The store is unusable afterwards. */
  close(): Promise<void>;
}

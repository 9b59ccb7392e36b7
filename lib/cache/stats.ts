/** Counters of one cached method (or of a whole cache, summed). */
export interface CacheCounters {
  /** Calls answered from the store. */
  hits: number;
  /** Calls that found nothing in the store, including those then answered by another caller's fill. */
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
}

/** What {@link Cache.stats} returns. */
export interface CacheStats {
  /** Sum over every method. */
  readonly total: Readonly<CacheCounters> & { readonly hitRate: number };
  /** Per `namespace:Class.method`. */
  readonly methods: Readonly<Record<string, Readonly<CacheCounters> & { readonly hitRate: number }>>;
}

export function newCounters(): CacheCounters {
  return { hits: 0, misses: 0, fills: 0, coalesced: 0, bypassed: 0, storeErrors: 0, decodeErrors: 0, encodeErrors: 0, stale: 0, staleOnError: 0, refreshes: 0 };
}

/** Hits over store lookups (hits + misses); a coalesced call is a miss that did not run the method. */
export function withHitRate(c: CacheCounters): CacheCounters & { hitRate: number } {
  const lookups = c.hits + c.misses;
  return { ...c, hitRate: lookups === 0 ? 0 : c.hits / lookups };
}

export function addCounters(into: CacheCounters, from: CacheCounters): void {
  for (const name of Object.keys(into) as (keyof CacheCounters)[]) into[name] += from[name];
}

import type { CacheCounters } from '../ports/cache-store';

export type { CacheCounters } from '../ports/cache-store';

/**
 * The rates of a set of counters, defined once for stats, reports and the cost ledger:
 * - `hitRate`: lookups answered without running the method, from the store (exactly or semantically) or
 *   from another caller's fill (`(hits + semanticHits + coalesced) / lookups`, where `lookups = hits +
 *   semanticHits + misses`). This is the share of calls the cache saved, the figure the
 *   cost ledger's `hitRate` reports too. A caller who waited for a fill already under way counts, as a
 *   request on a proxy's waiting list does: it cost no model call.
 * - `storeHitRate`: lookups the store answered by their exact key (`hits / lookups`), the store's own
 *   effectiveness. So `hitRate = storeHitRate + (semanticHits + coalesced) / lookups`. Both are 0 before the first lookup.
 */
export interface CacheRates {
  readonly hitRate: number;
  readonly storeHitRate: number;
}

/** Counters with their {@link CacheRates}. */
export type RatedCounters = Readonly<CacheCounters> & CacheRates;

/** What {@link Cache.stats} returns. */
export interface CacheStats {
  /** Sum over every method. */
  readonly total: RatedCounters;
  /** Per `namespace:Class.method`. */
  readonly methods: Readonly<Record<string, RatedCounters>>;
}

export function newCounters(): CacheCounters {
  return {
    hits: 0,
    misses: 0,
    fills: 0,
    coalesced: 0,
    bypassed: 0,
    storeErrors: 0,
    decodeErrors: 0,
    encodeErrors: 0,
    stale: 0,
    staleOnError: 0,
    refreshes: 0,
    semanticHits: 0,
    embeddings: 0,
    embedMs: 0,
    semanticNotices: 0,
  };
}

/** The counters with their rates (see {@link CacheRates}). */
export function withRates(c: CacheCounters): RatedCounters {
  const lookups = c.hits + c.semanticHits + c.misses;
  return {
    ...c,
    hitRate: lookups === 0 ? 0 : (c.hits + c.semanticHits + c.coalesced) / lookups,
    storeHitRate: lookups === 0 ? 0 : c.hits / lookups,
  };
}

export function addCounters(into: CacheCounters, from: CacheCounters): void {
  for (const name of Object.keys(into) as (keyof CacheCounters)[]) into[name] += from[name];
}

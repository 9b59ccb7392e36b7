import type { Clock } from '../core/clock';
import type { Emitter } from '../core/events';
import type { CachetLogger } from '../core/logger';
import type { KeyBuilder } from '../keys/key-builder';
import type { CacheStore } from '../ports/cache-store';
import type { ResolvedFreshness, StoreErrorPolicy } from './cached-options';
import type { CacheEvents, FillScope } from './cache-events';
import type { FillTable } from './fill-table';
import type { MethodLedger } from './method-ledger';
import type { CacheCounters } from './stats';
import type { ResolvedSemantic } from './semantic-options';

/** Everything one cached method needs at call time, resolved once when it is first bound to a cache. */
export interface MethodRuntime {
  /** `namespace:Class.method`. */
  readonly method: string;
  readonly namespace: string;
  readonly store: CacheStore;
  readonly keys: KeyBuilder;
  readonly counters: CacheCounters;
  readonly fills: FillTable;
  readonly events: Emitter<CacheEvents>;
  readonly clock: Clock;
  /** The cache's own logger; `undefined` for the global one (see `setLogger`). */
  readonly logger: CachetLogger | undefined;
  readonly ttlMs: number;
  readonly ttlFn: ((result: unknown) => unknown) | undefined;
  readonly when: ((...args: unknown[]) => boolean) | undefined;
  readonly unless: ((result: unknown) => boolean) | undefined;
  /** Whether a result is whole enough to store; `undefined` when every result is. */
  readonly complete: ((result: unknown) => boolean) | undefined;
  readonly onStoreError: StoreErrorPolicy;
  readonly lock: false | { readonly ttlMs: number; readonly waitMs: number };
  /** Jitter, hot entries, stale serving and refresh ahead; `undefined` when none is set. */
  readonly freshness: ResolvedFreshness | undefined;
  /** Source of randomness for `jitter`. */
  readonly random: () => number;
  /** Tag keys (`<prefix>:tag:<tag>`) of a result; `undefined` when the method has no `tags`. */
  readonly tagKeys: ((result: unknown, args: readonly unknown[]) => readonly string[]) | undefined;
  /**
   * Where invalidations are stamped (`clockKey`), and the names besides the key and tags whose stamps
   * concern this method's fills: its namespace's and its cache's key prefixes (cleared by `cache.clear`).
   */
  readonly invalidation: { readonly clockKey: string; readonly scopes: readonly string[] };
  /** Set only when the method has both a ledger and a `usage` function. */
  readonly ledger: MethodLedger | undefined;
  /** The semantic cache's options; `undefined` for a method without `semantic`. */
  readonly semantic: ResolvedSemantic | undefined;
  /** The cache's fill scope (`Cache.scopeFills`), read when a fill starts; `current` is unset normally. */
  readonly fillScope: { readonly current: FillScope | undefined };
}

import { isValueDecodeError } from '../codec/value-codec';
import { parseDuration } from '../core/duration';
import { StoreError } from '../core/errors';
import type { CacheEntry, FillCoordinator, FillLease } from '../stores/cache-store';
import type { MethodRuntime } from './method-runtime';

/** What {@link MethodStore.coordinate} decided. */
export interface Coordination {
  /** This process holds the fill lease and must release it. */
  readonly lease?: FillLease;
  /** Another process stored the value meanwhile. */
  readonly entry?: CacheEntry;
}

/**
 * One cached method's access to its store under the cache's error policy: writes, leases and the
 * cross-process fill lock, each failure counted and reported, and rethrown only under `throw`. Shared
 * by promise methods ({@link CachedMethod}) and stream methods ({@link CachedStreamMethod}).
 */
export class MethodStore {
  constructor(private readonly rt: MethodRuntime) {}

  /** A failed read: counted as a decode error or a store error (rethrown under `throw`). */
  readFailed(error: unknown, key: string): void {
    if (isDecodeFailure(error)) {
      this.rt.counters.decodeErrors++;
      this.emitError(error, 'get', key);
    } else {
      this.storeFailed(error, 'get', key);
    }
  }

  /**
   * The TTL for a result: the method's, or its `ttl` function's answer, shortened by up to `jitter`;
   * 0 when `unless` says so or `complete` says the result is not whole.
   */
  ttlFor(result: unknown): number {
    const rt = this.rt;
    if (rt.unless !== undefined && rt.unless(result)) return 0;
    if (rt.complete !== undefined && !rt.complete(result)) return 0;
    const ttlMs = rt.ttlFn === undefined ? rt.ttlMs : parseDuration('ttl (returned by the ttl function)', rt.ttlFn(result));
    const jitter = rt.freshness?.jitter ?? 0;
    return jitter === 0 ? ttlMs : Math.max(1, Math.round(ttlMs * (1 - jitter * rt.random())));
  }

  /** How long past its TTL an entry is kept, to be served stale. */
  get staleMs(): number {
    const f = this.rt.freshness;
    return f === undefined ? 0 : Math.max(f.staleWhileRevalidateMs, f.staleIfErrorMs);
  }

  /**
   * Stores a fill's result (`value`; for a stream, its recording), with its tags when the method has
   * some, computed from `result` (for a stream, the chunks). Tags come first: a bad one stores nothing.
   */
  async set(key: string, value: unknown, ttlMs: number, args: readonly unknown[], result: unknown = value, epoch?: string): Promise<void> {
    const { store, tagKeys } = this.rt;
    const tags = tagKeys?.(result, args);
    // An entry that may be served stale lives past its TTL, and records when it stopped being fresh.
    const staleMs = this.staleMs;
    const lifeMs = ttlMs + staleMs;
    await this.safely('set', key, () => (staleMs === 0 ? store.set(key, value, ttlMs) : store.set(key, value, lifeMs, ttlMs)));
    if (tags === undefined || tags.length === 0) return;
    await this.safely('tag', key, () => store.tags!.tag(key, tags, lifeMs));
    // An invalidation that ran while the method did may have taken the tag sets before this key joined
    // them: the value could predate it, so it goes. (Set, tag, then check: an invalidation after the
    // check finds the key in its tag set.)
    if (epoch !== undefined && (await this.epoch()) !== epoch) await this.safely('delete', key, () => store.delete(key));
  }

  /** The tags' invalidation epoch, read before a tagged fill runs; `undefined` when the method has no tags. */
  async epoch(): Promise<string | undefined> {
    const { store, tagKeys, tagEpochKey } = this.rt;
    if (tagKeys === undefined || store.tags?.epoch === undefined) return undefined;
    try {
      return await store.tags.epoch(tagEpochKey);
    } catch {
      // Unknown epoch: the fill stores as it would without tags' protection (the failure is the store's, already bypassed).
      return undefined;
    }
  }

  release(lease: FillLease, key: string): Promise<void> {
    return this.safely('lease', key, () => lease.release());
  }

  /**
   * Takes the cross-process lease, or waits for its holder's value. Returns the value when another
   * process stored it, the lease when this process should fill, or neither when it should fill without
   * one (no lock, the store failed, the wait timed out, or the lease was lost twice).
   */
  async coordinate(key: string, accept: (entry: CacheEntry) => boolean = isFresh(() => this.rt.clock.now())): Promise<Coordination> {
    const { lock, store } = this.rt;
    const coordinator: FillCoordinator | undefined = store.coordinator;
    if (lock === false || coordinator === undefined) return {};
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const lease = await coordinator.acquire(key, lock.ttlMs);
        if (lease !== undefined) {
          // Our miss may predate another process's fill that finished just before we took the lease.
          // A failure here was already counted by the first read; the lease is ours either way.
          const entry = await Promise.resolve(store.get(key)).catch(() => undefined);
          if (entry === undefined || !accept(entry)) return { lease };
          await lease.release();
          return { entry };
        }
        const waited = await coordinator.waitForFill(key, lock.waitMs, accept);
        if (waited.status === 'filled') return accept(waited.entry) ? { entry: waited.entry } : {};
        if (waited.status === 'timeout') return {};
      }
    } catch (error) {
      if (isDecodeFailure(error)) this.rt.counters.decodeErrors++;
      else this.storeFailed(error, 'lease', key);
    }
    return {};
  }

  async safely(operation: string, key: string, run: () => unknown): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.storeFailed(error, operation, key);
    }
  }

  /** Counts and reports a store failure; rethrows it when the policy is `throw`. */
  storeFailed(error: unknown, operation: string, key: string): void {
    this.rt.counters.storeErrors++;
    const storeError =
      error instanceof StoreError ? error : new StoreError(operation, key, describe(operation, error), { cause: error });
    this.emitError(storeError, operation, key);
    if (this.rt.onStoreError === 'throw') throw storeError;
  }

  emitError(error: unknown, operation: string, key: string): void {
    if (this.rt.events.has('error')) this.rt.events.emit('error', { method: this.rt.method, key, operation, error });
  }
}

/** An entry another caller's fill left: it counts only while fresh (a stale one is what we are replacing). */
function isFresh(now: () => number): (entry: CacheEntry) => boolean {
  return (entry) => entry.freshUntil === undefined || entry.freshUntil > now();
}

function isDecodeFailure(error: unknown): boolean {
  return isValueDecodeError(error) || (error instanceof StoreError && isValueDecodeError(error.cause));
}

function describe(operation: string, error: unknown): string {
  return `Cache store \`${operation}\` failed: ${error instanceof Error ? error.message : String(error)}`;
}

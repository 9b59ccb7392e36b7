import { isValueDecodeError, isValueEncodeError, type ValueEncodeError } from '../codec/value-codec';
import { parseDuration } from '../core/duration';
import { StoreError } from '../core/errors';
import { logEvent } from '../core/logger';
import type { CacheEntry, FillCoordinator, FillLease, MaybePromise } from '../ports/cache-store';
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
  /** Whether a refused value, and an entry that did not decode, have been logged: once per method each. */
  #refusalLogged = false;
  #decodeLogged = false;

  constructor(private readonly rt: MethodRuntime) {}

  /** A failed read: counted as a decode error or a store error (rethrown under `throw`). */
  readFailed(error: unknown, key: string): void {
    if (isDecodeFailure(error)) this.decodeFailed(error, key);
    else this.storeFailed(error, 'get', key);
  }

  /**
   * An entry that did not decode (written by another version, or not a stream's recording): a miss,
   * counted, reported as an `error` event, and logged once per method (the counter has the rest).
   */
  decodeFailed(error: unknown, key: string): void {
    this.rt.counters.decodeErrors++;
    this.emitError(error, 'get', key);
    if (this.#decodeLogged) return;
    this.#decodeLogged = true;
    logEvent(
      this.rt.logger,
      'warn',
      { event: 'cachet.decode-failed', ...this.#where(key), err: error },
      `${this.rt.method} read an entry it cannot decode, so it was a miss (logged once; see decodeErrors in stats): ` +
        (error instanceof Error ? error.message : String(error)),
    );
  }

  /**
   * The TTL for a result: the method's, or its `ttl` function's answer, shortened by up to `jitter`;
   * 0 when `unless` says so or `complete` says the result is not whole.
   */
  ttlFor(result: unknown): number {
    const rt = this.rt;
    if (rt.unless !== undefined && rt.unless(result)) return 0;
    if (rt.complete !== undefined && !rt.complete(result)) return 0;
    const ttlMs =
      rt.ttlFn === undefined ? rt.ttlMs : parseDuration('ttl (returned by the ttl function)', rt.ttlFn(result));
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
   * Failures are counted and reported (and rethrown under `throw`, or always when `strict`); a value the
   * store refuses (a `ValueEncodeError`) is never rethrown unless `strict`. Resolves the tag keys used.
   */
  async set(
    key: string,
    value: unknown,
    ttlMs: number,
    args: readonly unknown[],
    options: { readonly result?: unknown; readonly strict?: boolean; readonly mark?: number } = {},
  ): Promise<{ readonly tags: readonly string[]; readonly stored: boolean }> {
    const { store, tagKeys } = this.rt;
    const { result = value, strict = false, mark } = options;
    const tags = tagKeys?.(result, args) ?? NO_TAGS;
    // An entry that may be served stale lives past its TTL, and records when it stopped being fresh.
    const staleMs = this.staleMs;
    const lifeMs = ttlMs + staleMs;
    const freshMs = staleMs === 0 ? undefined : ttlMs;
    if (mark !== undefined && store.setIfCurrent !== undefined) {
      // A fill: stored only if no invalidation of its key, namespace or tags ran since it began.
      const check = { clockKey: this.rt.invalidation.clockKey, names: this.#namesOf(key, tags), mark };
      let stored = false;
      await this.safely(
        'set',
        key,
        async () => void (stored = await store.setIfCurrent!(key, value, lifeMs, freshMs, tags, check)),
        strict,
      );
      return { tags, stored };
    }
    const stored = await this.safely('set', key, () => store.set(key, value, lifeMs, freshMs), strict);
    if (stored && tags.length > 0) await this.safely('tag', key, () => store.tags!.tag(key, tags, lifeMs), strict);
    return { tags, stored };
  }

  /** The names whose invalidation concerns an entry: its key, its namespace and cache prefixes, its tags. */
  #namesOf(key: string, tags: readonly string[]): string[] {
    const { scopes } = this.rt.invalidation;
    return tags.length === 0 ? [key, ...scopes] : [key, ...scopes, ...tags];
  }

  /**
   * The invalidation counter, read before a fill runs; `undefined` when the store keeps none or could not
   * answer (the fill then stores without this protection; the failure was the store's, already bypassed).
   */
  mark(): MaybePromise<number | undefined> {
    const { store, invalidation } = this.rt;
    if (store.tags === undefined) return undefined;
    try {
      const mark = store.tags.mark(invalidation.clockKey);
      // A memory store answers at once; a fill must not wait a tick for it.
      return mark instanceof Promise
        ? mark.catch((error: unknown) => this.#unchecked(error, 'mark', invalidation.clockKey))
        : mark;
    } catch (error) {
      return this.#unchecked(error, 'mark', invalidation.clockKey);
    }
  }

  /** A failed invalidation check: counted and reported, never thrown (the fill goes on; see {@link raced}). */
  #unchecked(error: unknown, operation: string, key: string): undefined {
    try {
      this.storeFailed(error, operation, key);
    } catch {
      // Under `throw` the call still goes on: the value is the method's, only its protection is lost.
    }
    return undefined;
  }

  /**
   * After a fill stored (or declined to store) its value: whether an invalidation of its key, its
   * namespace or one of `tags` ran since `mark`. If so the value may predate it: the entry is removed, and
   * callers who joined the fill must not take its value. (Set, tag, then check: an invalidation after
   * the check finds the key in its tag set, or deletes it by key.)
   *
   * When the check itself fails (the store is failing), the entry is removed all the same, since it may
   * be raced, but the callers who joined the fill take its value, as its own caller does: making each of
   * them run the method again would multiply model calls exactly while the store is down (a failover
   * measured up to 20 runs per process that way).
   */
  async raced(key: string, tags: readonly string[], mark: number | undefined, stored: boolean): Promise<boolean> {
    const { store, invalidation } = this.rt;
    if (mark === undefined || store.tags === undefined) return false;
    let raced: boolean;
    try {
      raced = await store.tags.stampedSince(invalidation.clockKey, this.#namesOf(key, tags), mark);
    } catch (error) {
      this.#unchecked(error, 'mark', key);
      if (stored) await this.safely('delete', key, () => store.delete(key));
      return false;
    }
    if (raced && stored) await this.safely('delete', key, () => store.delete(key));
    return raced;
  }

  async release(lease: FillLease, key: string): Promise<void> {
    await this.safely('lease', key, () => lease.release());
  }

  /**
   * Takes the cross-process lease, or waits for its holder's value. Returns the value when another
   * process stored it, the lease when this process should fill, or neither when it should fill without
   * one (no lock, the store failed, the wait timed out, or the lease was lost twice).
   */
  async coordinate(
    key: string,
    accept: (entry: CacheEntry) => boolean = isFresh(() => this.rt.clock.now()),
  ): Promise<Coordination> {
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
        if (waited.status === 'timeout' || waited.status === 'abandoned') return {};
      }
    } catch (error) {
      if (isDecodeFailure(error)) this.rt.counters.decodeErrors++;
      else this.storeFailed(error, 'lease', key);
    }
    return {};
  }

  /** Runs a store operation; resolves whether it succeeded. Failures go through {@link storeFailed}. */
  async safely(operation: string, key: string, run: () => unknown, strict = false): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (error) {
      if (isValueEncodeError(error)) this.#refused(error, key, strict);
      else this.storeFailed(error, operation, key, strict);
      return false;
    }
  }

  /** Counts and reports a store failure; rethrows it when the policy is `throw` (or the caller is `strict`). */
  storeFailed(error: unknown, operation: string, key: string, strict = false): void {
    this.rt.counters.storeErrors++;
    const storeError =
      error instanceof StoreError
        ? error
        : new StoreError(operation, key, describe(operation, error), { cause: error });
    this.emitError(storeError, operation, key);
    if (strict || this.rt.onStoreError === 'throw') throw storeError;
  }

  /**
   * A value the store cannot keep (a function, a cycle, an unregistered class instance): the caller still
   * gets it, but it is not cached. Counted, reported as an `error` event, and warned about once per
   * method so that it is seen even without a listener.
   */
  #refused(error: ValueEncodeError, key: string, strict: boolean): void {
    this.rt.counters.encodeErrors++;
    this.emitError(error, 'set', key);
    if (!this.#refusalLogged) {
      this.#refusalLogged = true;
      logEvent(
        this.rt.logger,
        'warn',
        { event: 'cachet.value-refused', ...this.#where(key), err: error },
        `${this.rt.method} returned a value the cache cannot store, so it is not cached: ${error.message}`,
        { type: 'CachetValueWarning', code: error.code },
      );
    }
    if (strict) throw error;
  }

  #where(key: string): { namespace: string; method: string; key: string; store: string } {
    return { namespace: this.rt.namespace, method: this.rt.method, key, store: this.rt.store.name };
  }

  emitError(error: unknown, operation: string, key: string): void {
    if (this.rt.events.has('error')) this.rt.events.emit('error', { method: this.rt.method, key, operation, error });
  }
}

const NO_TAGS: readonly string[] = Object.freeze([]);

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

import { isValueDecodeError } from '../codec/value-codec';
import type { Clock } from '../core/clock';
import { parseDuration } from '../core/duration';
import { StoreError } from '../core/errors';
import type { Emitter } from '../core/events';
import { KeyBuilder } from '../keys/key-builder';
import type { CacheEntry, CacheStore, FillCoordinator, FillLease } from '../stores/cache-store';
import type { StoreErrorPolicy } from './cached-options';
import type { CacheEvents } from './cache-events';
import type { FillTable } from './fill-table';
import type { CacheCounters } from './stats';

/** Everything one cached method needs at call time, resolved once when it is first bound to a cache. */
export interface MethodRuntime {
  readonly method: string;
  readonly store: CacheStore;
  readonly keys: KeyBuilder;
  readonly counters: CacheCounters;
  readonly fills: FillTable;
  readonly events: Emitter<CacheEvents>;
  readonly clock: Clock;
  readonly ttlMs: number;
  readonly ttlFn: ((result: unknown) => unknown) | undefined;
  readonly when: ((...args: unknown[]) => boolean) | undefined;
  readonly unless: ((result: unknown) => boolean) | undefined;
  readonly onStoreError: StoreErrorPolicy;
  readonly lock: false | { readonly ttlMs: number; readonly waitMs: number };
}

type Method = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/**
 * The cache-aside algorithm for one method: look up, and on a miss run the method once per key (in this
 * process through the fill table, across processes through the store's coordinator), store, return.
 * The hit path allocates nothing beyond the returned promise when the store answers synchronously.
 */
export class CachedMethod {
  constructor(private readonly rt: MethodRuntime) {}

  call(fn: Method, self: unknown, args: unknown[]): Promise<unknown> {
    const rt = this.rt;
    if (rt.when !== undefined && !rt.when.apply(self, args)) {
      rt.counters.bypassed++;
      return fn.apply(self, args);
    }
    let key: string;
    let got: CacheEntry | undefined | Promise<CacheEntry | undefined>;
    try {
      key = rt.keys.keyFor(self, args);
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      got = rt.store.get(key);
    } catch (error) {
      return this.#afterGetFailed(error, fn, self, args, key);
    }
    if (got === undefined) return this.#miss(fn, self, args, key);
    if (got instanceof Promise) {
      return got.then(
        (entry) => (entry === undefined ? this.#miss(fn, self, args, key) : this.#hit(entry, key)),
        (error: unknown) => this.#afterGetFailed(error, fn, self, args, key),
      );
    }
    return this.#hit(got, key);
  }

  #hit(entry: CacheEntry, key: string): Promise<unknown> {
    this.rt.counters.hits++;
    if (this.rt.events.has('hit')) this.rt.events.emit('hit', { method: this.rt.method, key });
    return (entry.settled ??= Promise.resolve(entry.value));
  }

  #miss(fn: Method, self: unknown, args: unknown[], key: string): Promise<unknown> {
    const rt = this.rt;
    rt.counters.misses++;
    if (rt.events.has('miss')) rt.events.emit('miss', { method: rt.method, key });
    return rt.fills.run(
      key,
      () => this.#fill(fn, self, args, key),
      () => rt.counters.coalesced++,
    );
  }

  /** A failed read is a miss: the method still runs (once per key), unless the policy says throw. */
  #afterGetFailed(error: unknown, fn: Method, self: unknown, args: unknown[], key: string): Promise<unknown> {
    if (isDecodeFailure(error)) {
      this.rt.counters.decodeErrors++;
      this.#emitError(error, 'get', key);
    } else {
      try {
        this.#storeFailed(error, 'get', key);
      } catch (thrown) {
        return Promise.reject(thrown);
      }
    }
    return this.#miss(fn, self, args, key);
  }

  async #fill(fn: Method, self: unknown, args: unknown[], key: string): Promise<unknown> {
    const rt = this.rt;
    let lease: FillLease | undefined;
    if (rt.lock !== false && rt.store.coordinator !== undefined) {
      const outcome = await this.#coordinate(rt.store.coordinator, key, rt.lock.ttlMs, rt.lock.waitMs);
      if (outcome.entry !== undefined) {
        rt.counters.coalesced++;
        return outcome.entry.value;
      }
      lease = outcome.lease;
    }
    try {
      const started = rt.clock.now();
      const value = await fn.apply(self, args);
      const durationMs = rt.clock.now() - started;
      rt.counters.fills++;
      const ttlMs = rt.unless !== undefined && rt.unless(value) ? 0 : this.#ttlFor(value);
      if (ttlMs > 0) await this.#safely('set', key, () => rt.store.set(key, value, ttlMs));
      if (rt.events.has('fill')) rt.events.emit('fill', { method: rt.method, key, durationMs, stored: ttlMs > 0 });
      return value;
    } finally {
      if (lease !== undefined) {
        const held = lease;
        await this.#safely('lease', key, () => held.release());
      }
    }
  }

  /**
   * Takes the cross-process lease, or waits for its holder's value. Returns the value when another
   * process stored it, the lease when this process should fill, or neither when it should fill without
   * one (the store failed, the wait timed out, or the lease was lost twice).
   */
  async #coordinate(
    coordinator: FillCoordinator,
    key: string,
    leaseMs: number,
    waitMs: number,
  ): Promise<{ lease?: FillLease; entry?: CacheEntry }> {
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const lease = await coordinator.acquire(key, leaseMs);
        if (lease !== undefined) {
          // Our miss may predate another process's fill that finished just before we took the lease.
          // A failure here was already counted by the first read; the lease is ours either way.
          const entry = await Promise.resolve(this.rt.store.get(key)).catch(() => undefined);
          if (entry === undefined) return { lease };
          await lease.release();
          return { entry };
        }
        const waited = await coordinator.waitForFill(key, waitMs);
        if (waited.status === 'filled') return { entry: waited.entry };
        if (waited.status === 'timeout') return {};
      }
    } catch (error) {
      if (isDecodeFailure(error)) this.rt.counters.decodeErrors++;
      else this.#storeFailed(error, 'lease', key);
    }
    return {};
  }

  #ttlFor(value: unknown): number {
    const rt = this.rt;
    return rt.ttlFn === undefined ? rt.ttlMs : parseDuration('ttl (returned by the ttl function)', rt.ttlFn(value));
  }

  async #safely(operation: string, key: string, run: () => unknown): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.#storeFailed(error, operation, key);
    }
  }

  /** Counts and reports a store failure; rethrows it when the policy is `throw`. */
  #storeFailed(error: unknown, operation: string, key: string): void {
    this.rt.counters.storeErrors++;
    const storeError = error instanceof StoreError ? error : new StoreError(operation, key, describe(operation, error), { cause: error });
    this.#emitError(storeError, operation, key);
    if (this.rt.onStoreError === 'throw') throw storeError;
  }

  #emitError(error: unknown, operation: string, key: string): void {
    if (this.rt.events.has('error')) this.rt.events.emit('error', { method: this.rt.method, key, operation, error });
  }
}

function isDecodeFailure(error: unknown): boolean {
  return isValueDecodeError(error) || (error instanceof StoreError && isValueDecodeError(error.cause));
}

function describe(operation: string, error: unknown): string {
  return `Cache store \`${operation}\` failed: ${error instanceof Error ? error.message : String(error)}`;
}

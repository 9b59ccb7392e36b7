import type { CacheEntry } from '../stores/cache-store';
import type { MethodRuntime } from './method-runtime';
import { MethodStore } from './method-store';

type Method = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/**
 * The cache-aside algorithm for one method: look up, and on a miss run the method once per key (in this
 * process through the fill table, across processes through the store's coordinator), store, return.
 * The hit path allocates nothing beyond the returned promise when the store answers synchronously.
 */
export class CachedMethod {
  readonly #store: MethodStore;

  constructor(private readonly rt: MethodRuntime) {
    this.#store = new MethodStore(rt);
  }

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
        (entry) => (entry === undefined ? this.#miss(fn, self, args, key) : this.#hit(entry, self, args, key)),
        (error: unknown) => this.#afterGetFailed(error, fn, self, args, key),
      );
    }
    return this.#hit(got, self, args, key);
  }

  #hit(entry: CacheEntry, self: unknown, args: unknown[], key: string): Promise<unknown> {
    const rt = this.rt;
    rt.counters.hits++;
    if (rt.events.has('hit')) rt.events.emit('hit', { method: rt.method, key });
    if (rt.ledger !== undefined) rt.ledger.record('hit', entry.value, self, args, key);
    return (entry.settled ??= Promise.resolve(entry.value));
  }

  #miss(fn: Method, self: unknown, args: unknown[], key: string): Promise<unknown> {
    const rt = this.rt;
    rt.counters.misses++;
    if (rt.events.has('miss')) rt.events.emit('miss', { method: rt.method, key });
    let joined = false;
    const result = rt.fills.run(
      key,
      () => this.#fill(fn, self, args, key),
      () => {
        rt.counters.coalesced++;
        joined = true;
      },
    );
    // A caller that shared another's fill avoided a call: the ledger counts it as saved.
    if (joined && rt.ledger !== undefined) {
      const ledger = rt.ledger;
      result.then((value) => ledger.record('hit', value, self, args, key), () => undefined);
    }
    return result;
  }

  /** A failed read is a miss: the method still runs (once per key), unless the policy says throw. */
  #afterGetFailed(error: unknown, fn: Method, self: unknown, args: unknown[], key: string): Promise<unknown> {
    try {
      this.#store.readFailed(error, key);
    } catch (thrown) {
      return Promise.reject(thrown);
    }
    return this.#miss(fn, self, args, key);
  }

  async #fill(fn: Method, self: unknown, args: unknown[], key: string): Promise<unknown> {
    const rt = this.rt;
    const { lease, entry } = await this.#store.coordinate(key);
    if (entry !== undefined) {
      rt.counters.coalesced++;
      if (rt.ledger !== undefined) rt.ledger.record('hit', entry.value, self, args, key);
      return entry.value;
    }
    try {
      const started = rt.clock.now();
      const value = await fn.apply(self, args);
      const durationMs = rt.clock.now() - started;
      rt.counters.fills++;
      if (rt.ledger !== undefined) rt.ledger.record('fill', value, self, args, key);
      const ttlMs = this.#store.ttlFor(value);
      if (ttlMs > 0) await this.#store.set(key, value, ttlMs);
      if (rt.events.has('fill')) rt.events.emit('fill', { method: rt.method, key, durationMs, stored: ttlMs > 0 });
      return value;
    } finally {
      if (lease !== undefined) await this.#store.release(lease, key);
    }
  }
}

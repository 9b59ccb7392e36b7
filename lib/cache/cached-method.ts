import type { CacheEntry } from '../ports/cache-store';
import type { MethodRuntime } from './method-runtime';
import type { FillOutcome } from './fill-table';
import { MethodStore } from './method-store';
import { SemanticIndex } from './semantic-index';
import type { SemanticExplanation, SemanticQuery } from './semantic-types';

type Method = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/** Keys whose hits are counted for `hot` at once; past it the counts start again. */
const HOT_KEYS_TRACKED = 10_000;

/**
 * The cache-aside algorithm for one method: look up, and on a miss run the method once per key (in this
 * process through the fill table, across processes through the store's coordinator), store, return.
 * The hit path allocates nothing beyond the returned promise when the store answers synchronously.
 */
export class CachedMethod {
  readonly #store: MethodStore;
  /** Hits per key, for `hot` entries; made on first use. */
  #hotCounts: Map<string, number> | undefined;
  /** The semantic index; `undefined` for a method without `semantic`. */
  readonly #semantic: SemanticIndex | undefined;

  constructor(private readonly rt: MethodRuntime) {
    this.#store = new MethodStore(rt);
    this.#semantic = rt.semantic === undefined ? undefined : new SemanticIndex(rt, rt.semantic);
  }

  /** The key of a call, for removing one entry (`cache.invalidate`). */
  keyFor(self: unknown, args: readonly unknown[]): string {
    return this.rt.keys.keyFor(self, args as unknown[]);
  }

  /** The tag keys the method gives a call's stored `value` (`[]` without `tags`), for `cache.peek`. */
  tagKeysOf(args: readonly unknown[], value: unknown): readonly string[] {
    return this.rt.tagKeys?.(value, args) ?? [];
  }

  /** What a semantic lookup of this call would do (`cache.explainSemantic`); a `TypeError` without `semantic`. */
  explainSemantic(self: unknown, args: readonly unknown[]): Promise<SemanticExplanation> {
    if (this.#semantic === undefined) throw new TypeError(`${this.rt.method} is not cached with \`semantic\``);
    return this.#semantic.explainCall(self, args as unknown[]);
  }

  /** Whether a fresh entry exists for this call (for warming, which skips those). */
  async has(self: unknown, args: readonly unknown[]): Promise<boolean> {
    const entry = await this.rt.store.get(this.keyFor(self, args));
    return entry !== undefined && (entry.freshUntil === undefined || entry.freshUntil > this.rt.clock.now());
  }

  /** Stores `value` as this call's result without running the method (warming), with its TTL and tags. */
  async put(self: unknown, args: readonly unknown[], value: unknown): Promise<boolean> {
    const ttlMs = this.#store.ttlFor(value);
    if (ttlMs <= 0) return false;
    await this.#store.set(this.keyFor(self, args), value, ttlMs, args, { strict: true });
    return true;
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
    if (got === undefined)
      return this.#semantic === undefined ? this.#miss(fn, self, args, key) : this.#ask(fn, self, args, key);
    if (got instanceof Promise) {
      return got.then(
        (entry) =>
          entry !== undefined
            ? this.#found(entry, fn, self, args, key)
            : this.#semantic === undefined
              ? this.#miss(fn, self, args, key)
              : this.#ask(fn, self, args, key),
        (error: unknown) => this.#afterGetFailed(error, fn, self, args, key),
      );
    }
    return this.#found(got, fn, self, args, key);
  }

  /** An entry was found: a hit, unless freshness rules say otherwise. The common case costs one check. */
  #found(entry: CacheEntry, fn: Method, self: unknown, args: unknown[], key: string): Promise<unknown> {
    if (this.rt.freshness === undefined && entry.freshUntil === undefined) return this.#hit(entry, self, args, key);
    const f = this.rt.freshness;
    const now = this.rt.clock.now();
    const freshUntil = entry.freshUntil ?? entry.expiresAt;
    if (now < freshUntil) {
      if (f !== undefined && f.refreshAheadMs > 0 && freshUntil - now <= f.refreshAheadMs) {
        // Due soon: refresh in the background; a refresh by another caller counts once it is no longer due.
        this.#refresh(
          fn,
          self,
          args,
          key,
          (e) => (e.freshUntil ?? e.expiresAt) - this.rt.clock.now() > f.refreshAheadMs,
        );
      }
      if (f?.hot !== undefined) this.#countHot(key, entry, f.hot, args);
      return this.#hit(entry, self, args, key);
    }
    if (f !== undefined && now < freshUntil + f.staleWhileRevalidateMs) {
      this.rt.counters.stale++;
      this.#refresh(fn, self, args, key);
      return this.#hit(entry, self, args, key);
    }
    if (f !== undefined && now < freshUntil + f.staleIfErrorMs) return this.#miss(fn, self, args, key, entry);
    return this.#miss(fn, self, args, key);
  }

  /** Runs a fill in the background unless one of this key is already running; its errors become events. */
  #refresh(fn: Method, self: unknown, args: unknown[], key: string, accept?: (entry: CacheEntry) => boolean): void {
    if (this.rt.fills.has(key)) return;
    this.rt.counters.refreshes++;
    this.rt.fills
      .run(
        key,
        () => this.#fill(fn, self, args, key, accept),
        () => this.call(fn, self, args),
      )
      .catch((error: unknown) => this.#store.emitError(error, 'refresh', key));
  }

  /** Counts hits per key; at `hits`, stores the entry again for the hot TTL (once per key in this process). */
  #countHot(
    key: string,
    entry: CacheEntry,
    hot: { readonly hits: number; readonly ttlMs: number },
    args: readonly unknown[],
  ): void {
    const counts = (this.#hotCounts ??= new Map());
    const count = (counts.get(key) ?? 0) + 1;
    if (count > hot.hits) return;
    if (counts.size >= HOT_KEYS_TRACKED) counts.clear();
    counts.set(key, count);
    if (count === hot.hits) void this.#store.set(key, entry.value, hot.ttlMs, args).catch(() => undefined);
  }

  #hit(entry: CacheEntry, self: unknown, args: unknown[], key: string): Promise<unknown> {
    const rt = this.rt;
    rt.counters.hits++;
    if (rt.events.has('hit')) rt.events.emit('hit', { method: rt.method, key });
    if (rt.ledger !== undefined) rt.ledger.record('hit', entry.value, self, args, key);
    return (entry.settled ??= Promise.resolve(entry.value));
  }

  /**
   * An exact miss of a method with `semantic`: serves the answer of a cached question that means the same,
   * or runs the method and then adds this question to the index. A failing embedder or index is reported
   * and the call goes on as an exact miss.
   */
  #ask(fn: Method, self: unknown, args: unknown[], key: string): Promise<unknown> {
    const semantic = this.#semantic as SemanticIndex;
    let query: SemanticQuery | undefined;
    try {
      query = semantic.queryOf(self, args);
    } catch (error) {
      return Promise.reject(error);
    }
    if (query === undefined) return this.#miss(fn, self, args, key);
    const asked = query;
    return semantic.find(asked).then(
      (match) => {
        if (match === undefined)
          return this.#miss(fn, self, args, key, undefined, (ttlMs) => semantic.add(asked, key, ttlMs));
        semantic.served(asked, match, key);
        this.rt.ledger?.record('hit', match.entry.value, self, args, key);
        return match.entry.value;
      },
      (error: unknown) => {
        this.#store.emitError(error, 'semantic lookup', key);
        return this.#miss(fn, self, args, key);
      },
    );
  }

  /** A miss: runs the method once per key. With a `stale` entry (within `staleIfError`), a failure serves it instead. */
  #miss(
    fn: Method,
    self: unknown,
    args: unknown[],
    key: string,
    stale?: CacheEntry,
    onStored?: (ttlMs: number) => Promise<void>,
  ): Promise<unknown> {
    const rt = this.rt;
    rt.counters.misses++;
    if (rt.events.has('miss')) rt.events.emit('miss', { method: rt.method, key });
    let joined = false;
    const result = rt.fills.run(
      key,
      () => this.#fill(fn, self, args, key, undefined, onStored),
      // Joined a fill that an invalidation raced: look again, as a call made now would.
      () => this.call(fn, self, args),
      () => {
        rt.counters.coalesced++;
        joined = true;
      },
    );
    // A caller that shared another's fill avoided a call: the ledger counts it as saved.
    if (joined && rt.ledger !== undefined) {
      const ledger = rt.ledger;
      result.then(
        (value) => ledger.record('hit', value, self, args, key),
        () => undefined,
      );
    }
    if (stale === undefined) return result;
    return result.catch((error: unknown) => {
      rt.counters.staleOnError++;
      this.#store.emitError(error, 'fill (served stale)', key);
      return stale.value;
    });
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

  async #fill(
    fn: Method,
    self: unknown,
    args: unknown[],
    key: string,
    accept?: (entry: CacheEntry) => boolean,
    onStored?: (ttlMs: number) => Promise<void>,
  ): Promise<FillOutcome<unknown>> {
    const rt = this.rt;
    const { lease, entry } = await this.#store.coordinate(key, accept);
    if (entry !== undefined) {
      rt.counters.coalesced++;
      if (rt.ledger !== undefined) rt.ledger.record('hit', entry.value, self, args, key);
      return { value: entry.value, shareable: true };
    }
    try {
      const pending = this.#store.mark();
      const mark = pending instanceof Promise ? await pending : pending;
      const started = rt.clock.now();
      const scope = rt.fillScope.current;
      const value = await (scope === undefined
        ? fn.apply(self, args)
        : scope({ method: rt.method, namespace: rt.namespace, key }, () => fn.apply(self, args)));
      const durationMs = rt.clock.now() - started;
      rt.counters.fills++;
      if (rt.ledger !== undefined) rt.ledger.record('fill', value, self, args, key);
      const ttlMs = this.#store.ttlFor(value);
      const { tags, stored } = ttlMs > 0 ? await this.#store.set(key, value, ttlMs, args, { mark }) : NOT_STORED;
      const raced = await this.#store.raced(key, tags, mark, stored);
      if (onStored !== undefined && stored && !raced) await onStored(ttlMs);
      if (rt.events.has('fill'))
        rt.events.emit('fill', { method: rt.method, key, durationMs, stored: stored && !raced });
      return { value, shareable: !raced };
    } finally {
      if (lease !== undefined) await this.#store.release(lease, key);
    }
  }
}

const NOT_STORED = { tags: [], stored: false } as const;

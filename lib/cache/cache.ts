import { systemClock, type Clock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import { Emitter } from '../core/events';
import { assertLogger, logEvent, type CachetLogger } from '../core/logger';
import { NotCachetKeyError, StoreError } from '../core/errors';
import {
  assertKeyPart,
  assertKeySegment,
  assertKnownOptions,
  assertNamespace,
  assertOneOf,
  optionError,
  withDefaults,
  assertPlainObject,
} from '../core/validate';
import { KeyBuilder } from '../keys/key-builder';
import type { CacheStore, SharedCounters, StoreInfo } from '../ports/cache-store';
import { MemoryStore } from './memory-store';
import type { CacheEvents, FillScope } from './cache-events';
import type { CostLedger } from '../ports/cost-ledger';
import { CachedMethod } from './cached-method';
import type { CachedStream } from './cached-stream';
import { CachedStreamMethod, type LiveStreams } from './cached-stream-method';
import { MethodLedger } from './method-ledger';
import type { MethodRuntime } from './method-runtime';
import {
  isWrappedFunction,
  locateCachedMethod,
  locateWrappedFunction,
  registerWrappedFunction,
  type MethodKeys,
} from './method-registry';
import { describeKey } from './key-layout';
import { CacheInspector, type CacheEntryDetails, type CacheKeysOptions } from './cache-inspector';
import type { SemanticExplanation } from './semantic-types';
import { warm, warmFromLog, type WarmFromLogOptions, type WarmOptions, type WarmResult } from './warming';
import {
  DEFAULT_LOCK,
  resolveCachedOptions,
  resolveLock,
  STORE_ERROR_POLICIES,
  type CachedOptions,
  type CachedStreamOptions,
  type LockOptions,
  type ResolvedCachedOptions,
  type StoreErrorPolicy,
} from './cached-options';
import { FillTable } from './fill-table';
import { InvalidationReplay } from './invalidation-replay';
import { addCounters, newCounters, withRates, type CacheCounters, type CacheStats, type RatedCounters } from './stats';

/** What {@link Cache.report} resolves to. */
export interface CacheReport extends CacheStats {
  /** `shared`: every instance's counters, from Redis; `instance`: this instance's only. */
  readonly scope: 'shared' | 'instance';
  /** The store server's figures (Redis's `INFO`), when the store has a server and it answered. */
  readonly redis: StoreInfo | undefined;
}

/** Options of {@link Cache}. Decorator options override the matching ones per method. */
export interface CacheOptions {
  /** Where values live. @default a new {@link MemoryStore} */
  readonly store?: CacheStore;
  /**
   * First part of every key, so that cachet's keys are easy to find and clear in a shared Redis. No
   * whitespace and no `:`: the cache owns every key under `<prefix>:`, and `clear()` removes them all.
   * @default 'cachet'
   */
  readonly prefix?: string;
  /**
   * Second part of every key, for methods that give none. No whitespace, no `:` (so that clearing
   * namespace `a` never touches another), and not `tag`, where the cache keeps its tag sets.
   * @default 'default'
   */
  readonly namespace?: string;
  /** Time to live of entries whose method gives none. @default '30m' */
  readonly ttl?: Duration;
  /** What to do when the store fails. @default 'bypass' */
  readonly onStoreError?: StoreErrorPolicy;
  /** Cross-process fill lock defaults; see {@link CachedOptions.lock}. @default { ttl: '10s', wait: '30s' } */
  readonly lock?: false | LockOptions;
  /** Time source, for tests. @default Date.now */
  readonly clock?: Clock;
  /** Source of numbers in [0, 1) for `jitter`, for tests. @default Math.random */
  readonly random?: () => number;
  /**
   * Keep hit and miss counters in Redis too (the store must be a `RedisStore` or `TieredStore`), so
   * that `report()` adds up every instance. Sent in batches; a call never waits on them.
   * @default false
   */
  readonly sharedStats?: boolean | { readonly flushInterval?: Duration };
  /**
   * Records what fills cost and hits saved, for methods that give a `usage` function (as
   * `chatKeyPolicy(...)` does). @default none
   */
  readonly ledger?: CostLedger;
  /**
   * Where this cache logs its rare events (a key collision, a refused value, an entry that does not
   * decode, a listener that threw): `console`, a pino or NestJS logger. @default the one `setLogger`
   * set, else process warnings
   */
  readonly logger?: CachetLogger;
}

const DEFAULTS = {
  prefix: 'cachet',
  namespace: 'default',
  ttl: '30m',
  onStoreError: 'bypass',
  clock: systemClock,
} as const satisfies Omit<Required<CacheOptions>, 'store' | 'lock' | 'ledger' | 'random' | 'sharedStats' | 'logger'>;

const KNOWN = ['store', 'lock', 'ledger', 'random', 'sharedStats', 'logger', ...Object.keys(DEFAULTS)] as const;

/**
 * A cache: a store plus the rules for keys, TTLs, single flight and store failures. Use it through the
 * {@link Cached} decorator or, without decorators, through {@link Cache.wrap}.
 *
 * @example
 * const cache = new Cache({ store: new RedisStore({ url: process.env.REDIS_URL }), ttl: '1h' });
 * const answer = cache.wrap(askModel, { name: 'askModel', ttl: '10m' });
 */
export class Cache {
  readonly store: CacheStore;
  readonly #prefix: string;
  readonly #namespace: string;
  readonly #ttlMs: number;
  readonly #onStoreError: StoreErrorPolicy;
  readonly #lock: false | { readonly ttlMs: number; readonly waitMs: number };
  readonly #clock: Clock;
  readonly #events: Emitter<CacheEvents>;
  readonly #logger: CachetLogger | undefined;
  readonly #fills = new FillTable();
  readonly #live: LiveStreams = new Map();
  readonly #ledger: CostLedger | undefined;
  readonly #random: () => number;
  readonly #shared: SharedCounters | undefined;
  readonly #counters = new Map<string, CacheCounters>();
  /** Invalidations that could not reach the store, replayed until they do. */
  readonly #replay = new InvalidationReplay();
  /** Which decorated method owns each `namespace:Class.method`, to warn when two share one. */
  readonly #owners = new Map<string, object>();
  /** The fill scope every method of this cache reads when a fill starts (`scopeFills`). */
  readonly #fillScope: { current: FillScope | undefined } = { current: undefined };
  readonly #inspector: CacheInspector;

  constructor(options: CacheOptions = {}) {
    assertKnownOptions('Cache', options, KNOWN);
    const resolved = withDefaults(DEFAULTS, options);
    if (resolved.store !== undefined && typeof resolved.store.get !== 'function') {
      throw optionError('store', 'a CacheStore (MemoryStore, RedisStore or your own)', resolved.store);
    }
    assertKeySegment('prefix', resolved.prefix);
    assertNamespace('namespace', resolved.namespace);
    assertOneOf('onStoreError', resolved.onStoreError, STORE_ERROR_POLICIES);
    this.store = resolved.store ?? new MemoryStore({ clock: resolved.clock });
    this.#prefix = resolved.prefix;
    this.#namespace = resolved.namespace;
    this.#ttlMs = parseDuration('ttl', resolved.ttl);
    this.#onStoreError = resolved.onStoreError;
    this.#lock = resolveLock(options.lock) ?? DEFAULT_LOCK;
    this.#clock = resolved.clock;
    if (options.logger !== undefined) assertLogger('logger', options.logger);
    this.#logger = options.logger;
    this.#events = new Emitter<CacheEvents>(options.logger);
    if (options.ledger !== undefined && typeof options.ledger?.recordFill !== 'function') {
      throw optionError('ledger', 'a CostLedger (MemoryCostLedger, RedisCostLedger)', options.ledger);
    }
    this.#ledger = options.ledger;
    if (options.random !== undefined && typeof options.random !== 'function')
      throw optionError('random', 'a function returning [0, 1)', options.random);
    this.#random = options.random ?? Math.random;
    this.#shared = this.#sharedStatsFor(options.sharedStats);
    this.#inspector = new CacheInspector(this.store, this.#prefix, this.#clock);
  }

  #sharedStatsFor(option: CacheOptions['sharedStats']): SharedCounters | undefined {
    if (option === undefined || option === false) return undefined;
    if (option !== true) {
      assertPlainObject('sharedStats', option);
      assertKnownOptions('sharedStats', option, ['flushInterval']);
    }
    if (this.store.shareCounters === undefined)
      throw optionError(
        'sharedStats',
        'false unless the store is shared by processes (RedisStore, TieredStore)',
        option,
      );
    const intervalMs =
      option === true || option.flushInterval === undefined
        ? 1_000
        : parseDuration('sharedStats.flushInterval', option.flushInterval);
    return this.store.shareCounters(this.#prefix, () => this.#counters, Math.max(1, intervalMs));
  }

  /**
   * Hit rates per method and in total, with Redis's own figures from `INFO` (memory used, clients,
   * commands processed, keys). With `sharedStats` the counters are every instance's, summed in Redis
   * (this instance's are sent first); otherwise this instance's only.
   */
  async report(): Promise<CacheReport> {
    const shared = this.#shared;
    const redis = await this.store.info?.().catch(() => undefined);
    if (shared === undefined) return { scope: 'instance', ...this.stats(), redis };
    await shared.flush();
    const totals = await shared.totals();
    const total = newCounters();
    const methods: Record<string, RatedCounters> = {};
    for (const [name, counters] of totals) {
      methods[name] = withRates(counters);
      addCounters(total, counters);
    }
    return { scope: 'shared', total: withRates(total), methods, redis };
  }

  /**
   * Returns a function that caches `fn`'s results by its arguments, as {@link Cached} does for methods.
   * `name` identifies the function in keys and stats (default: `fn.name`).
   */
  wrap<Args extends unknown[], C>(
    fn: (...args: Args) => AsyncIterable<C> | Promise<AsyncIterable<C>>,
    options: CachedOptions<Args, C[]> & { readonly name?: string; readonly stream: true | CachedStreamOptions },
  ): (...args: Args) => CachedStream<C>;
  wrap<Args extends unknown[], R>(
    fn: (...args: Args) => Promise<R>,
    options?: CachedOptions<Args, R> & { readonly name?: string; readonly stream?: false },
  ): (...args: Args) => Promise<R>;
  wrap(
    fn: (...args: unknown[]) => unknown,
    options: CachedOptions & { readonly name?: string } = {},
  ): (...args: unknown[]) => unknown {
    if (typeof fn !== 'function') throw optionError('fn', 'a function returning a promise or a stream', fn);
    const { name = fn.name, ...rest } = options;
    if (typeof name !== 'string' || !name)
      throw optionError('name', 'a non-empty name for an anonymous function', name);
    const resolved = resolveCachedOptions(rest);
    const bound =
      resolved.stream === undefined ? this.method(name, resolved, fn) : this.streamMethod(name, resolved, fn);
    const method: { call(fn: never, self: unknown, args: unknown[]): unknown } = bound;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      return method.call(fn as never, this, args);
    };
    Object.defineProperty(wrapped, 'name', { value: name });
    // For cache.peek(wrapped, ...args): the key a call would use; only this cache holds its entries.
    registerWrappedFunction(wrapped, this, bound);
    return wrapped;
  }

  /**
   * Binds a method to this cache. Used by {@link Cached} and {@link Cache.wrap}; most code never calls
   * it directly. `owner` identifies the decorated method, to detect two methods that would share keys.
   */
  method(name: string, options: ResolvedCachedOptions, owner: object = options): CachedMethod {
    return new CachedMethod(this.#runtime(name, options, owner));
  }

  /** Binds a streaming method (`@Cached({ stream })`) to this cache; see {@link Cache.method}. */
  streamMethod(name: string, options: ResolvedCachedOptions, owner: object = options): CachedStreamMethod {
    return new CachedStreamMethod(this.#runtime(name, options, owner), this.#live, options.stream?.pace ?? false);
  }

  #runtime(name: string, options: ResolvedCachedOptions, owner: object): MethodRuntime {
    const namespace = options.namespace ?? this.#namespace;
    const qualified = `${namespace}:${name}`;
    const previous = this.#owners.get(qualified);
    if (previous !== undefined && previous !== owner) {
      logEvent(
        this.#logger,
        'warn',
        { event: 'cachet.key-collision', namespace, method: qualified, store: this.store.name },
        `Two different cached methods are both named ${qualified}; they share cache entries. ` +
          'Give one of them a `namespace` or a `key`.',
        { type: 'CachetKeyCollisionWarning' },
      );
    }
    this.#owners.set(qualified, owner);
    let counters = this.#counters.get(qualified);
    if (counters === undefined) this.#counters.set(qualified, (counters = newCounters()));
    const ledger = options.ledger === undefined ? this.#ledger : options.ledger || undefined;
    return {
      method: qualified,
      namespace,
      store: this.store,
      keys: new KeyBuilder(this.#prefix, namespace, name, options.key),
      counters,
      fills: this.#fills,
      events: this.#events,
      clock: this.#clock,
      logger: this.#logger,
      ttlMs: options.ttlMs ?? this.#ttlMs,
      ttlFn: options.ttlFn,
      when: options.when,
      unless: options.unless,
      complete: options.complete,
      onStoreError: options.onStoreError ?? this.#onStoreError,
      lock: options.lock ?? this.#lock,
      ledger:
        ledger !== undefined && options.usage !== undefined
          ? new MethodLedger(ledger, options.usage, namespace, qualified, this.#events)
          : undefined,
      tagKeys: this.#tagKeysFor(options.tags, qualified),
      invalidation: { clockKey: this.#clockKey, scopes: [this.#scopeOf(namespace), this.#scopeOf(undefined)] },
      freshness: options.freshness,
      random: this.#random,
      semantic: options.semantic,
      fillScope: this.#fillScope,
    };
  }

  #tagKeysFor(tags: ResolvedCachedOptions['tags'], method: string): MethodRuntime['tagKeys'] {
    if (tags === undefined) return undefined;
    if (this.store.tags === undefined) {
      throw new TypeError(
        `${method} has \`tags\`, but the ${this.store.name} store keeps no tags (it has no \`tags\` index)`,
      );
    }
    return (result, args) => {
      const list = tags(result, ...args);
      if (!Array.isArray(list)) throw optionError('tags (returned by the tags function)', 'an array of tags', list);
      return list.map((tag, i) => {
        assertKeyPart(`tags[${i}] (returned by the tags function)`, tag);
        return this.#tagKey(tag);
      });
    };
  }

  #tagKey(tag: string): string {
    return `${this.#prefix}:tag:${tag}`;
  }

  /** The invalidation counter and its stamps: outside `<prefix>:`, so that clearing the cache keeps them. */
  get #clockKey(): string {
    return `${this.#prefix}!invalidations`;
  }

  /** The key prefix that `clear({ namespace })` removes, or the whole cache's for no namespace. */
  #scopeOf(namespace: string | undefined): string {
    return namespace === undefined ? `${this.#prefix}:` : `${this.#prefix}:${namespace}:`;
  }

  /**
   * Fills entries of a `@Cached` method without calling it, from answers you have (an FAQ list); see
   * {@link warm}. Entries already cached are skipped unless `overwrite`.
   * @example await cache.warm(assistant, 'answer', faq.map((f) => ({ args: [f.question], value: f.answer })));
   */
  warm<T extends object, K extends MethodKeys<T>>(
    instance: T,
    method: K,
    entries: Parameters<typeof warm<T, K>>[3],
    options?: WarmOptions,
  ): Promise<WarmResult> {
    return warm(this, instance, method, entries, options);
  }

  /**
   * Warms a `@Cached` method from a log of past calls: the `top` most frequent that are not cached yet
   * are called, `concurrency` at a time; see {@link warmFromLog}.
   * @example await cache.warmFromLog(assistant, 'answer', log.map((line) => [line.question]), { top: 100, onProgress });
   */
  warmFromLog<T extends object, K extends MethodKeys<T>>(
    instance: T,
    method: K,
    calls: Parameters<typeof warmFromLog<T, K>>[3],
    options?: WarmFromLogOptions,
  ): Promise<WarmResult> {
    return warmFromLog(this, instance, method, calls, options);
  }

  /** What a store failure does to calls: `bypass` or `throw`. */
  get onStoreError(): StoreErrorPolicy {
    return this.#onStoreError;
  }

  /**
   * Reports a store failure that happened on a caller's behalf outside a cached call (an
   * `@InvalidatesCache` whose invalidation failed): an `error` event, or a throw under `onStoreError: 'throw'`.
   */
  reportStoreError(method: string, operation: string, key: string, error: unknown): void {
    if (this.#events.has('error')) this.#events.emit('error', { method, key, operation, error });
    if (this.#onStoreError === 'throw') throw error;
  }

  /**
   * Removes every entry carrying any of `tags` (set with `@Cached({ tags })`), on every instance that
   * shares the store; resolves how many entries went. A store failure rejects.
   * @example await cache.invalidateTags([`agent:${agentId}`]);
   */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    if (!Array.isArray(tags)) throw optionError('tags', 'an array of tags', tags);
    tags.forEach((tag, i) => assertKeyPart(`tags[${i}]`, tag));
    if (this.store.tags === undefined) throw new TypeError(`The ${this.store.name} store keeps no tags`);
    const tagKeys = tags.map((tag) => this.#tagKey(tag));
    const index = this.store.tags;
    const list = [...tags];
    return this.#invalidating('invalidate', undefined, tagKeys, async () => {
      const removed = await index.invalidate(tagKeys);
      if (this.#events.has('invalidate')) this.#events.emit('invalidate', { tags: list, keys: [], removed });
      return removed;
    });
  }

  /**
   * Removes the entry of one call of a `@Cached` method: `cache.invalidate(assistant, 'answer', question)`
   * drops what `assistant.answer(question)` cached. Resolves whether there was one.
   */
  async invalidate<T extends object, K extends MethodKeys<T>>(
    instance: T,
    method: K,
    ...args: Parameters<Extract<T[K], (...a: any[]) => any>>
  ): Promise<boolean> {
    const key = locateCachedMethod(this, instance, method as PropertyKey).keyFor(instance, args);
    return this.#invalidateEntry(key);
  }

  /**
   * Removes the entry under a store key, as {@link Cache.invalidate} removes a call's: stamped first, so
   * that a fill of that key running now (in any process) does not store its value again. For the command
   * line (`cachet invalidate --key K`) and keys found by {@link Cache.keys}. Resolves whether there was
   * one; a `NotCachetKeyError` for a key that is not one of this cache's entries (a lease, a tag set).
   * @example await cache.invalidateKey('cachet:default:Assistant.answer:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sL2PFmBk');
   */
  async invalidateKey(key: string): Promise<boolean> {
    if (typeof key !== 'string') throw optionError('key', 'a cache key (a string)', key);
    if (describeKey(this.#prefix, key)?.kind !== 'entry')
      throw new NotCachetKeyError(key, `the key of a cachet entry (\`${this.#prefix}:<namespace>:<method>:<digest>\`)`);
    return this.#invalidateEntry(key);
  }

  #invalidateEntry(key: string): Promise<boolean> {
    return this.#invalidating('delete', key, [key], async () => {
      const removed = await this.store.delete(key);
      if (this.#events.has('invalidate'))
        this.#events.emit('invalidate', { tags: [], keys: [key], removed: removed ? 1 : 0 });
      return removed;
    });
  }

  /**
   * What the semantic lookup of one call of a `@Cached({ semantic })` method would do, without serving
   * it: `await cache.explainSemantic(support, 'ask', 'How can I reset my password?')` gives the question,
   * its partition, the threshold and the nearest cached questions (nearest first) with their similarity and
   * what refuses each (the threshold, a guard, `verify`, a gone or stale entry); `served` is the one a lookup
   * would serve. It embeds the question (counted in `embeddings`) and asks `verify`; it counts no lookup.
   * A `TypeError` for a method without `semantic`.
   */
  async explainSemantic<T extends object, K extends MethodKeys<T>>(
    instance: T,
    method: K,
    ...args: Parameters<Extract<T[K], (...a: any[]) => any>>
  ): Promise<SemanticExplanation> {
    const located = locateCachedMethod(this, instance, method as PropertyKey);
    if (located.explainSemantic === undefined) throw optionError('method', 'a @Cached method', method);
    return located.explainSemantic(instance, args);
  }

  /**
   * What the store holds for one call, without using it: `await cache.peek(assistant, 'answer', question)`
   * (or `cache.peek(wrapped, ...args)` for a function made by {@link Cache.wrap}) gives the entry's key,
   * value, expiry, freshness, tags, size and store, or `undefined`. It counts no lookup, starts no fill,
   * makes no semantic lookup, and leaves the memory store's recency order alone. The key is the one the
   * call would use.
   */
  peek<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<CacheEntryDetails | undefined>;
  peek<T extends object, K extends MethodKeys<T>>(
    instance: T,
    method: K,
    ...args: Parameters<Extract<T[K], (...a: any[]) => any>>
  ): Promise<CacheEntryDetails | undefined>;
  async peek(target: object, ...rest: unknown[]): Promise<CacheEntryDetails | undefined> {
    const wrapped = isWrappedFunction(target);
    const located = wrapped
      ? locateWrappedFunction(this, target)
      : locateCachedMethod(this, target, rest[0] as PropertyKey);
    const args = wrapped ? rest : rest.slice(1);
    const key = located.keyFor(wrapped ? undefined : target, args);
    return this.#inspector.details(key, (value) => located.tagKeysOf(args, value));
  }

  /**
   * The details of the entry under a store key, as {@link Cache.peek} gives them: for the command line
   * (`cachet inspect KEY`) and keys found by {@link Cache.keys}. `undefined` when the key holds nothing;
   * a `NotCachetKeyError` when it is not the key of one of this cache's entries.
   * @example await cache.inspect('cachet:default:Assistant.answer:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sL2PFmBk');
   */
  inspect(key: string): Promise<CacheEntryDetails | undefined> {
    if (typeof key !== 'string') throw optionError('key', 'a cache key (a string)', key);
    return this.#inspector.details(key);
  }

  /**
   * This cache's entry keys in the store, in pages, filtered by namespace, method or a glob; on Redis
   * with `SCAN` on every master, never `KEYS`. Its own keys (leases, tag sets...) only with `internal`.
   * @example for await (const page of cache.keys({ namespace: 'chat', count: 500 })) console.log(page);
   */
  keys(options?: CacheKeysOptions): AsyncIterable<readonly string[]> {
    return this.#inspector.keys(options);
  }

  /**
   * Removes every entry of this cache's prefix, or of exactly one `namespace` (namespaces hold no `:`,
   * so `a` never matches `a:b`); in Redis with `SCAN` and `UNLINK` in batches (never `KEYS`). Resolves
   * how many keys went (in Redis, a whole-prefix clear also removes the tag sets, which count).
   */
  async clear(options: { readonly namespace?: string } = {}): Promise<number> {
    assertKnownOptions('clear', options, ['namespace']);
    if (options.namespace !== undefined) assertNamespace('namespace', options.namespace);
    if (this.store.clear === undefined) throw new TypeError(`The ${this.store.name} store cannot clear by prefix`);
    const prefix = this.#scopeOf(options.namespace);
    const store = this.store as Required<Pick<CacheStore, 'clear'>>;
    return this.#invalidating('clear', prefix, [prefix], async () => {
      const removed = await store.clear(prefix);
      if (this.#events.has('invalidate')) this.#events.emit('invalidate', { tags: [], keys: [], prefix, removed });
      return removed;
    });
  }

  /**
   * Runs an invalidation: stamps `names` (so a fill of them running now drops the value it stores), then
   * `remove`s, even when the stamp failed (a memory tier drops its copies at once). When the store fails,
   * the whole invalidation is queued for replay and the caller gets an {@link InvalidationQueuedError}.
   */
  async #invalidating<T>(
    operation: string,
    key: string | undefined,
    names: readonly string[],
    remove: () => Promise<T>,
  ): Promise<T> {
    const run = async (): Promise<T> => {
      let stampFailure: unknown;
      try {
        await this.store.tags?.stamp(this.#clockKey, names);
      } catch (error) {
        stampFailure = error;
      }
      const removed = await remove();
      if (stampFailure !== undefined) throw stampFailure;
      return removed;
    };
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      throw this.#replay.defer(operation, key, run, error);
    }
  }

  /** How many invalidations wait to be replayed because the store could not be reached (0 normally). */
  get pendingInvalidations(): number {
    return this.#replay.size;
  }

  /** Listens to `hit`, `miss`, `fill` or `error`; returns a function that stops listening. */
  on<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  off<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): void {
    this.#events.off(event, listener);
  }

  /**
   * Runs every fill's method call of this cache inside `scope` (one at a time: a second call replaces
   * the first), so that tracing can open a span the method's own calls nest under; `cachet/otel` uses it.
   * Returns a function that removes it. Hits never reach it.
   */
  scopeFills(scope: FillScope): () => void {
    if (typeof scope !== 'function') throw optionError('scope', 'a function (fill, run) => run()', scope);
    this.#fillScope.current = scope;
    return () => {
      if (this.#fillScope.current === scope) this.#fillScope.current = undefined;
    };
  }

  /** Counters per method and in total, with hit rates. A snapshot: later calls do not change it. */
  stats(): CacheStats {
    const total = newCounters();
    const methods: Record<string, RatedCounters> = {};
    for (const [name, counters] of this.#counters) {
      methods[name] = withRates(counters);
      addCounters(total, counters);
    }
    return { total: withRates(total), methods };
  }

  /** Number of keys with a fill (or a live stream) in progress in this process (0 when idle). */
  get fillsInProgress(): number {
    return this.#fills.size + this.#live.size;
  }

  /** The ledger that methods of this cache record to when they give a `usage` function. */
  get ledger(): CostLedger | undefined {
    return this.#ledger;
  }

  /** Sends the last shared counters (with `sharedStats`), then closes the store. */
  async close(): Promise<void> {
    await this.#replay.close();
    await this.#shared?.close();
    await this.store.close();
  }
}

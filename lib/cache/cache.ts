import { systemClock, type Clock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import { Emitter } from '../core/events';
import { assertKeyPart, assertKnownOptions, assertOneOf, optionError, withDefaults } from '../core/validate';
import { KeyBuilder } from '../keys/key-builder';
import type { CacheStore } from '../stores/cache-store';
import { MemoryStore } from '../stores/memory-store';
import type { CacheEvents } from './cache-events';
import type { CostLedger } from '../ledger/cost-ledger';
import { CachedMethod } from './cached-method';
import type { CachedStream } from './cached-stream';
import { CachedStreamMethod, type LiveStreams } from './cached-stream-method';
import { MethodLedger } from './method-ledger';
import type { MethodRuntime } from './method-runtime';
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
import { addCounters, newCounters, withHitRate, type CacheCounters, type CacheStats } from './stats';

/** Options of {@link Cache}. Decorator options override the matching ones per method. */
export interface CacheOptions {
  /** Where values live. @default a new {@link MemoryStore} */
  readonly store?: CacheStore;
  /**
   * First part of every key, so that cachet's keys are easy to find and clear in a shared Redis.
   * @default 'cachet'
   */
  readonly prefix?: string;
  /** Second part of every key, for methods that give none. @default 'default' */
  readonly namespace?: string;
  /** Time to live of entries whose method gives none. @default '30m' */
  readonly ttl?: Duration;
  /** What to do when the store fails. @default 'bypass' */
  readonly onStoreError?: StoreErrorPolicy;
  /** Cross-process fill lock defaults; see {@link CachedOptions.lock}. @default { ttl: '10s', wait: '30s' } */
  readonly lock?: false | LockOptions;
  /** Time source, for tests. @default Date.now */
  readonly clock?: Clock;
  /**
   * Records what fills cost and hits saved, for methods that give a `usage` function (as
   * `chatKeyPolicy(...)` does). @default none
   */
  readonly ledger?: CostLedger;
}

const DEFAULTS = {
  prefix: 'cachet',
  namespace: 'default',
  ttl: '30m',
  onStoreError: 'bypass',
  clock: systemClock,
} as const satisfies Omit<Required<CacheOptions>, 'store' | 'lock' | 'ledger'>;

const KNOWN = ['store', 'lock', 'ledger', ...Object.keys(DEFAULTS)] as const;

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
  readonly #events = new Emitter<CacheEvents>();
  readonly #fills = new FillTable();
  readonly #live: LiveStreams = new Map();
  readonly #ledger: CostLedger | undefined;
  readonly #counters = new Map<string, CacheCounters>();
  /** Which decorated method owns each `namespace:Class.method`, to warn when two share one. */
  readonly #owners = new Map<string, object>();

  constructor(options: CacheOptions = {}) {
    assertKnownOptions('Cache', options, KNOWN);
    const resolved = withDefaults(DEFAULTS, options);
    if (resolved.store !== undefined && typeof resolved.store.get !== 'function') {
      throw optionError('store', 'a CacheStore (MemoryStore, RedisStore or your own)', resolved.store);
    }
    assertKeyPart('prefix', resolved.prefix);
    assertKeyPart('namespace', resolved.namespace);
    assertOneOf('onStoreError', resolved.onStoreError, STORE_ERROR_POLICIES);
    this.store = resolved.store ?? new MemoryStore({ clock: resolved.clock });
    this.#prefix = resolved.prefix;
    this.#namespace = resolved.namespace;
    this.#ttlMs = parseDuration('ttl', resolved.ttl);
    this.#onStoreError = resolved.onStoreError;
    this.#lock = resolveLock(options.lock) ?? DEFAULT_LOCK;
    this.#clock = resolved.clock;
    if (options.ledger !== undefined && typeof options.ledger?.recordFill !== 'function') {
      throw optionError('ledger', 'a CostLedger (MemoryCostLedger, RedisCostLedger)', options.ledger);
    }
    this.#ledger = options.ledger;
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
    if (typeof name !== 'string' || !name) throw optionError('name', 'a non-empty name for an anonymous function', name);
    const resolved = resolveCachedOptions(rest);
    const method: { call(fn: never, self: unknown, args: unknown[]): unknown } =
      resolved.stream === undefined ? this.method(name, resolved, fn) : this.streamMethod(name, resolved, fn);
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      return method.call(fn as never, this, args);
    };
    Object.defineProperty(wrapped, 'name', { value: name });
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
      process.emitWarning(
        `Two different cached methods are both named ${qualified}; they share cache entries. ` +
          'Give one of them a `namespace` or a `key`.',
        'CachetKeyCollisionWarning',
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
      ttlMs: options.ttlMs ?? this.#ttlMs,
      ttlFn: options.ttlFn,
      when: options.when,
      unless: options.unless,
      onStoreError: options.onStoreError ?? this.#onStoreError,
      lock: options.lock ?? this.#lock,
      ledger:
        ledger !== undefined && options.usage !== undefined
          ? new MethodLedger(ledger, options.usage, namespace, qualified, this.#events)
          : undefined,
    };
  }

  /** Listens to `hit`, `miss`, `fill` or `error`; returns a function that stops listening. */
  on<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  off<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): void {
    this.#events.off(event, listener);
  }

  /** Counters per method and in total, with hit rates. A snapshot: later calls do not change it. */
  stats(): CacheStats {
    const total = newCounters();
    const methods: Record<string, CacheCounters & { hitRate: number }> = {};
    for (const [name, counters] of this.#counters) {
      methods[name] = withHitRate(counters);
      addCounters(total, counters);
    }
    return { total: withHitRate(total), methods };
  }

  /** Number of keys with a fill (or a live stream) in progress in this process (0 when idle). */
  get fillsInProgress(): number {
    return this.#fills.size + this.#live.size;
  }

  /** The ledger that methods of this cache record to when they give a `usage` function. */
  get ledger(): CostLedger | undefined {
    return this.#ledger;
  }

  /** Closes the store. */
  close(): Promise<void> {
    return this.store.close();
  }
}

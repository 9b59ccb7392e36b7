import { parseDuration, type Duration } from '../core/duration';
import {
  assertKeyPart,
  assertKnownOptions,
  assertNamespace,
  assertOneOf,
  assertOptionalFunction,
  assertPlainObject,
  assertPositiveInteger,
  optionError,
  withDefaults,
} from '../core/validate';
import type { KeyFunction } from '../keys/key-builder';
import type { CostLedger } from '../ports/cost-ledger';
import type { Cache } from './cache';
import type { UsageFunction } from './method-ledger';
import type { ResolvedPace } from './stream-recording';
import {
  resolveSemantic,
  type ResolvedSemantic,
  type SemanticOptions,
  type SemanticQuestion,
} from './semantic-options';

/** What the cache does when its store fails: go on without it (`bypass`), or reject the call (`throw`). */
export type StoreErrorPolicy = 'bypass' | 'throw';

/** Cross-process fill lock settings; see {@link CachedOptions.lock}. */
export interface LockOptions {
  /**
   * Lifetime of the fill lease. It is renewed while the method runs, so it only bounds how long a
   * crashed holder blocks others.
   * @default '10s'
   */
  readonly ttl?: Duration;
  /**
   * Longest time another process waits for the holder's value before running the method itself.
   * @default '30s'
   */
  readonly wait?: Duration;
}

/** How `@Cached({ stream })` records and replays a streaming method; see {@link CachedOptions.stream}. */
export interface CachedStreamOptions {
  /**
   * How a hit replays: `false` as fast as the caller reads, `'recorded'` with the gaps between chunks
   * that the first stream had, or a fixed {@link Duration} before each chunk.
   * @default false
   */
  readonly pace?: false | 'recorded' | Duration;
}

/** Options of {@link Cached} and {@link Cache.wrap}. Every property is optional. */
export interface CachedOptions<Args extends any[] = any[], Result = any> {
  /** The cache to use. @default the default cache ({@link setDefaultCache}, else from the environment) */
  readonly cache?: Cache;
  /**
   * How long a result stays: a {@link Duration}, or a function of the result (a result-dependent TTL).
   * A TTL of 0 does not store the result.
   * @default the cache's `ttl` ('30m' unless set)
   */
  readonly ttl?: Duration | ((result: Result) => Duration);
  /**
   * Chooses what identifies a call instead of the whole argument list; called with the method's `this`,
   * so it can include instance state such as `this.model`. The class and method name stay in the key.
   */
  readonly key?: (this: any, ...args: Args) => unknown;
  /**
   * Groups keys, e.g. per feature; becomes part of every key, and `cache.clear({ namespace })` removes
   * exactly its entries. No whitespace, no `:`, and not `tag`. @default the cache's namespace
   */
  readonly namespace?: string;
  /**
   * Whether to use the cache for this call, judged from the arguments; `false` calls the method directly
   * and neither reads nor writes the cache (e.g. `(req) => req.temperature === 0`).
   */
  readonly when?: (this: any, ...args: Args) => boolean;
  /** Whether NOT to store a result (e.g. an empty answer); it is still returned. */
  readonly unless?: (result: Result) => boolean;
  /**
   * Whether a result is whole; one that is not is still returned but never stored, so the next call runs
   * the method again. A stream method gets the array of chunks of a stream that ended without an error,
   * to catch a source that closed cleanly in the middle (a stream that fails stores nothing anyway).
   * `chatKeyPolicy(...)` supplies one for chat completions: whole once every choice has a `finish_reason`.
   * A policy provides it while `unless` stays yours.
   * @default every result is whole
   */
  readonly complete?: (result: Result) => boolean;
  /** What to do when the store fails. @default the cache's policy ('bypass' unless set) */
  readonly onStoreError?: StoreErrorPolicy;
  /**
   * Cross-process single flight on stores that support it (Redis): `false` turns it off, an object tunes
   * it. Single flight inside one process is always on.
   * @default { ttl: '10s', wait: '30s' }
   */
  readonly lock?: false | LockOptions;
  /**
   * The method streams (an `async *` method, or one returning a promise of an `AsyncIterable`): cache its
   * chunks. The first caller reads them live while they are recorded; identical callers meanwhile share
   * that live stream; only a stream that ends without an error (and that `complete` accepts) is stored; a
   * hit replays the chunks in order. `ttl`, `unless`, `complete` and `usage` functions receive the array
   * of chunks. `true` means `{ pace: false }`.
   * @default false
   */
  readonly stream?: boolean | CachedStreamOptions;
  /** Where to record what fills cost and hits saved (needs `usage`). `false` turns off the cache's ledger. @default the cache's `ledger` */
  readonly ledger?: CostLedger | false;
  /**
   * Shortens each entry's TTL by a random share of up to this much (0 to 1), so that entries written
   * together do not all expire together. @default 0
   */
  readonly jitter?: number;
  /**
   * A longer TTL for entries read often: once an entry has had `hits` hits in this process, it is
   * stored again for `ttl`. @default off
   */
  readonly hot?: { readonly hits: number; readonly ttl: Duration };
  /**
   * After the TTL, keep serving the old value for this long while one background refresh runs (one
   * across every instance, on Redis). @default off
   */
  readonly staleWhileRevalidate?: Duration;
  /** After the TTL, serve the old value for this long when the method fails (the error is an `error` event). @default off */
  readonly staleIfError?: Duration;
  /**
   * Refresh in the background an entry read within this margin of the end of its TTL, as access tokens
   * are refreshed minutes before they expire; callers keep getting the current value. @default off
   */
  readonly refreshAhead?: Duration;
  /**
   * Tags of an entry, so that `cache.invalidateTags([...])` removes it (e.g. `agent:42` on every cached
   * read of agent 42): a list, or a function of the result (the chunks, for a stream) and the arguments.
   * Tags are non-empty strings without whitespace.
   */
  readonly tags?: readonly string[] | ((result: Result, ...args: Args) => readonly string[]);
  /**
   * Reads a result's model and token usage for the ledger, e.g. `chatKeyPolicy(...)` provides one for chat
   * completions. Without it nothing is recorded.
   */
  readonly usage?: UsageFunction;
  /**
   * The semantic cache: on an exact miss, serve the stored answer of a cached question that means the same
   * (same partition, similarity at least `threshold`, guards and `verify` agreeing); see docs/semantic.md.
   * Exact hits cost nothing more. @default off
   */
  readonly semantic?: SemanticOptions<Args>;
  /** How a call splits into the question and its partition, supplied by a policy (`chatKeyPolicy`) for `semantic`. */
  readonly semanticQuestion?: SemanticQuestion;
}

/** Options resolved and validated once, when a method is decorated or wrapped. */
export interface ResolvedCachedOptions {
  readonly cache: Cache | undefined;
  readonly ttlMs: number | undefined;
  readonly ttlFn: ((result: unknown) => Duration) | undefined;
  readonly key: KeyFunction | undefined;
  readonly namespace: string | undefined;
  readonly when: ((...args: unknown[]) => boolean) | undefined;
  readonly unless: ((result: unknown) => boolean) | undefined;
  readonly complete: ((result: unknown) => boolean) | undefined;
  readonly onStoreError: StoreErrorPolicy | undefined;
  readonly lock: false | { readonly ttlMs: number; readonly waitMs: number } | undefined;
  /** `undefined` for a promise method; how to replay for a stream method. */
  readonly stream: { readonly pace: ResolvedPace } | undefined;
  readonly ledger: CostLedger | false | undefined;
  readonly usage: UsageFunction | undefined;
  readonly tags: ((result: unknown, ...args: unknown[]) => readonly string[]) | undefined;
  readonly freshness: ResolvedFreshness | undefined;
  readonly semantic: ResolvedSemantic | undefined;
}

/** Freshness options in milliseconds; `undefined` as a whole when none is set. */
export interface ResolvedFreshness {
  readonly jitter: number;
  readonly hot: { readonly hits: number; readonly ttlMs: number } | undefined;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  readonly refreshAheadMs: number;
}

const FRESHNESS = ['jitter', 'hot', 'staleWhileRevalidate', 'staleIfError', 'refreshAhead'] as const;
const KNOWN = [
  'cache',
  'ttl',
  'key',
  'namespace',
  'when',
  'unless',
  'complete',
  'onStoreError',
  'lock',
  'stream',
  'ledger',
  'usage',
  'tags',
  'semantic',
  'semanticQuestion',
  ...FRESHNESS,
] as const;
export const STORE_ERROR_POLICIES = ['bypass', 'throw'] as const satisfies readonly StoreErrorPolicy[];
const LOCK_DEFAULTS = { ttl: '10s', wait: '30s' } as const satisfies Required<LockOptions>;

/** Validates options; throws a `TypeError` that names the bad option. */
export function resolveCachedOptions(options: CachedOptions = {}): ResolvedCachedOptions {
  assertPlainObject('options', options);
  assertKnownOptions('@Cached', options, KNOWN);
  const { cache, ttl, key, namespace, when, unless, complete, onStoreError, lock, stream, ledger, usage, tags } =
    options;
  if (cache !== undefined && (typeof cache !== 'object' || cache === null || typeof cache.method !== 'function')) {
    throw optionError('cache', 'a Cache instance', cache);
  }
  if (namespace !== undefined) assertNamespace('namespace', namespace);
  assertOptionalFunction('key', key);
  assertOptionalFunction('when', when);
  assertOptionalFunction('unless', unless);
  assertOptionalFunction('complete', complete);
  if (onStoreError !== undefined) assertOneOf('onStoreError', onStoreError, STORE_ERROR_POLICIES);
  assertOptionalFunction('usage', usage);
  if (ledger !== undefined && ledger !== false && !isLedger(ledger)) {
    throw optionError('ledger', 'a CostLedger (MemoryCostLedger, RedisCostLedger) or false', ledger);
  }
  return {
    cache,
    ttlMs: ttl === undefined || typeof ttl === 'function' ? undefined : parseDuration('ttl', ttl),
    ttlFn: typeof ttl === 'function' ? (ttl as (result: unknown) => Duration) : undefined,
    key,
    namespace,
    when: when as ((...args: unknown[]) => boolean) | undefined,
    unless: unless as ((result: unknown) => boolean) | undefined,
    complete: complete as ((result: unknown) => boolean) | undefined,
    onStoreError,
    lock: resolveLock(lock),
    stream: resolveStream(stream),
    ledger,
    usage,
    tags: resolveTags(tags),
    freshness: resolveFreshness(options, stream !== undefined && stream !== false),
    semantic: resolveSemantic(options.semantic, options.semanticQuestion),
  };
}

function resolveFreshness(options: CachedOptions, streams: boolean): ResolvedFreshness | undefined {
  const { jitter = 0, hot, staleWhileRevalidate, staleIfError, refreshAhead } = options;
  if (FRESHNESS.every((name) => options[name] === undefined)) return undefined;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1))
    throw optionError('jitter', 'a share from 0 to below 1, e.g. 0.1', jitter);
  // These act on each hit of a stored value; a stream's hits are replays, which they do not cover.
  const perHit =
    staleWhileRevalidate !== undefined || staleIfError !== undefined || refreshAhead !== undefined || hot !== undefined;
  if (streams && perHit) {
    throw optionError(
      'stream',
      'false when hot, staleWhileRevalidate, staleIfError or refreshAhead is set (a stream method takes jitter only)',
      options.stream,
    );
  }
  let resolvedHot: ResolvedFreshness['hot'];
  if (hot !== undefined) {
    assertPlainObject('hot', hot);
    assertKnownOptions('hot', hot, ['hits', 'ttl']);
    assertPositiveInteger('hot.hits', hot.hits);
    resolvedHot = { hits: hot.hits, ttlMs: parseDuration('hot.ttl', hot.ttl) };
  }
  return {
    jitter,
    hot: resolvedHot,
    staleWhileRevalidateMs:
      staleWhileRevalidate === undefined ? 0 : parseDuration('staleWhileRevalidate', staleWhileRevalidate),
    staleIfErrorMs: staleIfError === undefined ? 0 : parseDuration('staleIfError', staleIfError),
    refreshAheadMs: refreshAhead === undefined ? 0 : parseDuration('refreshAhead', refreshAhead),
  };
}

/** Validates `tags` (a list, or a function of the result and arguments) into a function; `undefined` stays. */
export function resolveTags(tags: unknown): ResolvedCachedOptions['tags'] {
  if (tags === undefined) return undefined;
  if (typeof tags === 'function') return tags as (result: unknown, ...args: unknown[]) => readonly string[];
  if (!Array.isArray(tags)) throw optionError('tags', 'an array of tags or a function returning one', tags);
  tags.forEach((tag, i) => assertKeyPart(`tags[${i}]`, tag));
  const fixed = Object.freeze([...tags] as string[]);
  return () => fixed;
}

function isLedger(value: unknown): value is CostLedger {
  const ledger = value as Partial<CostLedger> | null;
  return (
    typeof ledger === 'object' &&
    ledger !== null &&
    typeof ledger.recordFill === 'function' &&
    typeof ledger.recordHit === 'function'
  );
}

function resolveStream(stream: unknown): ResolvedCachedOptions['stream'] {
  if (stream === undefined || stream === false) return undefined;
  if (stream === true) return { pace: false };
  assertPlainObject('stream', stream);
  assertKnownOptions('stream', stream as object, ['pace']);
  const { pace = false } = stream as CachedStreamOptions;
  if (pace === false || pace === 'recorded') return { pace: pace as false | 'recorded' };
  try {
    return { pace: { everyMs: parseDuration('stream.pace', pace) } };
  } catch {
    throw optionError('stream.pace', "false, 'recorded', or a duration such as '20ms'", pace);
  }
}

export function resolveLock(lock: unknown): ResolvedCachedOptions['lock'] {
  if (lock === undefined || lock === false) return lock;
  assertPlainObject('lock', lock);
  assertKnownOptions('lock', lock as object, ['ttl', 'wait']);
  const merged = withDefaults(LOCK_DEFAULTS, lock as LockOptions);
  const ttlMs = parseDuration('lock.ttl', merged.ttl);
  if (ttlMs < 1) throw optionError('lock.ttl', 'a duration of at least 1ms', merged.ttl);
  return { ttlMs, waitMs: parseDuration('lock.wait', merged.wait) };
}

export const DEFAULT_LOCK = resolveLock({}) as { readonly ttlMs: number; readonly waitMs: number };

import { systemClock, type Clock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import {
  assertKeyPart,
  assertKnownOptions,
  assertOneOf,
  assertOptionalFunction,
  assertPlainObject,
  assertPositiveInteger,
  optionError,
  withDefaults,
} from '../core/validate';
import type { Semaphore } from '../ports/semaphore';
import type { EndpointHealthStore } from '../ports/endpoint-health';
import { namedRouterHealth } from '../resources/named-resources';
import type { HealthStoreFallback } from './shared-health';
import { toRateRule } from '../rate-limit/gcra';
import type { RateLimiter, RateRule } from '../ports/rate-limiter';
import type { CachedOptions } from '../cache/cached-options';
import { estimateChatTokens } from '../llm/chat-tokens';
import type { FailureClassifier } from './classify';

/**
 * What the router needs of a model client: `complete`, and `stream` for {@link ConcurrentRouter.stream}.
 * `ChatClient` fits, and so does any object with these methods. Both receive the router's signal, which
 * aborts when the attempt times out, the deadline passes or the caller aborts.
 */
export interface EndpointClient<Req = any, Res = any, Chunk = any> {
  complete(request: Req, options: { readonly signal?: AbortSignal }): Promise<Res>;
  stream?(request: Req, options: { readonly signal?: AbortSignal }): AsyncIterable<Chunk>;
}

/** One model endpoint behind the router. */
export interface EndpointOptions<Req = any, Res = any, Chunk = any> {
  /** Unique name, shown in `attempts`, `health()` and events. */
  readonly name: string;
  readonly client: EndpointClient<Req, Res, Chunk>;
  /**
   * The model this endpoint serves; it replaces the request's `model` when sent, and is what
   * `preferredModel` matches. @default the request's own `model`
   */
  readonly model?: string;
  /** Requests in flight at most on this endpoint, streams included until they end. Positive integer. */
  readonly maxConcurrent: number;
  /** Lower is tried first by the `priority` strategy, and breaks ties in the others. @default 0 */
  readonly priority?: number;
  /** Share of traffic under the `weighted` strategy, > 0. @default 1 */
  readonly weight?: number;
  /** Longest one attempt on this endpoint may take (to the first chunk, for a stream). @default the router's `timeout` */
  readonly timeout?: Duration;
  /** Tokens of context the model accepts; a context-length error moves the request to a larger one. */
  readonly contextWindow?: number;
  /**
   * The permits of this endpoint, e.g. a `RedisSemaphore` so the cap holds across instances (its `max`
   * should equal `maxConcurrent`). @default a LocalSemaphore of `maxConcurrent`
   */
  readonly semaphore?: Semaphore;
  /**
   * The provider's request quota for this endpoint: at most `limit` requests per `interval` (`burst` at
   * once). A request that would exceed it skips the endpoint rather than wait. Give a `RedisRateLimiter`
   * as `limiter` so the quota holds across instances. @default none
   */
  readonly rateLimit?: EndpointRateLimit;
  /**
   * The provider's token quota for this endpoint: at most this many tokens (prompt and completion) a
   * minute, the whole minute's worth at once. Each attempt reserves the router's `estimateTokens` of the
   * request before it is sent, and is corrected from the answer's `usage.total_tokens` (for a stream,
   * the chunk that carries usage): what it did not use comes back, what it used beyond is charged. A
   * failed attempt gives its reservation back. A request whose estimate does not fit skips the endpoint,
   * as a spent `rateLimit` does. Shared across instances through the router's `limiter`. A positive
   * integer. @default none
   */
  readonly tokensPerMinute?: number;
}

/** See {@link EndpointOptions.rateLimit}. */
export interface EndpointRateLimit {
  /** Requests per `interval`, a positive integer. */
  readonly limit: number;
  readonly interval: Duration;
  /** Requests admitted at once from rest. @default 1 */
  readonly burst?: number;
  /** @default the router's `limiter` */
  readonly limiter?: RateLimiter;
}

/** See {@link RouterOptions.failures}. */
export interface FailureWindow {
  /** Failures within `window` that set an endpoint aside, a positive integer. */
  readonly threshold: number;
  readonly window: Duration;
}

/** Order of trial after the preferred model. */
export type RouterStrategy = 'priority' | 'least-busy' | 'latency' | 'weighted';

/** Options of a {@link ConcurrentRouter}. */
export interface RouterOptions<Req = any, Res = any, Chunk = any> {
  readonly endpoints: readonly EndpointOptions<Req, Res, Chunk>[];
  /** @default 'priority' */
  readonly strategy?: RouterStrategy;
  /**
   * When the endpoint next in line has no free permit, move on to the next one that has, instead of
   * waiting in its queue; wait only when every endpoint is full. @default false
   */
  readonly spillover?: boolean;
  /** Per-attempt time limit of endpoints that give none. @default '60s' */
  readonly timeout?: Duration;
  /** Consecutive failures that set an endpoint aside. @default 3 */
  readonly failureThreshold?: number;
  /** How long an endpoint is set aside after `failureThreshold` failures (a 429's `Retry-After` wins). @default '30s' */
  readonly cooldown?: Duration;
  /**
   * Also set an endpoint aside after `threshold` failures within `window`, whatever succeeded between
   * them (`failureThreshold` counts failures in a row). @default none
   */
  readonly failures?: FailureWindow;
  /**
   * Shares endpoint health between instances: a `RedisRouterHealth` (from `cachet/redis`), a
   * `MemoryRouterHealth` shared by routers of one process, or the name of one registered with
   * `registerResource('routerHealth', name, store)`. A cooldown set by any instance is honoured by all,
   * and one probe across all of them ends it. @default none: each router keeps its own
   */
  readonly health?: EndpointHealthStore | string;
  /**
   * What the router does while the `health` store fails (Redis down): `'local'` counts failures and sets
   * endpoints aside on its own, as without a store; `'ignore'` honours only `Retry-After`s and failed
   * probes. Either way it keeps routing, and emits `healthError`. @default 'local'
   */
  readonly onHealthStoreError?: HealthStoreFallback;
  /** Overrides the default verdict on a failure; see {@link classifyFailure}. */
  readonly classify?: FailureClassifier;
  /**
   * Caches answers around routing, with `@Cached`'s options (e.g. `{ cache, ttl: '1h', ...chatKeyPolicy({ tenant: false }) }`):
   * a cached answer takes no permit and calls no endpoint. The key reads only the request.
   */
  readonly cached?: Omit<CachedOptions, 'stream'>;
  /**
   * The rate limiter that holds the endpoints' quotas (`tokensPerMinute`, and `rateLimit` when it names
   * none): a `RedisRateLimiter` makes them hold across every instance that shares it.
   * @default a MemoryRateLimiter of this router, on its `clock`
   */
  readonly limiter?: RateLimiter;
  /**
   * Estimates the tokens of a request, reserved from an endpoint's `tokensPerMinute` before it is sent.
   * Returns a number >= 0. @default estimateChatTokens (characters / 4, plus the completion allowed)
   */
  readonly estimateTokens?: (request: Req) => number;
  /** Source of numbers in [0, 1) for the `weighted` strategy. @default Math.random */
  readonly random?: () => number;
  /** Time source. @default Date.now */
  readonly clock?: Clock;
}

export interface ResolvedEndpoint<Req = any, Res = any, Chunk = any> {
  readonly name: string;
  readonly client: EndpointClient<Req, Res, Chunk>;
  readonly model: string | undefined;
  readonly maxConcurrent: number;
  readonly priority: number;
  readonly weight: number;
  readonly timeoutMs: number;
  readonly contextWindow: number | undefined;
  readonly semaphore: Semaphore | undefined;
  readonly rateLimit: { readonly rule: RateRule; readonly limiter: RateLimiter | undefined } | undefined;
  /** The token quota: `tokensPerMinute` per minute, all of it at once. */
  readonly tokens: RateRule | undefined;
  /** Declaration order, the last tie-breaker. */
  readonly index: number;
}

export interface ResolvedRouterOptions {
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly strategy: RouterStrategy;
  readonly spillover: boolean;
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  /** `failures` resolved; `{ failures: 0, ms: 0 }` when off. */
  readonly failureWindow: { readonly failures: number; readonly ms: number };
  readonly health: EndpointHealthStore | undefined;
  readonly onHealthStoreError: HealthStoreFallback;
  readonly classify: FailureClassifier | undefined;
  readonly cached: Omit<CachedOptions, 'stream'> | undefined;
  readonly limiter: RateLimiter | undefined;
  readonly estimateTokens: (request: any) => number;
  readonly random: () => number;
  readonly clock: Clock;
}

const STRATEGIES = ['priority', 'least-busy', 'latency', 'weighted'] as const satisfies readonly RouterStrategy[];
const KNOWN = [
  'endpoints',
  'strategy',
  'spillover',
  'timeout',
  'failureThreshold',
  'cooldown',
  'failures',
  'health',
  'onHealthStoreError',
  'classify',
  'cached',
  'limiter',
  'estimateTokens',
  'random',
  'clock',
] as const;
/** The option names of an endpoint (`routerFromConfig` adds its own). */
export const ENDPOINT_KNOWN = [
  'name',
  'client',
  'model',
  'maxConcurrent',
  'priority',
  'weight',
  'timeout',
  'contextWindow',
  'semaphore',
  'rateLimit',
  'tokensPerMinute',
] as const;
const DEFAULTS = {
  strategy: 'priority',
  spillover: false,
  timeout: '60s',
  failureThreshold: 3,
  cooldown: '30s',
  onHealthStoreError: 'local',
  random: Math.random,
  clock: systemClock,
  estimateTokens: estimateChatTokens,
} as const;

/** Validates router options once, at construction; a bad option throws a `TypeError` naming it. */
export function resolveRouterOptions(options: RouterOptions): ResolvedRouterOptions {
  assertPlainObject('options', options);
  assertKnownOptions('ConcurrentRouter', options, KNOWN);
  const merged = withDefaults(DEFAULTS, options);
  assertOneOf('strategy', merged.strategy, STRATEGIES);
  if (typeof merged.spillover !== 'boolean') throw optionError('spillover', 'a boolean', merged.spillover);
  assertPositiveInteger('failureThreshold', merged.failureThreshold);
  assertOptionalFunction('classify', merged.classify);
  assertOptionalFunction('random', merged.random);
  assertOptionalFunction('estimateTokens', merged.estimateTokens);
  if (merged.limiter !== undefined) assertLimiter('limiter', merged.limiter);
  if (merged.cached !== undefined) assertPlainObject('cached', merged.cached);
  assertOneOf('onHealthStoreError', merged.onHealthStoreError, ['local', 'ignore']);
  const timeoutMs = parseDuration('timeout', merged.timeout);
  if (!Array.isArray(merged.endpoints) || merged.endpoints.length === 0) {
    throw optionError('endpoints', 'a non-empty array of endpoints', merged.endpoints);
  }
  const endpoints = merged.endpoints.map((endpoint, index) => resolveEndpoint(endpoint, index, timeoutMs));
  const names = new Set<string>();
  for (const { name } of endpoints) {
    if (names.has(name))
      throw optionError('endpoints', `endpoints with distinct names (two are named "${name}")`, name);
    names.add(name);
  }
  return {
    endpoints,
    strategy: merged.strategy,
    spillover: merged.spillover,
    failureThreshold: merged.failureThreshold,
    cooldownMs: parseDuration('cooldown', merged.cooldown),
    failureWindow: resolveFailureWindow(merged.failures),
    health: resolveHealth(merged.health),
    onHealthStoreError: merged.onHealthStoreError,
    classify: merged.classify,
    cached: merged.cached,
    limiter: merged.limiter,
    estimateTokens: merged.estimateTokens,
    random: merged.random,
    clock: merged.clock,
  };
}

function resolveEndpoint(endpoint: EndpointOptions, index: number, defaultTimeoutMs: number): ResolvedEndpoint {
  const at = (field: string) => `endpoints[${index}].${field}`;
  assertPlainObject(`endpoints[${index}]`, endpoint);
  assertKnownOptions(`endpoints[${index}]`, endpoint, ENDPOINT_KNOWN);
  assertKeyPart(at('name'), endpoint.name);
  const { client } = endpoint;
  if (typeof client !== 'object' || client === null || typeof client.complete !== 'function') {
    throw optionError(at('client'), 'a client with complete(request, { signal }) (a ChatClient, or your own)', client);
  }
  if (endpoint.model !== undefined && (typeof endpoint.model !== 'string' || endpoint.model === '')) {
    throw optionError(at('model'), 'a non-empty model name', endpoint.model);
  }
  assertPositiveInteger(at('maxConcurrent'), endpoint.maxConcurrent);
  const { priority = 0, weight = 1, contextWindow, semaphore } = endpoint;
  if (typeof priority !== 'number' || !Number.isFinite(priority))
    throw optionError(at('priority'), 'a finite number', priority);
  if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight))
    throw optionError(at('weight'), 'a number > 0', weight);
  if (contextWindow !== undefined) assertPositiveInteger(at('contextWindow'), contextWindow);
  const { tokensPerMinute } = endpoint;
  if (tokensPerMinute !== undefined) assertPositiveInteger(at('tokensPerMinute'), tokensPerMinute);
  if (semaphore !== undefined && (typeof semaphore !== 'object' || typeof semaphore.acquire !== 'function')) {
    throw optionError(at('semaphore'), 'a Semaphore (LocalSemaphore, RedisSemaphore)', semaphore);
  }
  return {
    name: endpoint.name,
    client,
    model: endpoint.model,
    maxConcurrent: endpoint.maxConcurrent,
    priority,
    weight,
    timeoutMs: endpoint.timeout === undefined ? defaultTimeoutMs : parseDuration(at('timeout'), endpoint.timeout),
    contextWindow,
    semaphore,
    rateLimit: endpoint.rateLimit === undefined ? undefined : resolveRateLimit(endpoint.rateLimit, at('rateLimit')),
    tokens: tokensPerMinute === undefined ? undefined : toRateRule(tokensPerMinute, MINUTE_MS, tokensPerMinute),
    index,
  };
}

function resolveFailureWindow(value: FailureWindow | undefined): ResolvedRouterOptions['failureWindow'] {
  if (value === undefined) return { failures: 0, ms: 0 };
  assertPlainObject('failures', value);
  assertKnownOptions('failures', value, ['threshold', 'window']);
  assertPositiveInteger('failures.threshold', value.threshold);
  const ms = parseDuration('failures.window', value.window);
  if (ms < 1) throw optionError('failures.window', 'a duration of at least 1ms', value.window);
  return { failures: value.threshold, ms };
}

function resolveHealth(value: EndpointHealthStore | string | undefined): EndpointHealthStore | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return namedRouterHealth(value);
  const methods = ['claimProbe', 'failed', 'succeeded', 'abandoned', 'read', 'watch'] as const;
  if (typeof value !== 'object' || value === null || methods.some((m) => typeof value[m] !== 'function')) {
    throw optionError(
      'health',
      'an EndpointHealthStore (RedisRouterHealth, MemoryRouterHealth) or a registered name',
      value,
    );
  }
  return value;
}

function resolveRateLimit(rateLimit: EndpointRateLimit, name: string): ResolvedEndpoint['rateLimit'] {
  assertPlainObject(name, rateLimit);
  assertKnownOptions(name, rateLimit, ['limit', 'interval', 'burst', 'limiter']);
  const { limit, interval, burst = 1, limiter } = rateLimit;
  assertPositiveInteger(`${name}.limit`, limit);
  assertPositiveInteger(`${name}.burst`, burst);
  const intervalMs = parseDuration(`${name}.interval`, interval);
  if (intervalMs < 1) throw optionError(`${name}.interval`, 'a duration of at least 1ms', interval);
  if (limiter !== undefined) assertLimiter(`${name}.limiter`, limiter);
  return { rule: toRateRule(limit, intervalMs, burst), limiter };
}

const MINUTE_MS = 60_000;

function assertLimiter(name: string, limiter: unknown): void {
  const { decide, adjust } = (limiter ?? {}) as Partial<RateLimiter>;
  if (typeof decide !== 'function' || typeof adjust !== 'function') {
    throw optionError(name, 'a RateLimiter (MemoryRateLimiter, RedisRateLimiter)', limiter);
  }
}

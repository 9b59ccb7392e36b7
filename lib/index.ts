/**
 * cachet: method decorators that make expensive calls cheap, fast and dependable. This entry point has
 * the decorators, the memory backends, the policies and the errors, and loads no Redis or HTTP client:
 * Redis backends are in `cachet/redis`, model clients and chat keys in `cachet/llm`, the router in
 * `cachet/router`, retrieval in `cachet/retrieval`, and test tools in `cachet/testing`.
 * @packageDocumentation
 */
import type { RedisStore } from './redis/redis-store';
import { setStoreForUrl } from './cache/default-cache';

// The default cache follows REDIS_URL with no code from the user; the Redis code loads only then.
setStoreForUrl((url) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand, see above
  const { RedisStore: Store } = require('./redis/redis-store') as { RedisStore: typeof RedisStore };
  return new Store({ url });
});

export { Cache } from './cache/cache';
export type { WarmOptions, WarmFromLogOptions, WarmProgress, WarmResult } from './cache/warming';
export type { CacheOptions, CacheReport } from './cache/cache';
export type { CacheEntryDetails, CacheKeysOptions } from './cache/cache-inspector';

export type { CachedOptions, CachedStreamOptions, LockOptions, StoreErrorPolicy } from './cache/cached-options';
export { CachedStream } from './cache/cached-stream';
export type { StreamRecording } from './cache/stream-recording';
export type { CallUsage, UsageFunction } from './cache/method-ledger';
export type {
  CacheEvents,
  LookupEvent,
  FillEvent,
  CacheErrorEvent,
  InvalidateEvent,
  SemanticHitEvent,
  FillInfo,
  FillScope,
} from './cache/cache-events';
export type { SemanticCandidate, SemanticExplanation } from './cache/semantic-types';
export type { SemanticOptions } from './cache/semantic-options';
export type { Embedder } from './semantic/embedder';
export { OfflineEmbedder } from './semantic/offline-embedder';
export type { OfflineEmbedderOptions } from './semantic/offline-embedder';
export { calibrateThreshold, rocAuc, recallAtFalseHitRate, cosine, CalibrationError } from './semantic/calibrate';
export type { LabelledPair, Calibration, CalibrateOptions, RecallAtRate } from './semantic/calibrate';
export {
  checkGuards,
  createGuards,
  defaultGuards,
  numbersGuard,
  negationGuard,
  quotesGuard,
  entitiesGuard,
} from './semantic/guards';
export type { Guard, GuardName, GuardOptions, GuardRefusal, GuardVerdict } from './semantic/guards';
export type { CacheCounters, CacheRates, CacheStats, RatedCounters } from './cache/stats';
export { getDefaultCache, setDefaultCache, createCacheFromEnv } from './cache/default-cache';

export { Cached } from './cache/cached';
export { InvalidatesCache } from './cache/invalidates-cache';
export type { InvalidatesCacheOptions } from './cache/invalidates-cache';
export type { AsyncMethod, StreamingMethod } from './cache/cached';
export {
  registerResource,
  resolveResource,
  UnknownResourceError,
  isUnknownResourceError,
} from './resources/named-resources';
export type { NamedResources, ResourceKind } from './resources/named-resources';
export { describePolicies } from './decorate/policies';
export type { MethodPolicies } from './decorate/policies';
export { createMethodDecorator } from './decorate/method-decorator';
export type { UniversalMethodDecorator, MethodSite } from './decorate/method-decorator';

export { MemoryStore } from './cache/memory-store';
export type { MemoryStoreOptions } from './cache/memory-store';
export type {
  TagIndex,
  CacheStore,
  CacheEntry,
  FillCoordinator,
  FillLease,
  FillWait,
  MaybePromise,
  SharedCounters,
  StoreInfo,
  CurrencyCheck,
  StoredEntry,
} from './ports/cache-store';

export {
  CachetError,
  CacheKeyError,
  StoreError,
  StoreTimeoutError,
  StoreUnavailableError,
  InvalidationQueuedError,
  NotCachetKeyError,
  isCachetError,
  isCacheKeyError,
  isStoreError,
  isStoreTimeoutError,
  isStoreUnavailableError,
  isInvalidationQueuedError,
  isNotCachetKeyError,
} from './core/errors';
export {
  ValueEncodeError,
  ValueDecodeError,
  isValueEncodeError,
  isValueDecodeError,
  registerClass,
} from './codec/value-codec';
export type { ClassOptions } from './codec/value-codec';
export { parseDuration } from './core/duration';
export type { Duration } from './core/duration';
export type { Clock } from './core/clock';
export { setLogger, getLogger } from './core/logger';
export type { CachetLogger, CachetLogEvent, LogFields, LogLevel } from './core/logger';
export { readSettings } from './core/settings';
export type { Settings } from './core/settings';

// Resilience: circuit breaker.
export { Circuit, CircuitBreaker, circuitBreaker } from './resilience/circuit-breaker';
export type { CircuitEvent, CircuitEvents } from './resilience/circuit-breaker';
export type { CircuitBreakerOptions } from './resilience/circuit-breaker-options';
export { CircuitOpenError, isCircuitOpenError } from './resilience/circuit-open-error';
export { MemoryCircuitState } from './resilience/memory-circuit-state';
export type {
  CircuitStateName,
  CircuitStateStore,
  CircuitPolicy,
  CircuitAdmission,
  CircuitOutcome,
} from './ports/circuit-state';

// Resilience: retry, timeout, fallback.
export { Retry, retry, isTransientError } from './resilience/retry';
export type { RetryOptions, RetryInfo } from './resilience/retry';
export { fullJitterDelay, retryAfterOf } from './resilience/backoff';
export { Timeout, withTimeout } from './resilience/timeout';
export { currentSignal, runWithSignal } from './core/current-signal';
export { Fallback, withFallback } from './resilience/fallback';
export type { FallbackOptions, FallbackFunction, ErrorClass } from './resilience/fallback';
export { TimeoutError, FallbackError, isTimeoutError, isFallbackError } from './resilience/errors';

// Concurrency caps.
export { Concurrency, limitConcurrency, concurrencyOf } from './concurrency/concurrency';
export type { ConcurrencyOptions, ConcurrencyLimited } from './concurrency/concurrency';
export { LocalSemaphore } from './concurrency/local-semaphore';
export type { Semaphore, Permit, AcquireOptions } from './ports/semaphore';
export type { QueueOptions } from './concurrency/queue-options';
export {
  QueueFullError,
  QueueTimeoutError,
  isQueueFullError,
  isQueueTimeoutError,
} from './concurrency/concurrency-errors';

// Rate limiting.
export { RateLimited, rateLimited } from './rate-limit/rate-limited';
export type { RateLimitedOptions, RateLimitStoreErrorPolicy } from './rate-limit/rate-limit-options';
export { RateLimitError, isRateLimitError } from './rate-limit/rate-limit-error';
export { MemoryRateLimiter } from './rate-limit/memory-rate-limiter';
export type { MemoryRateLimiterOptions } from './rate-limit/memory-rate-limiter';
export { toRateRule } from './rate-limit/gcra';
export { RATE_LIMIT_WAIT_CHANNEL, type RateLimitWait } from './rate-limit/rate-limit-policy';
export type { RateLimiter, RateDecision, RateAdjustment, RateRule } from './ports/rate-limiter';

// Cost accounting: what misses spent and hits saved, per namespace, tenant and model.
export {
  PriceTable,
  ILLUSTRATIVE_PRICES,
  UnknownModelError,
  isUnknownModelError,
  formatUsd,
  toTokenUsage,
} from './ledger/price-table';
export type { ModelPrice, CallCost } from './ledger/price-table';
export type { TokenUsage, UsageLike } from './ports/cost-ledger';
export { MemoryCostLedger, NO_TENANT } from './ledger/cost-ledger';
export type { MemoryCostLedgerOptions } from './ledger/cost-ledger';
export type { CostLedger, LedgerEntry } from './ports/cost-ledger';
export { formatLedgerReport } from './ledger/ledger-report';
export type { LedgerReport, LedgerRow, LedgerTotals, LedgerFilter, LedgerCounters } from './ports/cost-ledger';

/**
 * cachet: method decorators that make expensive calls cheap, fast and dependable.
 * @packageDocumentation
 */
export { Cache } from './cache/cache';
export type { WarmOptions, WarmFromLogOptions, WarmProgress, WarmResult } from './cache/warming';
export type { CacheOptions, CacheReport } from './cache/cache';
export type { RedisInfo } from './redis/shared-stats';
export type { CachedOptions, CachedStreamOptions, LockOptions, StoreErrorPolicy } from './cache/cached-options';
export { CachedStream } from './cache/cached-stream';
export type { StreamRecording } from './cache/stream-recording';
export type { CallUsage, UsageFunction } from './cache/method-ledger';
export type { CacheEvents, LookupEvent, FillEvent, CacheErrorEvent, InvalidateEvent } from './cache/cache-events';
export type { CacheCounters, CacheRates, CacheStats, RatedCounters } from './cache/stats';
export { getDefaultCache, setDefaultCache, createCacheFromEnv } from './cache/default-cache';

export { Cached } from './cache/cached';
export { InvalidatesCache } from './cache/invalidates-cache';
export type { InvalidatesCacheOptions } from './cache/invalidates-cache';
export type { AsyncMethod, StreamingMethod } from './cache/cached';
export { describePolicies } from './decorate/policies';
export type { MethodPolicies } from './decorate/policies';
export { createMethodDecorator } from './decorate/method-decorator';
export type { UniversalMethodDecorator, MethodSite } from './decorate/method-decorator';

export { MemoryStore } from './cache/memory-store';
export type { MemoryStoreOptions } from './cache/memory-store';
export type { TagIndex, CacheStore, CacheEntry, FillCoordinator, FillLease, FillWait, MaybePromise } from './ports/cache-store';
export { RedisStore } from './redis/redis-store';
export type { RedisStoreOptions, RedisStoreEvents } from './redis/redis-store';
export type { RedisClientLike } from './redis/connection';
export type { StoreCircuitState } from './redis/store-breaker';

export {
  CachetError,
  CacheKeyError,
  StoreError,
  StoreTimeoutError,
  StoreUnavailableError,
  isCachetError,
  isCacheKeyError,
  isStoreError,
  isStoreTimeoutError,
  isStoreUnavailableError,
} from './core/errors';
export { ValueEncodeError, ValueDecodeError, isValueEncodeError, isValueDecodeError, registerClass } from './codec/value-codec';
export type { ClassOptions } from './codec/value-codec';
export { parseDuration } from './core/duration';
export type { Duration } from './core/duration';
export type { Clock } from './core/clock';
export { readSettings } from './core/settings';
export type { Settings } from './core/settings';

// Resilience: circuit breaker.
export { Circuit, CircuitBreaker, circuitBreaker } from './resilience/circuit-breaker';
export type { CircuitEvent, CircuitEvents } from './resilience/circuit-breaker';
export type { CircuitBreakerOptions } from './resilience/circuit-breaker-options';
export { CircuitOpenError, isCircuitOpenError } from './resilience/circuit-open-error';
export { MemoryCircuitState } from './resilience/memory-circuit-state';
export type { CircuitStateName, CircuitStateStore, CircuitPolicy, CircuitAdmission, CircuitOutcome } from './ports/circuit-state';
export { RedisCircuitState } from './redis/redis-circuit-state';
export type { RedisCircuitStateOptions, RedisCircuitStateEvents } from './redis/redis-circuit-state';

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
export { QueueFullError, QueueTimeoutError, isQueueFullError, isQueueTimeoutError } from './concurrency/concurrency-errors';
export { RedisSemaphore } from './redis/redis-semaphore';
export { hashSlot } from './redis/cluster';
export { TieredStore } from './redis/tiered-store';
export type { TieredStoreOptions, TieredStoreEvents } from './redis/tiered-store';
export type { RedisClusterLike } from './redis/cluster';
export type { RedisSemaphoreOptions, RedisSemaphoreEvents } from './redis/redis-semaphore';

// Rate limiting.
export { RateLimited, rateLimited } from './rate-limit/rate-limited';
export type { RateLimitedOptions, RateLimitStoreErrorPolicy } from './rate-limit/rate-limit-options';
export { RateLimitError, isRateLimitError } from './rate-limit/rate-limit-error';
export { MemoryRateLimiter } from './rate-limit/memory-rate-limiter';
export type { MemoryRateLimiterOptions } from './rate-limit/memory-rate-limiter';
export { toRateRule } from './rate-limit/gcra';
export type { RateLimiter, RateDecision, RateRule } from './ports/rate-limiter';
export { RedisRateLimiter } from './redis/redis-rate-limiter';
export type { RedisRateLimiterOptions, RedisRateLimiterEvents } from './redis/redis-rate-limiter';

// LLM requests: cache keys that include exactly what changes an answer.
export { chatKeyPolicy, explainKey, ChatKeyError, isChatKeyError } from './llm/chat-key';
export { CHAT_IGNORED_FIELDS } from './llm/chat-key-fields';
export { usageOfChatResult } from './llm/chat-usage';
export type { ChatKeyOptions, ChatNormalizeOptions, ChatKeyPolicy, ChatKeyExplanation } from './llm/chat-key';
export type { ChatRequest, ChatMessage, ChatContentPart, ChatToolCall, ChatTool, ChatRole } from './llm/chat-request';

// Cost accounting: what misses spent and hits saved, per namespace, tenant and model.
export { PriceTable, ILLUSTRATIVE_PRICES, UnknownModelError, isUnknownModelError, formatUsd, toTokenUsage } from './ledger/price-table';
export type { ModelPrice, CallCost } from './ledger/price-table';
export type { TokenUsage, UsageLike } from './ports/cost-ledger';
export { MemoryCostLedger, NO_TENANT } from './ledger/cost-ledger';
export type { MemoryCostLedgerOptions } from './ledger/cost-ledger';
export type { CostLedger, LedgerEntry } from './ports/cost-ledger';
export { formatLedgerReport } from './ledger/ledger-report';
export type { LedgerReport, LedgerRow, LedgerTotals, LedgerFilter, LedgerCounters } from './ports/cost-ledger';
export { RedisCostLedger } from './redis/redis-cost-ledger';
export type { RedisCostLedgerOptions } from './redis/redis-cost-ledger';

// Model clients.
export { ChatClient } from './llm/chat-client';
export type { ChatCompletion, ChatCompletionChunk, ChatCompletionUsage, ChatCallOptions } from './llm/chat-client';
export type { ChatClientOptions } from './llm/chat-client-options';
export { ProviderError, isProviderError, retryAfterFrom } from './llm/provider-error';

export { ConcurrentRouter } from './router/concurrent-router';
export type { RouteOptions, RouteResult, EndpointHealthReport, RouterEvents } from './router/concurrent-router';
export type { RouterOptions, EndpointOptions, EndpointClient, EndpointRateLimit, RouterStrategy } from './router/router-options';
export { RouterError, isRouterError } from './router/router-error';
export type { RouteAttempt, SkippedEndpoint, RouteFailure } from './router/router-error';
export { classifyFailure, isContextLengthError } from './router/classify';
export type { FailureVerdict, FailureClassifier } from './router/classify';
export type { EndpointState } from './router/endpoint-health';

export { chunk } from './retrieval/chunk';
export type { Chunk, ChunkOptions } from './retrieval/chunk';
export { createTokenizer, ENGLISH_STOP_WORDS } from './retrieval/tokenize';
export type { Tokenizer, TokenizerOptions } from './retrieval/tokenize';
export { porterStem } from './retrieval/porter-stemmer';
export { Bm25Index, SnapshotError } from './retrieval/bm25-index';
export type { Bm25Options, RetrievalDocument, ScoredChunk, SearchOptions } from './retrieval/bm25-index';
export { StreamingRetriever } from './retrieval/streaming-retriever';
export type { RetrieveOptions, RetrieveFromOptions } from './retrieval/streaming-retriever';
export { saveSnapshotFile, loadSnapshotFile, saveSnapshotToRedis, loadSnapshotFromRedis } from './retrieval/snapshot-storage';

/**
 * The names cachet's telemetry uses, in one place: the README's metric table lists the same. Metric and
 * attribute names follow the OpenTelemetry conventions (dot-separated, lower case, units as UCUM, durations
 * in seconds); the model spans and the token metrics use the GenAI semantic conventions.
 */

/** The instrumentation scope of every meter and tracer cachet asks for. */
export const INSTRUMENTATION_SCOPE = 'cachet';

/** Every metric `cachet/otel` reports. */
export const METRICS = {
  /** Cache lookups by `cachet.result`: `hit`, `semantic_hit` or `miss` (their sum is every lookup). */
  cacheLookups: 'cachet.cache.lookups',
  /** Calls that shared another caller's fill (in this process or another) instead of running the method. */
  cacheCoalesced: 'cachet.cache.coalesced',
  /** Hits served stale while a refresh ran (`staleWhileRevalidate`); counted among the `hit` lookups too. */
  cacheStale: 'cachet.cache.stale',
  /** Fills: the method ran for the cache. */
  cacheFills: 'cachet.cache.fills',
  /** Failures the call went on without, by `error.type`: `store`, `decode` or `encode`. */
  cacheErrors: 'cachet.cache.errors',
  /**
   * Invalidations that went through, by `cachet.invalidation.kind`: `key` (with the entry's `cachet.namespace`),
   * `tag`, `namespace` (with `cachet.namespace`) or `all` (a whole-cache `clear()`).
   */
  cacheInvalidations: 'cachet.cache.invalidations',
  /** How long fills' method calls took. */
  cacheFillDuration: 'cachet.cache.fill.duration',
  /** How long store operations took, by `cachet.operation`. */
  storeOperationDuration: 'cachet.store.operation.duration',
  /** Background store failures no caller saw (lease renewal, subscriber), by `cachet.operation`. */
  storeErrors: 'cachet.store.errors',
  /** State changes of the breaker in front of a Redis backend, by `cachet.circuit.state`. */
  storeBreakerTransitions: 'cachet.store.breaker.transitions',
  /** A `TieredStore`'s invalidation channel lost (`cachet.coherence: lost`, memory tier bypassed) or `live` again. */
  storeCoherenceChanges: 'cachet.store.coherence.changes',
  /** Rate limiter decisions by `cachet.decision`: `admitted`, `rejected` or `error` (the backend failed). */
  rateLimitDecisions: 'cachet.ratelimit.decisions',
  /** Calls that queued for a slot (`mode: 'wait'`). */
  rateLimitWaits: 'cachet.ratelimit.waits',
  /** Background failures of a Redis rate limiter (a decision that failed). */
  rateLimitErrors: 'cachet.ratelimit.errors',
  /** State changes of the breaker in front of a Redis rate limiter. */
  rateLimitBreakerTransitions: 'cachet.ratelimit.breaker.transitions',
  /** State changes of a circuit breaker, by `cachet.circuit.state`. */
  circuitTransitions: 'cachet.circuit.transitions',
  /** 1 for a circuit's current state, 0 for the two others, by `cachet.circuit.state`. */
  circuitState: 'cachet.circuit.state',
  /** Decisions a `RedisCircuitState` could not take in Redis (the local circuit took them), by `cachet.operation`. */
  circuitStoreErrors: 'cachet.circuit.store.errors',
  /** Acquires a `RedisSemaphore` served from its in-process fallback because Redis failed, by `cachet.semaphore`. */
  semaphoreFallbacks: 'cachet.semaphore.fallbacks',
  /** Held `RedisSemaphore` leases that expired before they could be renewed (the slot may be reused). */
  semaphoreLeasesLost: 'cachet.semaphore.leases_lost',
  /** Router attempts by endpoint and `cachet.outcome`: `ok`, `failed`, `timeout`, `no-permit`. */
  routerAttempts: 'cachet.router.attempts',
  /** How long router attempts took, permit wait included (to the first chunk for a stream). */
  routerAttemptDuration: 'cachet.router.attempt.duration',
  /** Requests that left an endpoint after a failure for the next, by `cachet.verdict`. */
  routerFallbacks: 'cachet.router.fallbacks',
  /** Endpoints set aside after failures or a `Retry-After`. */
  routerCooldowns: 'cachet.router.cooldowns',
  /** Set-aside endpoints whose probe succeeded. */
  routerRecoveries: 'cachet.router.recoveries',
  /** Shared-health operations that failed (the router decided alone), by `cachet.endpoint` when one was concerned. */
  routerHealthErrors: 'cachet.router.health_errors',
  /** Requests holding a permit of an endpoint now. */
  routerInFlight: 'cachet.router.in_flight',
  /** Calls the cost ledger recorded, by `cachet.ledger.kind`: `spent` (fills) or `saved` (hits). */
  ledgerCalls: 'cachet.ledger.calls',
  /** Tokens spent by fills and saved by hits, by `cachet.ledger.kind` and `gen_ai.token.type`. */
  ledgerTokens: 'cachet.ledger.tokens',
  /** Dollars spent by fills and saved by hits (priced models only), by `cachet.ledger.kind`. */
  ledgerCost: 'cachet.ledger.cost',
  /** GenAI convention: tokens per model call, by `gen_ai.token.type`. */
  genAiTokenUsage: 'gen_ai.client.token.usage',
  /** GenAI convention: how long model calls took (to the end of the stream for a stream). */
  genAiOperationDuration: 'gen_ai.client.operation.duration',
} as const;

/** The attributes cachet's metrics and spans carry, besides the OpenTelemetry and GenAI ones. */
export const ATTRIBUTES = {
  namespace: 'cachet.namespace',
  method: 'cachet.method',
  result: 'cachet.result',
  stored: 'cachet.stored',
  invalidationKind: 'cachet.invalidation.kind',
  coherence: 'cachet.coherence',
  semaphore: 'cachet.semaphore',
  store: 'cachet.store',
  operation: 'cachet.operation',
  limiter: 'cachet.limiter',
  decision: 'cachet.decision',
  circuit: 'cachet.circuit',
  circuitState: 'cachet.circuit.state',
  endpoint: 'cachet.endpoint',
  outcome: 'cachet.outcome',
  probe: 'cachet.probe',
  verdict: 'cachet.verdict',
  tenant: 'cachet.tenant',
  ledgerKind: 'cachet.ledger.kind',
  errorType: 'error.type',
} as const;

/** The GenAI semantic convention attributes cachet sets on model spans and token metrics. */
export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  tokenType: 'gen_ai.token.type',
} as const;

/** Histogram bucket boundaries for durations in seconds: 1 ms to 2 min, as the GenAI conventions advise. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80] as const;

/** Histogram bucket boundaries for store operations in seconds: 50 µs to 1 s. */
export const STORE_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
] as const;

/**
 * `cachet/otel`: OpenTelemetry metrics and traces for cachet's caches, stores, rate limiters, circuits
 * (and their shared state), semaphores, router, chat clients and cost ledger, through
 * `@opentelemetry/api` (an optional peer dependency: only this entry point loads it).
 */
export { instrument, type InstrumentOptions } from './instrument';
export { instrumentCache, type CacheInstrumentationOptions } from './cache-instrumentation';
export { instrumentStore } from './store-instrumentation';
export { instrumentRateLimiter } from './rate-limit-instrumentation';
export { instrumentCircuit, instrumentCircuitState, type CircuitStateEvents } from './circuit-instrumentation';
export { instrumentSemaphore, type SemaphoreEvents } from './semaphore-instrumentation';
export { instrumentRouter } from './router-instrumentation';
export { instrumentChatClient, type ChatInstrumentationOptions } from './chat-instrumentation';
export { instrumentLedger, type LedgerInstrumentationOptions } from './ledger-instrumentation';
export type { OtelOptions } from './otel-options';
export { ATTRIBUTES, GEN_AI, INSTRUMENTATION_SCOPE, METRICS } from './names';

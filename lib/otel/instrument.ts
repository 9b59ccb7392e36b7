import type { Cache } from '../cache/cache';
import type { ChatClient } from '../llm/chat-client';
import type { CacheStore } from '../ports/cache-store';
import type { CostLedger } from '../ports/cost-ledger';
import type { RateLimiter } from '../ports/rate-limiter';
import type { Circuit } from '../resilience/circuit-breaker';
import type { ConcurrentRouter } from '../router/concurrent-router';
import { optionError } from '../core/validate';
import { instrumentCache } from './cache-instrumentation';
import { instrumentChatClient } from './chat-instrumentation';
import { instrumentCircuit, instrumentCircuitState, type CircuitStateEvents } from './circuit-instrumentation';
import { instrumentLedger } from './ledger-instrumentation';
import { assertOtelOptions, type OtelOptions } from './otel-options';
import { instrumentRateLimiter } from './rate-limit-instrumentation';
import { instrumentRouter } from './router-instrumentation';
import { instrumentSemaphore, type SemaphoreEvents } from './semaphore-instrumentation';
import { instrumentStore } from './store-instrumentation';

/** What {@link instrument} reports on; every list is optional. */
export interface InstrumentOptions extends OtelOptions {
  /** Lookups, fills, errors, fill durations and `cachet.fill` spans; see {@link instrumentCache}. */
  readonly caches?: readonly Cache[];
  /** Store operation latency and a Redis store's background errors; see {@link instrumentStore}. */
  readonly stores?: readonly CacheStore[];
  /** Rate limit decisions; see {@link instrumentRateLimiter}. */
  readonly limiters?: readonly RateLimiter[];
  /** Circuit breaker state changes and states; see {@link instrumentCircuit}. */
  readonly circuits?: readonly Circuit[];
  /** Decisions a `RedisCircuitState` took locally because Redis failed; see {@link instrumentCircuitState}. */
  readonly circuitStates?: readonly CircuitStateEvents[];
  /** A `RedisSemaphore`'s fallbacks and lost leases; see {@link instrumentSemaphore}. */
  readonly semaphores?: readonly SemaphoreEvents[];
  /** Router attempts, fallbacks, cooldowns, health store failures; see {@link instrumentRouter}. */
  readonly routers?: readonly ConcurrentRouter[];
  /** `chat {model}` spans with the GenAI conventions; see {@link instrumentChatClient}. */
  readonly chatClients?: readonly ChatClient[];
  /** Tokens and dollars spent and saved; see {@link instrumentLedger}. */
  readonly ledgers?: readonly CostLedger[];
  /** `gen_ai.provider.name` of the chat clients. @default 'openai' */
  readonly providerName?: string;
}

const LISTS = [
  'caches',
  'stores',
  'limiters',
  'circuits',
  'circuitStates',
  'semaphores',
  'routers',
  'chatClients',
  'ledgers',
] as const;

/**
 * Instruments everything given at once, with the same providers, and returns one function that stops
 * it all. Each part can also be instrumented alone (`instrumentCache`, `instrumentRouter`, ...).
 * @example
 * const stop = instrument({ caches: [cache], stores: [store], routers: [router], chatClients: [openai], ledgers: [ledger] });
 * process.once('SIGTERM', stop);
 */
export function instrument(options: InstrumentOptions): () => void {
  assertOtelOptions('instrument', options, [...LISTS, 'providerName']);
  for (const list of LISTS) {
    const value = options[list];
    if (value !== undefined && !Array.isArray(value)) throw optionError(list, 'an array', value);
  }
  const { meterProvider, tracerProvider } = options;
  const providers: OtelOptions = {
    ...(meterProvider === undefined ? {} : { meterProvider }),
    ...(tracerProvider === undefined ? {} : { tracerProvider }),
  };
  const stops: (() => void)[] = [];
  try {
    for (const cache of options.caches ?? []) stops.push(instrumentCache(cache, providers));
    for (const store of options.stores ?? []) stops.push(instrumentStore(store, providers));
    for (const limiter of options.limiters ?? []) stops.push(instrumentRateLimiter(limiter, providers));
    for (const circuit of options.circuits ?? []) stops.push(instrumentCircuit(circuit, providers));
    for (const state of options.circuitStates ?? []) stops.push(instrumentCircuitState(state, providers));
    for (const semaphore of options.semaphores ?? []) stops.push(instrumentSemaphore(semaphore, providers));
    for (const router of options.routers ?? []) stops.push(instrumentRouter(router, providers));
    const chat = options.providerName === undefined ? providers : { ...providers, providerName: options.providerName };
    for (const client of options.chatClients ?? []) stops.push(instrumentChatClient(client, chat));
    for (const ledger of options.ledgers ?? []) stops.push(instrumentLedger(ledger, providers));
  } catch (error) {
    // A bad entry: undo what was done, so a failed call leaves nothing behind.
    stops.forEach((stop) => stop());
    throw error;
  }
  return () => stops.splice(0).forEach((stop) => stop());
}

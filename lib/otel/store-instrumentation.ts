import type { Attributes } from '@opentelemetry/api';
import type { CacheStore } from '../ports/cache-store';
import { ATTRIBUTES, METRICS, STORE_BUCKETS } from './names';
import { assertOtelOptions, assertShape, errorType, meterOf, type OtelOptions } from './otel-options';
import { patchMethod } from './patch-method';

/** The store operations timed: the ones a cached call makes. */
const OPERATIONS = ['get', 'set', 'delete', 'setIfCurrent', 'clear'] as const;

/** What a Redis backend reports through its `events` (`RedisStore`, `RedisRateLimiter`, ...). */
export interface BackendEvents {
  on(event: 'error', listener: (error: { readonly operation?: string }) => void): () => void;
  on(event: 'circuit', listener: (state: string) => void): () => void;
}

/** What a `TieredStore` reports through its `events`. */
interface CoherenceEvents {
  on(event: 'coherence', listener: (state: { readonly live: boolean }) => void): () => void;
}

/**
 * Times a store's operations (`cachet.store.operation.duration`, by operation, with `error.type` for a
 * failure) and, for a store with `events`, counts its background errors and its breaker's state changes
 * (`RedisStore`) or its invalidation channel lost and back (`TieredStore`). Timing wraps the store's methods on this instance, so every cache call through it pays
 * two clock reads and a histogram record (see the `otel` bench); uninstrumented stores pay nothing.
 * Returns a function that restores the store.
 * @example
 * const stop = instrumentStore(redisStore, { meterProvider });
 */
export function instrumentStore(store: CacheStore, options: OtelOptions = {}): () => void {
  assertShape('store', store, 'a CacheStore (MemoryStore, RedisStore, TieredStore or your own)', ['get', 'set']);
  assertOtelOptions('instrumentStore', options, []);
  const meter = meterOf(options);
  const duration = meter.createHistogram(METRICS.storeOperationDuration, {
    description: 'Duration of cache store operations',
    unit: 's',
    advice: { explicitBucketBoundaries: [...STORE_BUCKETS] },
  });
  const base = { [ATTRIBUTES.store]: store.name };
  const stops = OPERATIONS.filter((op) => typeof store[op] === 'function').map((operation) => {
    const ok: Attributes = { ...base, [ATTRIBUTES.operation]: operation };
    const failed = (error: unknown): Attributes => ({ ...ok, [ATTRIBUTES.errorType]: errorType(error) });
    return patchMethod(store, operation, (original) => {
      const fn = original as (...args: unknown[]) => unknown;
      return function timed(this: unknown, ...args: unknown[]): unknown {
        const started = performance.now();
        let out: unknown;
        try {
          out = fn.apply(this, args);
        } catch (error) {
          duration.record((performance.now() - started) / 1_000, failed(error));
          throw error;
        }
        if (!(out instanceof Promise)) {
          duration.record((performance.now() - started) / 1_000, ok);
          return out;
        }
        return out.then(
          (value: unknown) => {
            duration.record((performance.now() - started) / 1_000, ok);
            return value;
          },
          (error: unknown) => {
            duration.record((performance.now() - started) / 1_000, failed(error));
            throw error;
          },
        );
      } as never;
    });
  });
  const events = (store as { events?: BackendEvents & CoherenceEvents }).events;
  if (events !== undefined && store.name === 'tiered') stops.push(coherenceEvents(events, options, base));
  else if (events !== undefined)
    stops.push(...backendEvents(events, options, base, METRICS.storeErrors, METRICS.storeBreakerTransitions));
  return () => stops.forEach((stop) => stop());
}

/** Counts a Redis backend's background errors and breaker changes under `errorsName` and `transitionsName`. */
export function backendEvents(
  events: BackendEvents,
  options: OtelOptions,
  base: Attributes,
  errorsName: string,
  transitionsName: string,
): (() => void)[] {
  const meter = meterOf(options);
  const errors = meter.createCounter(errorsName, { description: 'Background failures no caller saw', unit: '{error}' });
  const transitions = meter.createCounter(transitionsName, {
    description: 'State changes of the breaker in front of Redis',
    unit: '{transition}',
  });
  return [
    events.on('error', (error) =>
      errors.add(1, {
        ...base,
        [ATTRIBUTES.operation]: error.operation ?? 'unknown',
        [ATTRIBUTES.errorType]: errorType(error),
      }),
    ),
    events.on('circuit', (state) =>
      transitions.add(1, { ...base, [ATTRIBUTES.circuitState]: state.replace('-', '_') }),
    ),
  ];
}

/** Counts a `TieredStore`'s channel losses and recoveries (`cachet.coherence`: `lost` or `live`). */
function coherenceEvents(events: CoherenceEvents, options: OtelOptions, base: Attributes): () => void {
  const changes = meterOf(options).createCounter(METRICS.storeCoherenceChanges, {
    description: 'Invalidation channel lost (memory tier bypassed) or live again',
    unit: '{change}',
  });
  const live: Attributes = { ...base, [ATTRIBUTES.coherence]: 'live' };
  const lost: Attributes = { ...base, [ATTRIBUTES.coherence]: 'lost' };
  return events.on('coherence', (state) => changes.add(1, state.live ? live : lost));
}

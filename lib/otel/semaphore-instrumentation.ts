import type { Attributes } from '@opentelemetry/api';
import { ATTRIBUTES, METRICS } from './names';
import { assertOtelOptions, assertShape, errorType, meterOf, type OtelOptions } from './otel-options';

/** What a `RedisSemaphore` reports through its `events`, and its name. */
export interface SemaphoreEvents {
  readonly name: string;
  readonly events: {
    on(event: 'fallback', listener: (event: { readonly error: unknown }) => void): () => void;
    on(event: 'leaseLost', listener: (event: { readonly key: string }) => void): () => void;
  };
}

/**
 * Counts a `RedisSemaphore`'s acquires served by its in-process fallback because Redis failed
 * (`cachet.semaphore.fallbacks`, with `error.type`) and its held leases that expired before they could be
 * renewed (`cachet.semaphore.leases_lost`), by `cachet.semaphore` (its name; not the per-call key, which
 * may be per tenant). Returns a function that stops reporting.
 * @example
 * const stop = instrumentSemaphore(gpu, { meterProvider });
 */
export function instrumentSemaphore(semaphore: SemaphoreEvents, options: OtelOptions = {}): () => void {
  assertShape('semaphore', semaphore, 'a RedisSemaphore', ['acquire']);
  assertShape('semaphore.events', semaphore.events, 'an event emitter', ['on']);
  assertOtelOptions('instrumentSemaphore', options, []);
  const meter = meterOf(options);
  const fallbacks = meter.createCounter(METRICS.semaphoreFallbacks, {
    description: 'Acquires served by the in-process fallback because Redis failed',
    unit: '{acquire}',
  });
  const leasesLost = meter.createCounter(METRICS.semaphoreLeasesLost, {
    description: 'Held leases that expired before they could be renewed',
    unit: '{lease}',
  });
  const base: Attributes = { [ATTRIBUTES.semaphore]: semaphore.name };
  const stops = [
    semaphore.events.on('fallback', ({ error }) =>
      fallbacks.add(1, { ...base, [ATTRIBUTES.errorType]: errorType(error) }),
    ),
    semaphore.events.on('leaseLost', () => leasesLost.add(1, base)),
  ];
  return () => stops.forEach((stop) => stop());
}

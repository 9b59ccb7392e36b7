import type { Attributes } from '@opentelemetry/api';
import type { RateDecision, RateLimiter } from '../ports/rate-limiter';
import { ATTRIBUTES, METRICS } from './names';
import { assertOtelOptions, assertShape, errorType, meterOf, type OtelOptions } from './otel-options';
import { patchMethod } from './patch-method';
import { backendEvents, type BackendEvents } from './store-instrumentation';

/**
 * Counts a rate limiter's decisions (`cachet.ratelimit.decisions`: `admitted`, `rejected`, or `error`
 * when the backend failed) by limiter, and for a `RedisRateLimiter` its breaker's state changes
 * (`cachet.ratelimit.breaker.transitions`). A `@RateLimited` call that waits for a slot asks again, so
 * a wait shows as rejections followed by an admission. Returns a function that restores the limiter.
 * @example
 * const stop = instrumentRateLimiter(limiter, { meterProvider });
 */
export function instrumentRateLimiter(limiter: RateLimiter, options: OtelOptions = {}): () => void {
  assertShape('limiter', limiter, 'a RateLimiter (MemoryRateLimiter, RedisRateLimiter or your own)', ['decide']);
  assertOtelOptions('instrumentRateLimiter', options, []);
  const meter = meterOf(options);
  const decisions = meter.createCounter(METRICS.rateLimitDecisions, {
    description: 'Rate limiter decisions: admitted, rejected or error',
    unit: '{decision}',
  });
  const base = { [ATTRIBUTES.limiter]: limiter.name };
  const admitted: Attributes = { ...base, [ATTRIBUTES.decision]: 'admitted' };
  const rejected: Attributes = { ...base, [ATTRIBUTES.decision]: 'rejected' };
  const stops = [
    patchMethod(
      limiter,
      'decide',
      (original) =>
        function decide(this: RateLimiter, ...args: Parameters<RateLimiter['decide']>): Promise<RateDecision> {
          return original.apply(this, args).then(
            (decision) => {
              decisions.add(1, decision.allowed ? admitted : rejected);
              return decision;
            },
            (error: unknown) => {
              decisions.add(1, { ...base, [ATTRIBUTES.decision]: 'error', [ATTRIBUTES.errorType]: errorType(error) });
              throw error;
            },
          );
        },
    ),
  ];
  const events = (limiter as { events?: BackendEvents }).events;
  if (events !== undefined)
    stops.push(...backendEvents(events, options, base, METRICS.rateLimitErrors, METRICS.rateLimitBreakerTransitions));
  return () => stops.forEach((stop) => stop());
}

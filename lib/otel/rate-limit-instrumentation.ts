import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Attributes } from '@opentelemetry/api';
import type { RateDecision, RateLimiter } from '../ports/rate-limiter';
import { RATE_LIMIT_WAIT_CHANNEL, type RateLimitWait } from '../rate-limit/rate-limit-policy';
import { ATTRIBUTES, METRICS } from './names';
import { assertOtelOptions, assertShape, errorType, meterOf, type OtelOptions } from './otel-options';
import { patchMethod } from './patch-method';
import { backendEvents, type BackendEvents } from './store-instrumentation';

/**
 * Counts a rate limiter's decisions (`cachet.ratelimit.decisions`: `admitted`, `rejected`, or `error`
 * when the backend failed) by limiter, the calls that queued for a slot (`cachet.ratelimit.waits`:
 * `@RateLimited({ mode: 'wait', limiter })`; a waiting call asks again, so its decisions count a rejection
 * and then an admission), and for a `RedisRateLimiter` its breaker's state changes
 * (`cachet.ratelimit.breaker.transitions`). Returns a function that restores the limiter.
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
  const waits = meter.createCounter(METRICS.rateLimitWaits, {
    description: 'Calls that queued for a rate limit slot',
    unit: '{call}',
  });
  const onWait = (message: unknown): void => {
    if ((message as RateLimitWait).limiter === limiter) waits.add(1, base);
  };
  subscribe(RATE_LIMIT_WAIT_CHANNEL, onWait);
  stops.push(() => void unsubscribe(RATE_LIMIT_WAIT_CHANNEL, onWait));
  const events = (limiter as { events?: BackendEvents }).events;
  if (events !== undefined)
    stops.push(...backendEvents(events, options, base, METRICS.rateLimitErrors, METRICS.rateLimitBreakerTransitions));
  return () => stops.forEach((stop) => stop());
}

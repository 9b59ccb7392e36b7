import type { Attributes, BatchObservableCallback } from '@opentelemetry/api';
import type { ConcurrentRouter } from '../router/concurrent-router';
import { ATTRIBUTES, DURATION_BUCKETS, GEN_AI, METRICS } from './names';
import { assertOtelOptions, assertShape, errorType, meterOf, type OtelOptions } from './otel-options';

/**
 * Reports a {@link ConcurrentRouter}'s attempts per endpoint (count by outcome, and duration), its
 * fallbacks, cooldowns and recoveries, the failures of its shared health store (`healthError`), and the
 * requests in flight per endpoint, from its events. The
 * model calls themselves are traced by {@link instrumentChatClient} on the endpoints' clients, under the
 * caller's active span. Returns a function that stops reporting.
 * @example
 * const stop = instrumentRouter(router, { meterProvider });
 */
export function instrumentRouter(router: ConcurrentRouter, options: OtelOptions = {}): () => void {
  assertShape('router', router, 'a ConcurrentRouter', ['on', 'health', 'route']);
  assertOtelOptions('instrumentRouter', options, []);
  const meter = meterOf(options);
  const attempts = meter.createCounter(METRICS.routerAttempts, {
    description: 'Router attempts by endpoint and outcome',
    unit: '{attempt}',
  });
  const attemptDuration = meter.createHistogram(METRICS.routerAttemptDuration, {
    description: 'Duration of router attempts, permit wait included',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
  });
  const fallbacks = meter.createCounter(METRICS.routerFallbacks, {
    description: 'Requests that left an endpoint after a failure',
    unit: '{fallback}',
  });
  const cooldowns = meter.createCounter(METRICS.routerCooldowns, {
    description: 'Endpoints set aside after failures',
    unit: '{cooldown}',
  });
  const recoveries = meter.createCounter(METRICS.routerRecoveries, {
    description: 'Set-aside endpoints taking requests again',
    unit: '{recovery}',
  });
  const healthErrors = meter.createCounter(METRICS.routerHealthErrors, {
    description: 'Shared-health operations that failed; the router decided alone',
    unit: '{error}',
  });
  const inFlight = meter.createObservableGauge(METRICS.routerInFlight, {
    description: 'Requests holding a permit of the endpoint',
    unit: '{request}',
  });
  const endpoint = (name: string): Attributes => ({ [ATTRIBUTES.endpoint]: name });
  const observe: BatchObservableCallback = (result) => {
    for (const e of router.health()) result.observe(inFlight, e.inFlight, endpoint(e.name));
  };
  meter.addBatchObservableCallback(observe, [inFlight]);
  const stops = [
    router.on('attempt', (attempt) => {
      const attributes: Attributes = {
        [ATTRIBUTES.endpoint]: attempt.endpoint,
        [GEN_AI.requestModel]: attempt.model,
        [ATTRIBUTES.outcome]: attempt.outcome,
      };
      attempts.add(1, attributes);
      attemptDuration.record(attempt.latencyMs / 1_000, attributes);
    }),
    router.on('fallback', ({ from, verdict }) =>
      fallbacks.add(1, { ...endpoint(from), [ATTRIBUTES.verdict]: verdict }),
    ),
    router.on('cooldown', (event) => cooldowns.add(1, endpoint(event.endpoint))),
    router.on('recovered', (event) => recoveries.add(1, endpoint(event.endpoint))),
    router.on('healthError', (event) =>
      healthErrors.add(1, {
        ...(event.endpoint === undefined ? {} : endpoint(event.endpoint)),
        [ATTRIBUTES.errorType]: errorType(event.error),
      }),
    ),
  ];
  return () => {
    stops.forEach((stop) => stop());
    meter.removeBatchObservableCallback(observe, [inFlight]);
  };
}

import { SpanKind, SpanStatusCode, type Attributes, type BatchObservableCallback } from '@opentelemetry/api';
import type { Cache } from '../cache/cache';
import type { FillScope, InvalidateEvent } from '../cache/cache-events';
import { ATTRIBUTES, DURATION_BUCKETS, METRICS } from './names';
import { assertOtelOptions, assertShape, errorType, meterOf, tracerOf, type OtelOptions } from './otel-options';

/** Options of {@link instrumentCache}. */
export interface CacheInstrumentationOptions extends OtelOptions {
  /** Open a `cachet.fill` span around each fill's method call, so the calls it makes nest under it. @default true */
  readonly traceFills?: boolean;
}

/**
 * Reports a {@link Cache}'s lookups, fills, coalesced calls, stale serves and errors per namespace and
 * method, the fills' durations, its invalidations by kind, and (with `traceFills`) a `cachet.fill` span
 * around every fill. The counters are read from `cache.stats()` when the meter collects, so a hit costs
 * nothing more; the fill durations and invalidations come from `fill` and `invalidate` events. Returns a
 * function that stops reporting.
 * @example
 * const stop = instrumentCache(cache, { meterProvider, tracerProvider });
 */
export function instrumentCache(cache: Cache, options: CacheInstrumentationOptions = {}): () => void {
  assertShape('cache', cache, 'a Cache', ['stats', 'on', 'scopeFills']);
  assertOtelOptions('instrumentCache', options, ['traceFills']);
  const meter = meterOf(options);
  const lookups = meter.createObservableCounter(METRICS.cacheLookups, {
    description: 'Cache lookups by result: hit, semantic_hit or miss',
    unit: '{lookup}',
  });
  const coalesced = meter.createObservableCounter(METRICS.cacheCoalesced, {
    description: "Calls that shared another caller's fill instead of running the method",
    unit: '{call}',
  });
  const stale = meter.createObservableCounter(METRICS.cacheStale, {
    description: 'Hits served stale while a refresh ran',
    unit: '{lookup}',
  });
  const fills = meter.createObservableCounter(METRICS.cacheFills, {
    description: 'Method calls made to fill the cache',
    unit: '{fill}',
  });
  const errors = meter.createObservableCounter(METRICS.cacheErrors, {
    description: 'Store, decode and encode failures the call went on without',
    unit: '{error}',
  });
  const fillDuration = meter.createHistogram(METRICS.cacheFillDuration, {
    description: "Duration of fills' method calls",
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
  });
  const invalidations = meter.createCounter(METRICS.cacheInvalidations, {
    description: 'Invalidations that went through, by kind: key, tag, namespace or all',
    unit: '{invalidation}',
  });
  const attributes = new MethodAttributes();

  const observe: BatchObservableCallback = (result) => {
    for (const [name, c] of Object.entries(cache.stats().methods)) {
      const a = attributes.of(name);
      result.observe(lookups, c.hits, a.hit);
      result.observe(lookups, c.semanticHits, a.semanticHit);
      result.observe(lookups, c.misses, a.miss);
      result.observe(coalesced, c.coalesced, a.method);
      result.observe(stale, c.stale, a.method);
      result.observe(fills, c.fills, a.method);
      result.observe(errors, c.storeErrors, a.storeError);
      result.observe(errors, c.decodeErrors, a.decodeError);
      result.observe(errors, c.encodeErrors, a.encodeError);
    }
  };
  const instruments = [lookups, coalesced, stale, fills, errors];
  meter.addBatchObservableCallback(observe, instruments);
  const stopFills = cache.on('fill', (event) => {
    fillDuration.record(
      event.durationMs / 1_000,
      event.stored ? attributes.of(event.method).stored : attributes.of(event.method).unstored,
    );
  });
  const stopInvalidations = cache.on('invalidate', (event) => invalidations.add(1, invalidationAttributes(event)));
  const stopScope = options.traceFills === false ? () => undefined : cache.scopeFills(fillSpans(options));
  return () => {
    meter.removeBatchObservableCallback(observe, instruments);
    stopFills();
    stopInvalidations();
    stopScope();
  };
}

/** The scope that runs a fill inside a `cachet.fill` span, made the active one. */
function fillSpans(options: OtelOptions): FillScope {
  const tracer = tracerOf(options);
  return (fill, run) =>
    tracer.startActiveSpan(
      'cachet.fill',
      { kind: SpanKind.INTERNAL, attributes: { ...splitMethod(fill.method) } },
      async (span) => {
        try {
          return await run();
        } catch (error) {
          span.setAttribute(ATTRIBUTES.errorType, errorType(error));
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
          throw error;
        } finally {
          span.end();
        }
      },
    );
}

/**
 * The kind of an invalidation and, for one key or one namespace, its namespace: read from the key or the
 * prefix removed (`<prefix>:<namespace>:...`; neither the prefix nor a namespace holds a `:`). Tags span
 * namespaces, so a tag invalidation has none.
 */
function invalidationAttributes(event: InvalidateEvent): Attributes {
  const { invalidationKind: kind, namespace } = ATTRIBUTES;
  if (event.tags.length > 0) return { [kind]: 'tag' };
  const removed = event.keys[0] ?? event.prefix ?? '';
  const start = removed.indexOf(':') + 1;
  const end = removed.indexOf(':', start);
  if (start === 0 || end === -1) return { [kind]: 'all' };
  return { [kind]: event.keys.length > 0 ? 'key' : 'namespace', [namespace]: removed.slice(start, end) };
}

/** `namespace:Class.method` as its two attributes. */
function splitMethod(qualified: string): Attributes {
  const colon = qualified.indexOf(':');
  return { [ATTRIBUTES.namespace]: qualified.slice(0, colon), [ATTRIBUTES.method]: qualified.slice(colon + 1) };
}

type AttributeSets = Record<
  'method' | 'hit' | 'semanticHit' | 'miss' | 'storeError' | 'decodeError' | 'encodeError' | 'stored' | 'unstored',
  Attributes
>;

/** The attribute sets of each method, made once: collections and fill events then allocate none. */
class MethodAttributes {
  readonly #sets = new Map<string, AttributeSets>();

  of(qualified: string): AttributeSets {
    let sets = this.#sets.get(qualified);
    if (sets === undefined) {
      const method = splitMethod(qualified);
      const { result, errorType: error, stored } = ATTRIBUTES;
      sets = {
        method,
        hit: { ...method, [result]: 'hit' },
        semanticHit: { ...method, [result]: 'semantic_hit' },
        miss: { ...method, [result]: 'miss' },
        storeError: { ...method, [error]: 'store' },
        decodeError: { ...method, [error]: 'decode' },
        encodeError: { ...method, [error]: 'encode' },
        stored: { ...method, [stored]: true },
        unstored: { ...method, [stored]: false },
      };
      this.#sets.set(qualified, sets);
    }
    return sets;
  }
}

import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { Cache } from '../../lib/index';
import { instrument } from '../../lib/otel';
import { RedisStore } from '../../lib/redis';
import { compareNsPerOp } from '../support/measure';
import { atMost, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'otel';

class Reader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A memory hit with cachet/otel on the cache, and on the cache and its store, and a Redis hit with the
 * store timed, each against the same hit uninstrumented in the same run.
 */
export const otel: Scenario = {
  name: NAME,
  measures: "`await answer('refunds')` hitting a memory and a Redis cache instrumented into the OpenTelemetry SDK",
  baseline: 'the same hit on a cache that is not instrumented, over the same store kind',
  async run(ctx: BenchContext): Promise<Result[]> {
    const meterProvider = new MeterProvider({ readers: [new Reader()] });
    const tracerProvider = new BasicTracerProvider();
    const make = () => {
      const cache = new Cache();
      return { cache, answer: cache.wrap(async (q: string) => `answer to ${q}`, { name: 'answer' }) };
    };
    const plain = make();
    const cached = make();
    const timed = make();
    const stops = [
      instrument({ caches: [cached.cache], meterProvider, tracerProvider }),
      instrument({ caches: [timed.cache], stores: [timed.cache.store], meterProvider, tracerProvider }),
    ];
    for (const { answer } of [plain, cached, timed]) await answer('refunds');
    let sink: unknown;
    const loop = (answer: (q: string) => Promise<string>) => async (n: number) => {
      for (let i = 0; i < n; i++) sink = await answer('refunds');
    };
    const timings = await compareNsPerOp(
      { plain: loop(plain.answer), cache: loop(cached.answer), store: loop(timed.answer) },
      { warmupMs: ctx.ms(400), roundMs: ctx.ms(30), rounds: 41 },
    );
    if (sink !== 'answer to refunds') throw new Error('otel: a loop returned something other than the cached answer');
    stops.forEach((stop) => stop());
    for (const { cache } of [plain, cached, timed]) await cache.close();

    // The same over Redis, where store timing is meant to be used: one round trip per hit.
    const url = await ctx.redisUrl();
    const overRedis = () => {
      const cache = new Cache({ store: new RedisStore({ url }), prefix: ctx.prefix('otel') });
      return { cache, answer: cache.wrap(async (q: string) => `answer to ${q}`, { name: 'answer' }) };
    };
    const redisPlain = overRedis();
    const redisTimed = overRedis();
    const stopRedis = instrument({
      caches: [redisTimed.cache],
      stores: [redisTimed.cache.store],
      meterProvider,
      tracerProvider,
    });
    for (const { answer } of [redisPlain, redisTimed]) await answer('refunds');
    const redisTimings = await compareNsPerOp(
      { plain: loop(redisPlain.answer), store: loop(redisTimed.answer) },
      { warmupMs: ctx.ms(400), roundMs: ctx.ms(60), rounds: 21 },
    );
    stopRedis();
    await meterProvider.shutdown();
    for (const { cache } of [redisPlain, redisTimed]) await cache.close();
    return [
      row(NAME, 'memory hit, cache instrumented', 'ns/op', timings.cache.median, timings.plain.median, atMost(1.15)),
      row(NAME, 'memory hit, cache and store instrumented', 'ns/op', timings.store.median, timings.plain.median),
      row(
        NAME,
        'Redis hit, cache and store instrumented',
        'ns/op',
        redisTimings.store.median,
        redisTimings.plain.median,
        atMost(1.3),
      ),
    ];
  },
};

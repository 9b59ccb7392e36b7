import { deepStrictEqual } from 'node:assert';
import { Cache } from '../../lib/index';
import { RedisStore } from '../../lib/redis';
import { ANSWER, QUESTION, faqService, type Answer } from '../support/fixtures';
import { compareLatency } from '../support/measure';
import { SAFETY_TTL_S, connectRaw, connectRawWithoutTimeout } from '../support/redis';
import { atMost, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'redis-hit-latency';

/** One Redis hit at a time through `@Cached`, against a raw node-redis GET plus JSON.parse. */
export const redisHitLatency: Scenario = {
  name: NAME,
  measures: '`await svc.answer(question, { lang })` hitting a RedisStore, one call at a time',
  baseline:
    'node-redis 6 `createClient({ url })`, `JSON.parse(await client.get(key))` of the same answer stored as JSON',
  async run(ctx: BenchContext): Promise<Result[]> {
    const url = await ctx.redisUrl();
    const prefix = ctx.prefix('latency');
    const cache = new Cache({ store: new RedisStore({ url, channel: `${prefix}:fills` }), prefix });
    const raw = await connectRaw(url);
    // For information: node-redis without its per-command 5 s timeout (one AbortSignal.timeout() each).
    const untimed = await connectRawWithoutTimeout(url);
    try {
      const faq = faqService(cache);
      await faq.answer(QUESTION, { lang: 'en' });
      const rawKey = `${prefix}:raw:answer`;
      await raw.set(rawKey, JSON.stringify(ANSWER), { EX: SAFETY_TTL_S });
      const rawGet = async (): Promise<Answer> => JSON.parse((await raw.get(rawKey)) as string) as Answer;
      const untimedGet = async (): Promise<Answer> => JSON.parse((await untimed.get(rawKey)) as string) as Answer;
      deepStrictEqual(await faq.answer(QUESTION, { lang: 'en' }), await rawGet());

      const latency = await compareLatency(
        { ours: () => faq.answer(QUESTION, { lang: 'en' }), baseline: rawGet, untimed: untimedGet },
        { warmup: 2_000, rounds: 40, perRound: Math.max(25, Math.round(ctx.ms(250))) },
      );
      const stats = cache.stats().total;
      if (faq.calls !== 1 || stats.storeErrors > 0) {
        throw new Error(
          `redis-hit-latency: expected only hits, got ${faq.calls} method calls, ${stats.storeErrors} store errors`,
        );
      }
      const { ours, baseline, untimed: tuned } = latency;
      const note = `${ours.samples.toLocaleString('en-US')} samples each; mean ${ours.mean.toFixed(1)} µs ours, ${baseline.mean.toFixed(1)} µs baseline`;
      return [
        row(NAME, 'p50, concurrency 1', 'µs', ours.p50, baseline.p50, atMost(0.85), note),
        row(NAME, 'p99, concurrency 1', 'µs', ours.p99, baseline.p99),
        row(
          NAME,
          'p50 vs node-redis with timeout: 0',
          'µs',
          ours.p50,
          tuned.p50,
          undefined,
          'baseline client made with `commandOptions: { timeout: 0 }`, as RedisStore makes its own',
        ),
      ];
    } finally {
      await cache.close();
      await raw.close();
      await untimed.close();
    }
  },
};

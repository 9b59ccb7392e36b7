import { Cache } from '../../lib/index';
import { RedisStore } from '../../lib/redis';
import { ANSWER, faqService, questions, type Answer } from '../support/fixtures';
import { compareThroughput, type Summary } from '../support/measure';
import { SAFETY_TTL_S, connectRaw } from '../support/redis';
import { atLeast, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'redis-hit-throughput';
const CONCURRENCY = 64;
const ROUNDS = 8;

/** Hits per second with 64 callers in flight, over many keys and over one hot key. */
export const redisHitThroughput: Scenario = {
  name: NAME,
  measures: `\`await svc.answer(question, { lang })\` hitting a RedisStore from ${CONCURRENCY} concurrent loops`,
  baseline: `node-redis 6 \`createClient({ url })\`, \`JSON.parse(await client.get(key))\` from ${CONCURRENCY} concurrent loops`,
  async run(ctx: BenchContext): Promise<Result[]> {
    const url = await ctx.redisUrl();
    const prefix = ctx.prefix('throughput');
    const cache = new Cache({ store: new RedisStore({ url, channel: `${prefix}:fills` }), prefix });
    const raw = await connectRaw(url);
    try {
      const faq = faqService(cache);
      const results: Result[] = [];
      for (const [label, count, first, target] of [
        ['1,000 keys', 1_000, 0, 1.5],
        ['1 hot key', 1, 50_000, 10],
      ] as const) {
        const asked = questions(count, first);
        const rawKeys = asked.map((_, i) => `${prefix}:raw:${count}:${i}`);
        const json = JSON.stringify(ANSWER);
        const before = faq.calls;
        for (let i = 0; i < count; i += 100) {
          const chunk = asked.slice(i, i + 100);
          await Promise.all(chunk.map((q) => faq.answer(q, { lang: 'en' })));
          await Promise.all(chunk.map((_, j) => raw.set(rawKeys[i + j] as string, json, { EX: SAFETY_TTL_S })));
        }
        const filled = faq.calls - before;

        const timings = await compareThroughput(
          {
            ours: (i: number) => faq.answer(asked[i % count] as string, { lang: 'en' }),
            baseline: async (i: number) =>
              JSON.parse((await raw.get(rawKeys[i % count] as string)) as string) as Answer,
          },
          { concurrency: CONCURRENCY, warmupMs: ctx.ms(500), roundMs: ctx.ms(500), rounds: ROUNDS },
        );
        if (faq.calls - before !== filled || filled !== count) {
          throw new Error(
            `redis-hit-throughput: expected ${count} fills then only hits, got ${faq.calls - before} calls`,
          );
        }
        const spread = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;
        results.push(
          row(
            NAME,
            `${label}, concurrency ${CONCURRENCY}`,
            'ops/s',
            timings.ours.median,
            timings.baseline.median,
            atLeast(target),
            `median of ${ROUNDS} rounds; spread ${spread(timings.ours)} ours, ${spread(timings.baseline)} baseline`,
          ),
        );
      }
      const errors = cache.stats().total.storeErrors;
      if (errors > 0) throw new Error(`redis-hit-throughput: ${errors} store errors (timeouts?) during the run`);
      return results;
    } finally {
      await cache.close();
      await raw.close();
    }
  },
};

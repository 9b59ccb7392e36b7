import { Cache } from '../../lib/index';
import { KeyBuilder } from '../../lib/keys/key-builder';
import { ANSWER, QUESTION, faqService, type Answer } from '../support/fixtures';
import { compareNsPerOp, type Summary } from '../support/measure';
import { atMost, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'memory-hit';

/** A memory hit through `@Cached`, key derivation included, against awaiting a bare `Map` lookup. */
export const memoryHit: Scenario = {
  name: NAME,
  measures: "`await svc.answer('What is the refund policy?', { lang: 'en' })` hitting `new Cache()` (memory)",
  baseline: '`await map.get(key)` with the key already known',
  async run(ctx: BenchContext): Promise<Result[]> {
    const cache = new Cache();
    const faq = faqService(cache);
    const answer = cache.wrap(async (_question: string, _options: { lang: string }) => ANSWER, { name: 'answer' });
    await faq.answer(QUESTION, { lang: 'en' });
    await answer(QUESTION, { lang: 'en' });

    const key = new KeyBuilder('cachet', 'default', 'Faq.answer').keyFor(undefined, [QUESTION, { lang: 'en' }]);
    const map = new Map<string, Answer>([[key, ANSWER]]);

    let sink: unknown;
    const timings = await compareNsPerOp(
      {
        decorated: async (n: number) => {
          for (let i = 0; i < n; i++) sink = await faq.answer('What is the refund policy?', { lang: 'en' });
        },
        wrapped: async (n: number) => {
          for (let i = 0; i < n; i++) sink = await answer('What is the refund policy?', { lang: 'en' });
        },
        map: async (n: number) => {
          for (let i = 0; i < n; i++) sink = await map.get(key);
        },
      },
      { warmupMs: ctx.ms(400), roundMs: ctx.ms(30), rounds: 41 },
    );
    if (sink !== ANSWER) throw new Error('memory-hit: a loop returned something other than the cached answer');
    const stats = cache.stats().total;
    if (faq.calls !== 1 || stats.misses !== 2) {
      throw new Error(
        `memory-hit: expected hits only after the first calls, got ${faq.calls} method calls, ${stats.misses} misses`,
      );
    }
    await cache.close();

    const spread = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;
    const note = (ours: Summary): string =>
      `spread between rounds ${spread(ours)} ours, ${spread(timings.map)} baseline; ${stats.hits.toLocaleString('en-US')} hits, no miss after the first call`;
    return [
      row(
        NAME,
        '@Cached hit, 2 small args',
        'ns/op',
        timings.decorated.median,
        timings.map.median,
        atMost(2.5),
        note(timings.decorated),
      ),
      row(
        NAME,
        'cache.wrap(fn) hit, 2 small args',
        'ns/op',
        timings.wrapped.median,
        timings.map.median,
        undefined,
        note(timings.wrapped),
      ),
    ];
  },
};

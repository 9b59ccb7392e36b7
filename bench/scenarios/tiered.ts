import { Cache } from '../../lib/index';
import { RedisStore, TieredStore } from '../../lib/redis';
import type { CacheEntry } from '../../lib/ports/cache-store';
import { ANSWER, QUESTION, faqService } from '../support/fixtures';
import { compareNsPerOp, elapsedMs, quantile, sleep, type Summary } from '../support/measure';
import { connectRaw } from '../support/redis';
import { atMost, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'tiered';

/** Entries written by the invalidation case live this long (the run deletes them at the end anyway). */
const TTL_MS = 600_000;
/** Keys (one repetition each) of the invalidation case. */
const REPETITIONS = 50;
/** PINGs per repetition, interleaved with the invalidations so drift hits both alike. */
const PINGS_PER_REPETITION = 10;

/**
 * A TieredStore hit after promotion against a memory-only cache, and how soon an update made through one
 * instance is seen by another instance that held the old value in its memory tier.
 */
export const tiered: Scenario = {
  name: NAME,
  measures:
    "`await svc.answer(question, { lang })` hitting a TieredStore's memory tier after promotion; time from `a.set(key)` until instance b's `get(key)` returns the new value",
  baseline: '`new Cache()` (memory store) hit; p50 round trip of a node-redis `PING`',
  async run(ctx: BenchContext): Promise<Result[]> {
    const url = await ctx.redisUrl();
    return [await hitAfterPromotion(ctx, url), await invalidation(ctx, url)];
  },
};

/** Resolves once the store's invalidation channel is live, so its memory tier is in use. */
async function coherent(store: TieredStore, label: string): Promise<void> {
  const started = process.hrtime.bigint();
  while (!store.coherent) {
    if (elapsedMs(started) > 5_000) throw new Error(`${NAME}: ${label} not coherent after 5 s`);
    await sleep(2);
  }
}

const spread = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;

async function hitAfterPromotion(ctx: BenchContext, url: string): Promise<Result> {
  const prefix = ctx.prefix('tiered-hit');
  const store = new TieredStore({
    redis: new RedisStore({ url, channel: `${prefix}:fills` }),
    channel: `${prefix}:tier`,
  });
  const cache = new Cache({ store, prefix });
  const memoryCache = new Cache();
  try {
    await coherent(store, 'the tiered store');
    const faq = faqService(cache);
    const memoryFaq = faqService(memoryCache);

    // First call: a miss that fills Redis (and, the channel being live, this instance's memory tier).
    // Drop the memory copy so the second call is a Redis hit that promotes the entry, as on an instance
    // that did not fill it.
    await faq.answer(QUESTION, { lang: 'en' });
    store.memory.clear('');
    await faq.answer(QUESTION, { lang: 'en' });
    await memoryFaq.answer(QUESTION, { lang: 'en' });
    if (faq.calls !== 1 || store.counts.redisHits !== 1 || store.memory.size !== 1) {
      throw new Error(
        `${NAME}: expected one fill then one promoted Redis hit, got ${faq.calls} method calls, ${store.counts.redisHits} Redis hits, memory tier size ${store.memory.size}`,
      );
    }

    const before = { ...store.counts };
    let tieredOps = 0;
    let sink: unknown;
    const timings = await compareNsPerOp(
      {
        tiered: async (n: number) => {
          tieredOps += n;
          for (let i = 0; i < n; i++) sink = await faq.answer('What is the refund policy?', { lang: 'en' });
        },
        memory: async (n: number) => {
          for (let i = 0; i < n; i++) sink = await memoryFaq.answer('What is the refund policy?', { lang: 'en' });
        },
      },
      { warmupMs: ctx.ms(400), roundMs: ctx.ms(30), rounds: 41 },
    );
    const memoryHits = store.counts.memoryHits - before.memoryHits;
    const redisHits = store.counts.redisHits - before.redisHits;
    if (JSON.stringify(sink) !== JSON.stringify(ANSWER))
      throw new Error(`${NAME}: a loop returned something other than the cached answer`);
    if (faq.calls !== 1 || memoryFaq.calls !== 1)
      throw new Error(`${NAME}: the method ran again during the measurement`);
    if (memoryHits !== tieredOps || redisHits !== 0 || !store.coherent) {
      throw new Error(
        `${NAME}: expected ${tieredOps} memory-tier hits and no Redis hit, got ${memoryHits} memory-tier hits, ${redisHits} Redis hits (coherent: ${store.coherent})`,
      );
    }
    const note =
      `spread between rounds ${spread(timings.tiered)} ours, ${spread(timings.memory)} baseline; ` +
      `${memoryHits.toLocaleString('en-US')} memory-tier hits, 0 Redis hits during the measurement`;
    return row(
      NAME,
      'tiered hit (memory tier after promotion)',
      'ns/op',
      timings.tiered.median,
      timings.memory.median,
      atMost(1.3),
      note,
    );
  } finally {
    await cache.close();
    await memoryCache.close();
  }
}

async function invalidation(ctx: BenchContext, url: string): Promise<Result> {
  const prefix = ctx.prefix('tiered-invalidation');
  const channel = `${prefix}:tier`;
  const a = new TieredStore({ redis: new RedisStore({ url, channel: `${prefix}:fills` }), channel });
  const b = new TieredStore({ redis: new RedisStore({ url, channel: `${prefix}:fills` }), channel });
  const raw = await connectRaw(url);
  try {
    await coherent(a, 'instance a');
    await coherent(b, 'instance b');
    for (let i = 0; i < 200; i++) await raw.ping(); // warm-up

    const seen = new Float64Array(REPETITIONS);
    const rtt = new Float64Array(REPETITIONS * PINGS_PER_REPETITION);
    let polls = 0;
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const key = `${prefix}:key:${rep}`;
      const oldValue = `old-${rep}`;
      const newValue = `new-${rep}`;

      // b holds the old value in its memory tier: written by a, read from Redis and promoted by b.
      const noticed = b.counts.noticesApplied;
      await a.set(key, oldValue, TTL_MS);
      const waitStarted = process.hrtime.bigint();
      while (b.counts.noticesApplied === noticed) {
        if (elapsedMs(waitStarted) > 5_000) throw new Error(`${NAME}: b never saw a's notice for ${key}`);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if ((await b.get(key))?.value !== oldValue) throw new Error(`${NAME}: b did not read ${oldValue} from Redis`);
      const memoryHits = b.counts.memoryHits;
      const held = b.get(key);
      if (held instanceof Promise || held?.value !== oldValue || b.counts.memoryHits !== memoryHits + 1) {
        throw new Error(`${NAME}: b did not serve ${key} from its memory tier before the update`);
      }

      for (let p = 0; p < PINGS_PER_REPETITION; p++) {
        const started = process.hrtime.bigint();
        await raw.ping();
        rtt[rep * PINGS_PER_REPETITION + p] = elapsedMs(started) * 1e3;
      }

      const started = process.hrtime.bigint();
      const written = a.set(key, newValue, TTL_MS);
      let entry: CacheEntry | undefined;
      for (;;) {
        polls++;
        entry = await b.get(key);
        if (entry?.value === newValue) break;
        if (entry?.value !== oldValue) throw new Error(`${NAME}: b read ${String(entry?.value)} for ${key}`);
        if (elapsedMs(started) > 5_000) throw new Error(`${NAME}: b still read the old value of ${key} after 5 s`);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      seen[rep] = elapsedMs(started) * 1e3;
      await written;
    }

    seen.sort();
    rtt.sort();
    const p50 = quantile(seen, 0.5);
    const pingP50 = quantile(rtt, 0.5);
    const note =
      `${REPETITIONS} keys, p90 ${quantile(seen, 0.9).toFixed(1)} µs; ${rtt.length} PINGs; ` +
      `b served each old value from memory first; ${(polls / REPETITIONS).toFixed(1)} reads of b per update`;
    return row(NAME, 'invalidation seen by a second instance', 'µs', p50, pingP50, undefined, note);
  } finally {
    await a.close();
    await b.close();
    await raw.close();
  }
}

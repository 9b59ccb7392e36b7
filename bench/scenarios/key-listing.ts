import { Cache } from '../../lib/index';
import { RedisStore } from '../../lib/redis';
import { elapsedMs } from '../support/measure';
import { connectRaw, SAFETY_TTL_S, type RawClient } from '../support/redis';
import { atMost, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'key-listing';
/** Entries of the listed cache, and keys of another application in the same database. */
const ENTRIES = 20_000;
const OTHERS = 20_000;
const TAGS = 200;
const REPETITIONS = 5;

/**
 * Listing a cache's 20,000 entries among 20,000 other keys with `cache.keys({ count })`, against a raw
 * node-redis `SCAN ... MATCH` loop over the same pattern; and `cache.peek` of a tagged entry in a cache
 * with 200 tags (a `GET` and its one tag checked) and `cache.inspect` of its raw key (a `GET` and a walk
 * over the whole database for tag sets), against one raw `GET`.
 */
export const keyListing: Scenario = {
  name: NAME,
  measures:
    '`for await (const page of cache.keys({ count }))` over every page; `cache.peek(...)`, `cache.inspect(key)` with 200 tag sets',
  baseline: 'node-redis `SCAN cursor MATCH <prefix>:* COUNT count` until the cursor is 0; one node-redis `GET`',
  async run(ctx: BenchContext): Promise<Result[]> {
    const url = await ctx.redisUrl();
    const prefix = ctx.prefix('keys');
    const raw = await connectRaw(url);
    const cache = new Cache({ store: new RedisStore({ url, operationTimeout: '5s' }), prefix, ttl: '10m' });
    try {
      const tagged = cache.wrap(async (i: number) => ({ i, text: 'x'.repeat(200) }), {
        name: 'Bench.entry',
        lock: false,
        tags: (_v: unknown, i: number) => [`t${i % TAGS}`],
      });
      for (let i = 0; i < ENTRIES; i += 1_000)
        await Promise.all(Array.from({ length: 1_000 }, (_, j) => tagged(i + j)));
      for (let i = 0; i < OTHERS; i += 1_000) {
        const batch = raw.multi();
        for (let j = 0; j < 1_000; j++) batch.set(`${prefix}-other:${i + j}`, 'v', { EX: SAFETY_TTL_S });
        await batch.exec();
      }
      const results: Result[] = [];
      for (const count of [100, 1_000]) results.push(await listing(cache, raw, prefix, count));
      results.push(...(await peeking(cache, raw, tagged)));
      return results;
    } finally {
      await cache.close();
      await raw.close();
    }
  },
};

async function listing(cache: Cache, raw: RawClient, prefix: string, count: number): Promise<Result> {
  let ours = Infinity;
  let base = Infinity;
  let sizes: number[] = [];
  let listed = 0;
  for (let r = 0; r < REPETITIONS; r++) {
    let started = process.hrtime.bigint();
    const pageSizes: number[] = [];
    for await (const page of cache.keys({ count })) pageSizes.push(page.length);
    ours = Math.min(ours, elapsedMs(started));
    sizes = pageSizes;
    listed = pageSizes.reduce((a, b) => a + b, 0);
    started = process.hrtime.bigint();
    let cursor = '0';
    do {
      const reply = await raw.scan(cursor, { MATCH: `${prefix}:*`, COUNT: count });
      cursor = String(reply.cursor);
    } while (cursor !== '0');
    base = Math.min(base, elapsedMs(started));
  }
  if (listed < ENTRIES) throw new Error(`${NAME}: listed ${listed} of ${ENTRIES} entries`);
  const sorted = [...sizes].sort((a, b) => a - b);
  return row(
    NAME,
    `list ${ENTRIES} entries, count ${count}`,
    'ms',
    ours,
    base,
    atMost(1.5),
    `best of ${REPETITIONS}; ${sizes.length} pages of ${sorted[0]}-${sorted[sorted.length - 1]} keys (median ${sorted[sorted.length >> 1]}); ${listed} keys`,
  );
}

async function peeking(cache: Cache, raw: RawClient, fn: (i: number) => Promise<unknown>): Promise<Result[]> {
  const key = (await cache.peek(fn, 7))?.key;
  if (key === undefined) throw new Error(`${NAME}: entry 7 is not cached`);
  const time = async (samples: number, run: (i: number) => Promise<unknown>): Promise<number> => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < samples; i++) await run(i);
    return (elapsedMs(started) / samples) * 1_000;
  };
  const base = await time(50, () => raw.get(key));
  const peek = await time(50, (i) => cache.peek(fn, i));
  const inspect = await time(5, () => cache.inspect(key));
  const keys = await raw.dbSize();
  return [
    row(NAME, 'peek (a tagged method)', 'µs', peek, base, undefined, 'mean of 50; its 1 tag checked: GET + SISMEMBER'),
    row(
      NAME,
      `inspect (raw key), ${TAGS} tag sets`,
      'µs',
      inspect,
      base,
      undefined,
      `mean of 5; walks the ${keys} keys of the database for tag sets`,
    ),
  ];
}

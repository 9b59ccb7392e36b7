import { Cache, Cached } from '../../lib/index';
import { RedisStore } from '../../lib/redis';
import { atLeast, exactly, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'tagged-writes';
const CALLERS = 256;
const KEYS = 10_000;
const WRITE_SHARE = 0.2;
const FILL_MS = 2;

/** Item ranks drawn from a Zipf distribution (s = 1) over KEYS items, as real traffic is skewed. */
function zipfSampler(n: number, random: () => number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cumulative[i] = sum += 1 / (i + 1);
  return () => {
    const target = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** A seeded generator, so both variants see the same sequence of reads and writes. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Outcome {
  readonly hitRate: number;
  readonly reads: number;
  readonly writes: number;
  /** Reads that returned a version older than one whose invalidation had resolved before the read began. */
  readonly stale: number;
}

/**
 * 256 callers over 10,000 items (Zipf), 20% of calls writes that invalidate the item, the rest reads of
 * a cached method (a 2 ms fill) tagged with its item. Tags (`invalidateTags`) against per-key
 * invalidation (`cache.invalidate`) of the same workload in the same run.
 */
async function runWorkload(url: string, prefix: string, mode: 'tags' | 'key', durationMs: number): Promise<Outcome> {
  const cache = new Cache({ store: new RedisStore({ url, channel: `${prefix}:fills` }), prefix, ttl: '10m' });
  const versions = new Int32Array(KEYS);
  /** Per item, the newest version whose invalidation has resolved: no read begun later may return older. */
  const resolved = new Int32Array(KEYS);
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  class Items {
    @Cached({ cache, tags: (_v: number, item: number) => [`item:${item}`] })
    async read(item: number): Promise<number> {
      const version = versions[item] as number;
      await sleep(FILL_MS);
      return version;
    }
  }
  const items = new Items();
  const random = mulberry32(42);
  const pick = zipfSampler(KEYS, random);
  let reads = 0;
  let writes = 0;
  let stale = 0;
  const end = Date.now() + durationMs;
  try {
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        while (Date.now() < end) {
          const item = pick();
          if (random() < WRITE_SHARE) {
            writes++;
            const version = (versions[item] = (versions[item] as number) + 1);
            if (mode === 'tags') await cache.invalidateTags([`item:${item}`]);
            else await cache.invalidate(items, 'read', item);
            if ((resolved[item] as number) < version) resolved[item] = version;
            continue;
          }
          reads++;
          const floor = resolved[item] as number;
          const got = await items.read(item);
          if (got < floor) stale++;
        }
      }),
    );
    const { total } = cache.stats();
    return { hitRate: total.hitRate, reads, writes, stale };
  } finally {
    await cache.close();
  }
}

export const taggedWrites: Scenario = {
  name: NAME,
  measures: `hit rate of a tagged \`@Cached\` read on a RedisStore, ${CALLERS} callers over ${KEYS.toLocaleString('en')} items (Zipf), ${WRITE_SHARE * 100}% of calls writes invalidating the item by tag; reads that returned a version older than a resolved invalidation`,
  baseline: 'the same workload invalidating the written item by key instead of by tag',
  async run(ctx: BenchContext): Promise<Result[]> {
    const url = await ctx.redisUrl();
    const durationMs = ctx.ms(4_000);
    const byTag = await runWorkload(url, ctx.prefix('tagged-writes-tags'), 'tags', durationMs);
    const byKey = await runWorkload(url, ctx.prefix('tagged-writes-key'), 'key', durationMs);
    const note = (o: Outcome): string =>
      `${o.reads.toLocaleString('en')} reads, ${o.writes.toLocaleString('en')} writes`;
    return [
      row(
        NAME,
        'hit rate, invalidation by tag vs by key',
        'share',
        byTag.hitRate,
        byKey.hitRate,
        atLeast(0.9),
        `tags: ${note(byTag)}; key: ${note(byKey)}`,
      ),
      row(NAME, 'stale reads after a resolved invalidation, by tag', 'reads', byTag.stale, byTag.reads, exactly(0)),
      row(NAME, 'stale reads after a resolved invalidation, by key', 'reads', byKey.stale, byKey.reads, exactly(0)),
    ];
  },
};

import { Cache } from '../../lib/index';
import { RedisStore } from '../../lib/redis';
import { compareThroughput, type Summary } from '../support/measure';
import { SAFETY_TTL_S, connectRaw } from '../support/redis';
import { atLeast, exactly, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'value-sizes';
const ROUNDS = 6;

/** A value of about `bytes` bytes of JSON: text, or structured (many small objects, as a list of records). */
function makeValue(kind: 'text' | 'structured', bytes: number, seed: number): unknown {
  if (kind === 'text')
    return `answer ${seed}: ` + 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, bytes);
  const items: object[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const item = {
      id: `${seed}-${i}`,
      title: `Item ${i} of ${seed}`,
      price: i * 1.25,
      tags: ['a', 'bb', 'ccc'],
      stock: { ok: i % 3 !== 0, n: i },
    };
    items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  return { seed, items };
}

interface Case {
  readonly label: string;
  readonly kind: 'text' | 'structured';
  readonly bytes: number;
  readonly keys: number;
  /** Target for ours / baseline at concurrency 64, when the issue sets one. */
  readonly target?: number;
}

const CASES: readonly Case[] = [
  { label: '100 B', kind: 'text', bytes: 100, keys: 500 },
  { label: '10 KB text', kind: 'text', bytes: 10_000, keys: 200 },
  { label: '10 KB structured', kind: 'structured', bytes: 10_000, keys: 200, target: 1 },
  { label: '1 MB structured', kind: 'structured', bytes: 1_000_000, keys: 64 },
];

/**
 * Hits of a `cache.wrap`ped function on a RedisStore for values of several sizes, one at a time and 64 at
 * once, with store errors and method runs counted during the measurement (both must stay 0: a slow
 * decode must never look like a Redis failure, turn hits into misses and call the method).
 */
export const valueSizes: Scenario = {
  name: NAME,
  measures:
    'hits/s of `cache.wrap(fn)` on a RedisStore (default options) for 100 B, 10 KB text, 10 KB structured and 1 MB values, concurrency 1 and 64; store errors and method runs during the run',
  baseline:
    'node-redis 6 `createClient({ url })`, `JSON.parse(await client.get(key))` of the same values, same concurrency',
  async run(ctx: BenchContext): Promise<Result[]> {
    const url = await ctx.redisUrl();
    const results: Result[] = [];
    for (const c of CASES) {
      const prefix = ctx.prefix(`sizes-${c.label.replace(/\W+/g, '-')}`);
      const cache = new Cache({ store: new RedisStore({ url, channel: `${prefix}:fills` }), prefix, ttl: '10m' });
      const raw = await connectRaw(url);
      try {
        let runs = 0;
        const values = Array.from({ length: c.keys }, (_, i) => makeValue(c.kind, c.bytes, i));
        const read = cache.wrap(
          async (i: number) => {
            runs++;
            return values[i];
          },
          { name: 'read' },
        );
        const rawKeys = values.map((_, i) => `${prefix}:raw:${i}`);
        for (let i = 0; i < c.keys; i++) {
          await read(i);
          await raw.set(rawKeys[i] as string, JSON.stringify(values[i]), { EX: SAFETY_TTL_S });
        }
        const filled = runs;
        const before = cache.stats().total;
        for (const concurrency of [1, 64]) {
          const big = c.bytes >= 1_000_000;
          const timings = await compareThroughput(
            {
              ours: (i: number) => read(i % c.keys),
              baseline: async (i: number) =>
                JSON.parse((await raw.get(rawKeys[i % c.keys] as string)) as string) as unknown,
            },
            {
              concurrency,
              warmupMs: ctx.ms(big ? 1_000 : 300),
              roundMs: ctx.ms(big ? 1_500 : 400),
              rounds: ROUNDS,
            },
          );
          const spread = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;
          const target = concurrency === 64 && c.target !== undefined ? atLeast(c.target) : undefined;
          results.push(
            row(
              NAME,
              `${c.label}, concurrency ${concurrency}`,
              'ops/s',
              timings.ours.median,
              timings.baseline.median,
              target,
              `spread ${spread(timings.ours)} ours, ${spread(timings.baseline)} baseline`,
            ),
          );
        }
        const after = cache.stats().total;
        const lookups = after.hits + after.misses - before.hits - before.misses;
        const storeErrors = after.storeErrors - before.storeErrors;
        const methodRuns = runs - filled;
        results.push(
          row(
            NAME,
            `${c.label}: store errors among all lookups of the run`,
            'errors',
            storeErrors,
            lookups,
            exactly(0),
          ),
          row(
            NAME,
            `${c.label}: method runs among all lookups (hits turned misses)`,
            'calls',
            methodRuns,
            lookups,
            exactly(0),
          ),
        );
      } finally {
        await cache.close();
        await raw.close();
      }
    }
    return results;
  },
};

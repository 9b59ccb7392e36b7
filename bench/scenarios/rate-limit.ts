import { toRateRule } from '../../lib/rate-limit/gcra';
import { MemoryRateLimiter } from '../../lib/rate-limit/memory-rate-limiter';
import { GCRA_DECIDE } from '../../lib/redis/gcra-script';
import { RedisRateLimiter } from '../../lib/redis/redis-rate-limiter';
import { startWorker } from '../../spec/support/child-processes';
import { compareNsPerOp, compareThroughput, type Summary } from '../support/measure';
import { connectRawWithoutTimeout } from '../support/redis';
import { atMost, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'rate-limit';
const CONCURRENCY = 64;
const KEYS = 1_000;
const PROCESSES = 4;
const SHARED_LIMIT = 100; // per second
const SHARED_SECONDS = 3;
/** A rule no benchmark loop can exhaust, so every decision does the full admit path (read, compute, write). */
const OPEN_RULE = toRateRule(1_000_000_000, 1_000, 1_000_000);
const TRIVIAL = 'return 1';
const OPEN_ARGS = [String(OPEN_RULE.emissionUs), String(OPEN_RULE.toleranceUs), String(OPEN_RULE.emissionUs)];

/**
 * Rate-limit decisions per second (memory and Redis, beside a bare Map and a raw EVALSHA of a trivial
 * script), and the accuracy of one Redis limit shared by 4 processes.
 */
export const rateLimit: Scenario = {
  name: NAME,
  measures: 'MemoryRateLimiter / RedisRateLimiter `decide(key, rule, 1)` over 1,000 keys; 4 processes sharing one Redis limit',
  baseline:
    '`await map.get(key)` + `map.set`; node-redis `EVALSHA` of `return 1` and of the same GCRA script; the ideal admissions of the shared limit',
  async run(ctx: BenchContext): Promise<Result[]> {
    const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`);
    const spread = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;
    const results: Result[] = [];

    const memory = new MemoryRateLimiter();
    const map = new Map<string, number>();
    let sink: unknown;
    const inMemory = await compareNsPerOp(
      {
        ours: async (n: number) => {
          for (let i = 0; i < n; i++) sink = await memory.decide(keys[i % KEYS] as string, OPEN_RULE, 1);
        },
        map: async (n: number) => {
          for (let i = 0; i < n; i++) {
            const key = keys[i % KEYS] as string;
            sink = await map.get(key);
            map.set(key, i);
          }
        },
      },
      { warmupMs: ctx.ms(300), roundMs: ctx.ms(30), rounds: 21 },
    );
    void sink;
    results.push(
      row(NAME, 'memory decision', 'ns/op', inMemory.ours.median, inMemory.map.median, undefined,
        `${(1e9 / inMemory.ours.median / 1e6).toFixed(2)} M decisions/s; spread ${spread(inMemory.ours)} ours, ${spread(inMemory.map)} baseline`),
    );

    const url = await ctx.redisUrl();
    const prefix = ctx.prefix('rate-limit');
    const limiter = new RedisRateLimiter({ url, prefix });
    const raw = await connectRawWithoutTimeout(url);
    try {
      await limiter.decide('warm-up', OPEN_RULE, 1);
      const sha = (await raw.sendCommand(['SCRIPT', 'LOAD', TRIVIAL])) as string;
      const rawGcra = (i: number): Promise<unknown> =>
        raw.sendCommand(['EVALSHA', GCRA_DECIDE.sha1, '1', `${prefix}:raw:${keys[i % KEYS]}`, ...OPEN_ARGS]);
      await rawGcra(0);
      const timings = await compareThroughput(
        {
          ours: (i: number) => limiter.decide(keys[i % KEYS] as string, OPEN_RULE, 1),
          evalsha: (_i: number) => raw.sendCommand(['EVALSHA', sha, '0']),
          gcra: rawGcra,
        },
        { concurrency: CONCURRENCY, warmupMs: ctx.ms(500), roundMs: ctx.ms(500), rounds: 6 },
      );
      if (limiter.errors > 0) throw new Error(`rate-limit: ${limiter.errors} failed Redis decisions during the run`);
      const note = `spread ${spread(timings.ours)} ours, ${spread(timings.evalsha)} / ${spread(timings.gcra)} baselines`;
      results.push(
        row(NAME, `Redis decision vs EVALSHA \`${TRIVIAL}\`, concurrency ${CONCURRENCY}`, 'ops/s', timings.ours.median,
          timings.evalsha.median, undefined, `the GCRA script runs TIME, GET and SET PX; ${note}`),
        row(NAME, `Redis decision vs the GCRA script by raw EVALSHA, concurrency ${CONCURRENCY}`, 'ops/s', timings.ours.median,
          timings.gcra.median, undefined, 'what our client side (timeout, breaker, reply parsing) costs'),
      );
    } finally {
      await limiter.close();
      await raw.close();
    }

    const shared = await sharedLimit(url, ctx.prefix('rate-limit-shared'), ctx.ms(SHARED_SECONDS * 1_000));
    const ideal = Math.round((SHARED_LIMIT * shared.durationMs) / 1_000);
    results.push(
      row(NAME, `${PROCESSES} processes sharing ${SHARED_LIMIT}/s for ${shared.durationMs / 1_000} s: admitted`, 'calls', shared.total, ideal,
        atMost(1.02), `per process ${shared.perProcess.join(' + ')}; admissions span ${shared.spanMs.toFixed(0)} ms of server time`),
      row(NAME, `${PROCESSES} processes sharing ${SHARED_LIMIT}/s: most admitted in any 1 s window`, 'calls', shared.busiest, SHARED_LIMIT,
        atMost(SHARED_LIMIT, 'ours'), 'burst 1; windows [t, t + 1 s) starting at each admission, on the Redis server clock'),
    );
    return results;
  },
};

/** Runs the test suite's rate-limit worker in PROCESSES processes against one shared key. */
async function sharedLimit(url: string, prefix: string, durationMs: number) {
  const env = { REDIS_URL: url, PREFIX: prefix, LIMIT: String(SHARED_LIMIT), BURST: '1', DURATION_MS: String(durationMs), LOOPS: '4' };
  const workers = Array.from({ length: PROCESSES }, () => startWorker('rate-limit-worker', env));
  const guard = setTimeout(() => workers.forEach((w) => w.kill()), 120_000);
  try {
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    const results = (await Promise.all(workers.map((w) => w.result))) as { admittedAt: number[]; errors: number }[];
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) throw new Error(`rate-limit: ${errors} failed Redis decisions in the shared-limit processes`);
    const all = results.flatMap((r) => r.admittedAt).sort((a, b) => a - b);
    let busiest = 0;
    for (let start = 0, end = 0; start < all.length; start++) {
      while (end < all.length && (all[end] as number) < (all[start] as number) + 1_000) end++;
      busiest = Math.max(busiest, end - start);
    }
    return {
      durationMs,
      total: all.length,
      busiest,
      perProcess: results.map((r) => r.admittedAt.length),
      spanMs: all.length > 1 ? (all.at(-1) as number) - (all[0] as number) : 0,
    };
  } finally {
    clearTimeout(guard);
    workers.forEach((w) => w.kill());
  }
}

import { toRateRule } from '../../lib/rate-limit/gcra';
import { MemoryRateLimiter } from '../../lib/rate-limit/memory-rate-limiter';
import { GCRA_DECIDE } from '../../lib/redis/gcra-script';
import { RedisRateLimiter } from '../../lib/redis/redis-rate-limiter';
import { busiestWindow, byTime, type Admission } from '../../spec/rate-limit/windows';
import { startWorker } from '../../spec/support/child-processes';
import { compareNsPerOp, compareThroughput, type Summary } from '../support/measure';
import { connectRawWithoutTimeout } from '../support/redis';
import { atLeast, atMost, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'rate-limit';
const CONCURRENCY = 64;
const KEYS = 1_000;
const PROCESSES = 4;
const SHARED_LIMIT = 100; // per second
const SHARED_SECONDS = 3;
/** The default `burst`: the shared limit runs at default settings. */
const DEFAULT_BURST = 1;
/** A rule no benchmark loop can exhaust, so every decision does the full admit path (read, compute, write). */
const OPEN_RULE = toRateRule(1_000_000_000, 1_000, 1_000_000);
const TRIVIAL = 'return 1';
const OPEN_ARGS = [
  OPEN_RULE.emissionUs,
  OPEN_RULE.toleranceUs,
  OPEN_RULE.emissionUs,
  OPEN_RULE.creditUs,
  OPEN_RULE.restUs,
].map(String);

/**
 * Rate-limit decisions per second (memory and Redis, beside a bare Map, plain GCRA and a raw EVALSHA of a
 * trivial script), and how much of one Redis limit shared by 4 processes at default settings is used,
 * with callers that queue (`mode: 'wait'`) and callers that sleep `retryAfterMs`.
 */
export const rateLimit: Scenario = {
  name: NAME,
  measures:
    'MemoryRateLimiter / RedisRateLimiter `decide(key, rule, 1)` over 1,000 keys; 4 processes sharing one Redis limit',
  baseline:
    '`await map.get(key)` + `map.set`; the same limiter as plain GCRA on `Date.now()`; node-redis `EVALSHA` of `return 1` and of the same GCRA script; the ideal admissions, plain GCRA and `limit + burst` for the shared limit',
  async run(ctx: BenchContext): Promise<Result[]> {
    const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`);
    const spread = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;
    const results: Result[] = [];

    const memory = new MemoryRateLimiter();
    // The limiter as it was before it kept unclaimed slots and read a microsecond clock: plain GCRA
    // (no credit) on Date.now().
    const plain = new MemoryRateLimiter({ clock: { now: () => Date.now() } });
    const plainRule = { ...OPEN_RULE, creditUs: 0 };
    const map = new Map<string, number>();
    let sink: unknown;
    const inMemory = await compareNsPerOp(
      {
        ours: async (n: number) => {
          for (let i = 0; i < n; i++) sink = await memory.decide(keys[i % KEYS] as string, OPEN_RULE, 1);
        },
        plain: async (n: number) => {
          for (let i = 0; i < n; i++) sink = await plain.decide(keys[i % KEYS] as string, plainRule, 1);
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
      row(
        NAME,
        'memory decision',
        'ns/op',
        inMemory.ours.median,
        inMemory.map.median,
        undefined,
        `${(1e9 / inMemory.ours.median / 1e6).toFixed(2)} M decisions/s; spread ${spread(inMemory.ours)} ours, ${spread(inMemory.map)} baseline`,
      ),
      row(
        NAME,
        'memory decision vs plain GCRA on Date.now()',
        'ns/op',
        inMemory.ours.median,
        inMemory.plain.median,
        atMost(1.1),
        `the same limiter without the credit, on Date.now(): what they cost; spread ${spread(inMemory.plain)} baseline`,
      ),
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
          // A token limit's correction after the call: one unit of overdraft, on the same keys.
          adjust: (i: number) => limiter.adjust(keys[i % KEYS] as string, OPEN_RULE, 1),
        },
        { concurrency: CONCURRENCY, warmupMs: ctx.ms(500), roundMs: ctx.ms(500), rounds: 6 },
      );
      if (limiter.errors > 0) throw new Error(`rate-limit: ${limiter.errors} failed Redis decisions during the run`);
      const note = `spread ${spread(timings.ours)} ours, ${spread(timings.evalsha)} / ${spread(timings.gcra)} baselines`;
      results.push(
        row(
          NAME,
          `Redis decision vs EVALSHA \`${TRIVIAL}\`, concurrency ${CONCURRENCY}`,
          'ops/s',
          timings.ours.median,
          timings.evalsha.median,
          undefined,
          `the GCRA script runs TIME, GET and SET PX; ${note}`,
        ),
        row(
          NAME,
          `Redis decision vs the GCRA script by raw EVALSHA, concurrency ${CONCURRENCY}`,
          'ops/s',
          timings.ours.median,
          timings.gcra.median,
          undefined,
          'what our client side (timeout, breaker, reply parsing) costs',
        ),
        row(
          NAME,
          `Redis correction (adjust) vs decision, concurrency ${CONCURRENCY}`,
          'ops/s',
          timings.adjust.median,
          timings.ours.median,
          undefined,
          `a token limit's second round trip per call (reserve, then correct from usage); spread ${spread(timings.adjust)}`,
        ),
      );
    } finally {
      await limiter.close();
      await raw.close();
    }

    // Four runs of the shared limit: each drive with the credit and, as the baseline, without it.
    const durationMs = ctx.ms(SHARED_SECONDS * 1_000);
    const ideal = Math.round((SHARED_LIMIT * durationMs) / 1_000);
    const bound = SHARED_LIMIT + DEFAULT_BURST;
    for (const mode of ['wait', 'reject'] as const) {
      const drive = mode === 'wait' ? "`mode: 'wait'`" : '`retryAfterMs` slept';
      const ours = await sharedLimit(url, ctx.prefix(`rate-limit-${mode}`), durationMs, mode, 'default');
      const plain = await sharedLimit(url, ctx.prefix(`rate-limit-${mode}-plain`), durationMs, mode, 'none');
      results.push(
        row(
          NAME,
          `${PROCESSES} processes sharing ${SHARED_LIMIT}/s for ${durationMs / 1_000} s, ${drive}: admitted`,
          'calls',
          ours.admitted,
          ideal,
          atLeast(0.99),
          `per process ${ours.perProcess.join(' + ')}; default settings (burst ${DEFAULT_BURST}); in the ${durationMs / 1_000} s from the first admission, server clock`,
        ),
        row(
          NAME,
          `  same, plain GCRA (no credit): admitted`,
          'calls',
          plain.admitted,
          ideal,
          undefined,
          `what a limiter that drops late callers' slots admits in the same run (busiest 1 s window ${plain.busiest})`,
        ),
        row(
          NAME,
          `  same: most admitted in any 1 s window`,
          'calls',
          ours.busiest,
          bound,
          atMost(bound, 'ours'),
          'baseline limit + burst; windows [t, t + 1 s) starting anywhere, to the µs of the Redis server clock',
        ),
      );
    }
    return results;
  },
};

/** Runs the test suite's rate-limit worker in PROCESSES processes against one shared key. */
async function sharedLimit(
  url: string,
  prefix: string,
  durationMs: number,
  mode: 'wait' | 'reject',
  credit: 'default' | 'none',
) {
  const env = {
    REDIS_URL: url,
    PREFIX: prefix,
    LIMIT: String(SHARED_LIMIT),
    DURATION_MS: String(durationMs),
    LOOPS: '4',
    MODE: mode,
    CREDIT: credit,
  };
  const workers = Array.from({ length: PROCESSES }, () => startWorker('rate-limit-worker', env));
  const guard = setTimeout(() => workers.forEach((w) => w.kill()), 120_000);
  try {
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    const results = (await Promise.all(workers.map((w) => w.result))) as { admittedAtUs: number[]; errors: number }[];
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) throw new Error(`rate-limit: ${errors} failed Redis decisions in the shared-limit processes`);
    const all: Admission[] = results.flatMap((r) => r.admittedAtUs.map((atUs) => ({ atUs, units: 1 }))).sort(byTime);
    // Waiters queued when the run ends are admitted after it: count the run's own duration only.
    const from = (all[0] as Admission).atUs;
    return {
      admitted: all.filter((a) => a.atUs < from + durationMs * 1_000).length,
      busiest: busiestWindow(all, 1_000_000),
      perProcess: results.map((r) => r.admittedAtUs.filter((at) => at < from + durationMs * 1_000).length),
    };
  } finally {
    clearTimeout(guard);
    workers.forEach((w) => w.kill());
  }
}

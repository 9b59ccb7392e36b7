import { startWorker, type Worker } from './child-processes';
import type { FailoverResult, FailoverStampede, FailoverTally } from './children/failover-worker';
import { startReplicatedRedisCluster, type TestReplicatedCluster } from './redis-cluster';

/** The phases of a run, in order. */
export type FailoverPhase = 'healthy' | 'failover' | 'promoted' | 'recovered';
export const FAILOVER_PHASES: readonly FailoverPhase[] = ['healthy', 'failover', 'promoted', 'recovered'];

export interface FailoverRunOptions {
  /** `redis` (RedisStore), `tiered` (TieredStore over it) or `plain` (node-redis GET/SET by hand). */
  readonly store: 'redis' | 'tiered' | 'plain';
  readonly prefix: string;
  /** Processes, each one service instance with its own cluster client. */
  readonly workers: number;
  /** Calls per second per process, over `keys` keys drawn at random. */
  readonly rate: number;
  readonly keys: number;
  /** TTL of the entries. */
  readonly ttlMs: number;
  /** Calls per process of the warm-up (before `healthy`), and of the `healthy` and `recovered` phases. */
  readonly warmCalls: number;
  readonly phaseCalls: number;
  /** The index (0-2) of the master killed. */
  readonly failed: number;
  readonly operationTimeoutMs: number;
  readonly breakerThreshold: number;
  readonly lockWaitMs: number;
  readonly stampedeHoldMs: number;
  /** Bound on each step driven by the cluster or the workers (promotion, rejoin, N calls, exit). */
  readonly stepBoundMs: number;
}

/** One phase and slot group summed over the processes. */
export type FailoverFigures = Record<FailoverPhase, Record<'healthy' | 'failed', FailoverTally>>;

export interface FailoverRun {
  readonly figures: FailoverFigures;
  /** From the kill until the parent saw the replica serve the slots everywhere with cluster_state:ok. */
  readonly promotionMs: number;
  /** Per process: from the kill until its first successful read of a failed slot (its client followed). */
  readonly followedMs: readonly number[];
  /** From restarting the killed node until it had rejoined as a replica. */
  readonly restartMs: number;
  /** Two per process: a fresh key on a healthy master and one on the failed master, fired right after the kill. */
  readonly stampedes: readonly FailoverStampede[];
  /** Exit code of each process after `stop`. */
  readonly exits: readonly (number | string)[];
  readonly results: readonly FailoverResult[];
}

/**
 * Runs the scenario of the issue "Scale-out under failure" on a fresh six-node cluster: `workers` processes
 * under steady load; `warm` until hits and fills are at their steady mix; `healthy` for `phaseCalls`
 * calls; `failover` from the kill of master `failed` (SIGKILL) until its replica is seen promoted, with
 * two stampedes fired at once after the kill; `promoted` until every process has read the failed slots
 * again; the killed node restarted (it rejoins as a replica); `recovered` for `phaseCalls` calls; then
 * `stop`, and every process must exit by itself. Every step waits for an event, bounded by `stepBoundMs`.
 */
export async function runFailover(options: FailoverRunOptions): Promise<FailoverRun> {
  const cluster: TestReplicatedCluster = await startReplicatedRedisCluster();
  let workers: Worker[] = [];
  const within = async <T>(promise: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${options.store}: ${what}: not within ${options.stepBoundMs} ms`)),
        options.stepBoundMs,
      );
    });
    try {
      return await Promise.race([promise, bound]);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    const [first, last] = cluster.slotRange(options.failed);
    workers = Array.from({ length: options.workers }, () =>
      startWorker('failover-worker', {
        CLUSTER_URLS: cluster.urls.join(','),
        STORE: options.store,
        PREFIX: options.prefix,
        KEYS: String(options.keys),
        RATE: String(options.rate),
        TTL_MS: String(options.ttlMs),
        FAILED_RANGE: `${first}-${last}`,
        OPERATION_TIMEOUT_MS: String(options.operationTimeoutMs),
        BREAKER_THRESHOLD: String(options.breakerThreshold),
        LOCK_WAIT_MS: String(options.lockWaitMs),
        STAMPEDE_HOLD_MS: String(options.stampedeHoldMs),
      }),
    );
    const all = <T>(field: string, what: string): Promise<T[]> =>
      within(Promise.all(workers.map((w) => w.message<T>(field))), what);
    const enter = async (phase: FailoverPhase | 'warm', calls?: number): Promise<void> => {
      workers.forEach((w) => w.tell(calls === undefined ? `phase ${phase}` : `phase ${phase} ${calls}`));
      await all('entered', `every process entering phase ${phase}`);
    };
    await within(Promise.all(workers.map((w) => w.ready)), 'workers connecting');
    const [leader] = workers as [Worker];

    await enter('warm', options.warmCalls);
    await all('done', 'the warm-up');
    await enter('healthy', options.phaseCalls);
    await all('done', 'the healthy phase');
    // Fresh keys for the stampedes: one on a healthy master, one on the master about to fail.
    leader.tell('pick healthy stampede-healthy');
    const healthyArg = await within(leader.message<string>('picked'), 'picking a key');
    leader.tell('pick failed stampede-failed');
    const failedArg = await within(leader.message<string>('picked'), 'picking a key');

    // The kill, and at once both stampedes (every process together) while the replica is not yet promoted.
    await enter('failover');
    await cluster.killMaster(options.failed);
    workers.forEach((w) => w.tell('follow'));
    workers.forEach((w) => w.tell(`fire ${healthyArg}`));
    workers.forEach((w) => w.tell(`fire ${failedArg}`));
    const promotionMs = await cluster.waitForPromotion(options.failed, options.stepBoundMs);
    const stampedes = [
      ...(await all<FailoverStampede>('stampede', 'the first stampede')),
      ...(await all<FailoverStampede>('stampede', 'the second stampede')),
    ];

    // Promoted: until every process has read the failed slots from the promoted replica.
    await enter('promoted');
    const followedMs = await all<number>('followed', 'every process reading the promoted replica');
    const restartMs = await cluster.restart(options.failed, options.stepBoundMs);
    await enter('recovered', options.phaseCalls);
    await all('done', 'the recovered phase');

    workers.forEach((w) => w.tell('stop'));
    const results = (await within(Promise.all(workers.map((w) => w.result)), 'results')) as FailoverResult[];
    const exits = await within(Promise.all(workers.map((w) => w.exited)), 'every process exiting');
    const figures = Object.fromEntries(
      FAILOVER_PHASES.map((phase) => [
        phase,
        { healthy: total(results, phase, 'healthy'), failed: total(results, phase, 'failed') },
      ]),
    ) as FailoverFigures;
    return { figures, promotionMs, followedMs, restartMs, stampedes, exits, results };
  } finally {
    workers.forEach((w) => w.kill());
    await cluster.stop();
  }
}

/** One phase's tallies summed over the processes; p50, p99 and slowest are the worst process's. */
function total(results: readonly FailoverResult[], phase: FailoverPhase, slots: 'healthy' | 'failed'): FailoverTally {
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
    p99Ms: Math.max(0, ...tallies.map((t) => t.p99Ms)),
    maxMs: Math.max(0, ...tallies.map((t) => t.maxMs)),
  };
}

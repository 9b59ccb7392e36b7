// One service instance under steady load while a cluster master fails over (spec/redis/cluster-failover.spec.ts,
// bench/scenarios/cluster-failover.ts).
//
// Env: CLUSTER_URLS (comma-separated masters), STORE (`redis`: a Cache on a RedisStore; `tiered`: on a
// TieredStore over it; `plain`: cache-aside by hand with node-redis GET/SET, the baseline), PREFIX, KEYS (how
// many distinct keys), RATE (calls per second), FAILED_RANGE (`first-last`: the slots of the master that
// will be killed), TTL_MS (of the load method's entries), OPERATION_TIMEOUT_MS, BREAKER_THRESHOLD, LOCK_WAIT_MS,
// STAMPEDE_CALLS, STAMPEDE_HOLD_MS.
//
// The method's value is `v:<key>`, a function of its argument, so a wrong value is detectable. Every call is
// counted under the phase it started in and under `failed` or `healthy` by the hash slot of its store key.
//
// Prints `ready` once connected. Then, one command per stdin line:
// - `phase <name> [calls]`: from now on calls count under <name> (prints `{"entered": "<name>"}`); the steady
//   load (RATE calls/s, open loop, keys drawn at random) starts with the first phase; with `calls`, prints
//   `{"done": "<name>"}` once that many calls of the phase have ended;
// - `follow`: reads a key of the failed slots through the store (`redis` tier of a TieredStore; GET for
//   `plain`) every 20 ms until one read succeeds; prints `{"followed": <ms since the command>}`;
// - `pick <failed|healthy> <label>`: prints `{"picked": "<label>-<n>"}`, the first such argument of the
//   stampede method whose store key lies in the failed range, or outside it;
// - `fire <arg>`: STAMPEDE_CALLS concurrent calls of the stampede method (it holds STAMPEDE_HOLD_MS) with
//   <arg>; prints `{"stampede": {arg, calls, runs, errors, wrong, maxMs}}`;
// - `stop`: stops the load, waits for the calls in flight, closes the cache and the cluster client (a
//   close that takes over 3 s is given up and the client destroyed: `closed` says which), prints
//   `{"result": {...}}` and exits by itself; a handle still open 5 s later makes it exit with code 3.
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createCluster } from 'redis';
import { Cache, Cached } from '../../../lib';
import { locateCachedMethod } from '../../../lib/cache/method-registry';
import { RedisStore, TieredStore } from '../../../lib/redis';
import { hashSlot, type RedisClusterLike } from '../../../lib/redis/cluster';

type Slots = 'healthy' | 'failed';

interface Tally {
  calls: number;
  /**
   * Method runs while the phase lasted, for keys of this slot group. Hit rate = 1 - runs / calls; a call
   * whose fill is not shared (an invalidation check failed) can run the method more than once.
   */
  runs: number;
  /** Calls that rejected. */
  errors: number;
  /** Calls that resolved with a value other than `v:<key>`. */
  wrong: number;
  /** Failed Redis commands (`plain` only; cachet counts its own in `storeErrors`). */
  storeErrors: number;
  readonly ms: number[];
}

/** What `result` reports per phase and slot group. */
export interface FailoverTally {
  readonly calls: number;
  readonly runs: number;
  readonly hitRate: number;
  readonly errors: number;
  readonly wrong: number;
  readonly storeErrors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface FailoverStampede {
  readonly arg: string;
  readonly calls: number;
  readonly runs: number;
  readonly errors: number;
  readonly wrong: number;
  readonly maxMs: number;
}

export interface FailoverResult {
  readonly store: string;
  readonly pid: number;
  readonly phases: Record<string, Record<Slots, FailoverTally>>;
  /** Cachet's store errors over the whole run (`cache.stats().total.storeErrors`). */
  readonly storeErrors: number;
  /** How the cluster client closed: `close` or `destroy` (close took over 3 s), and how long it took. */
  readonly closed: { readonly how: 'close' | 'destroy'; readonly ms: number; readonly cacheCloseMs: number };
}

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`failover-worker: ${name} is not set`);
  return value;
};

const urls = env('CLUSTER_URLS').split(',');
const kind = env('STORE');
const prefix = env('PREFIX');
const keyCount = Number(env('KEYS'));
const rate = Number(env('RATE'));
const [failedFirst, failedLast] = env('FAILED_RANGE').split('-').map(Number) as [number, number];
const operationTimeout = Number(process.env.OPERATION_TIMEOUT_MS ?? 250);
const breakerThreshold = Number(process.env.BREAKER_THRESHOLD ?? 3);
const lockWaitMs = Number(process.env.LOCK_WAIT_MS ?? 1_000);
const stampedeCalls = Number(process.env.STAMPEDE_CALLS ?? 20);
const stampedeHoldMs = Number(process.env.STAMPEDE_HOLD_MS ?? 200);
const TTL_MS = Number(process.env.TTL_MS ?? 10 * 60_000);

const slotsOf = (storeKey: string): Slots => {
  const slot = hashSlot(storeKey);
  return slot >= failedFirst && slot <= failedLast ? 'failed' : 'healthy';
};
const expected = (arg: string): string => `v:${arg}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const say = (message: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(message)}\n`);

/** What one instance does, whichever client it uses. */
interface Instance {
  /** The store key of argument `arg` of the load method (`stampede`: of the stampede method). */
  keyOf(arg: string, stampede?: boolean): string;
  /** One call of the load method. */
  call(arg: string): Promise<string>;
  /** One call of the stampede method. */
  stampede(arg: string): Promise<string>;
  /** Method runs of the stampede method so far, for argument `arg`. */
  stampedeRuns(arg: string): number;
  /** One read of `storeKey` straight from Redis; rejects when Redis did not answer. */
  probe(storeKey: string): Promise<unknown>;
  storeErrors(): number;
  /** Closes what close() must close before the cluster client. */
  close(): Promise<void>;
}

async function connect(): Promise<RedisClusterLike> {
  const refreshMs = process.env.TOPOLOGY_REFRESH_MS;
  const cluster = createCluster({
    rootNodes: urls.map((url) => ({ url })),
    // node-redis refreshes the topology this long after a node starts reconnecting (5 s by default).
    ...(refreshMs === undefined ? {} : { topologyRefreshOnReconnectionAttemptStrategy: Number(refreshMs) }),
  });
  cluster.on('error', () => {});
  await cluster.connect();
  return cluster as unknown as RedisClusterLike;
}

/** Where an instance reports what happens inside a call: a method run, a failed Redis command (`plain`). */
interface Hooks {
  ran(arg: string): void;
  storeFailed(arg: string): void;
}

function cachetInstance(cluster: RedisClusterLike, hooks: Hooks): Instance {
  const redis = new RedisStore({ client: cluster, operationTimeout, breakerThreshold, channel: `${prefix}:fills` });
  const store = kind === 'tiered' ? new TieredStore({ redis, channel: `${prefix}:tier` }) : redis;
  const cache = new Cache({ store, prefix, lock: { ttl: '5s', wait: lockWaitMs } });
  const stampedeRuns = new Map<string, number>();

  class Model {
    @Cached({ cache, ttl: TTL_MS })
    async ask(arg: string): Promise<string> {
      hooks.ran(arg);
      return expected(arg);
    }

    @Cached({ cache, ttl: TTL_MS })
    async stampede(arg: string): Promise<string> {
      stampedeRuns.set(arg, (stampedeRuns.get(arg) ?? 0) + 1);
      await sleep(stampedeHoldMs);
      return expected(arg);
    }
  }
  const model = new Model();
  const ask = locateCachedMethod(cache, model, 'ask');
  const stampede = locateCachedMethod(cache, model, 'stampede');
  return {
    keyOf: (arg, isStampede = false) => (isStampede ? stampede : ask).keyFor(model, [arg]),
    call: (arg) => model.ask(arg),
    stampede: (arg) => model.stampede(arg),
    stampedeRuns: (arg) => stampedeRuns.get(arg) ?? 0,
    probe: (storeKey) => redis.get(storeKey),
    storeErrors: () => cache.stats().total.storeErrors,
    close: () => cache.close(),
  };
}

function plainInstance(cluster: RedisClusterLike, hooks: Hooks): Instance {
  const stampedeRuns = new Map<string, number>();
  let storeErrors = 0;
  const keyOf = (arg: string, isStampede = false): string =>
    `${prefix}-plain:${isStampede ? 'stampede' : 'ask'}:${arg}`;
  // Cache-aside as an application writes it by hand: a failed GET counts as a miss, a failed SET is dropped.
  const get = async (key: string, arg: string): Promise<string | null> => {
    try {
      return await cluster.sendCommand<string | null>(key, true, ['GET', key]);
    } catch {
      storeErrors++;
      hooks.storeFailed(arg);
      return null;
    }
  };
  const set = async (key: string, value: string, arg: string): Promise<void> => {
    try {
      await cluster.sendCommand(key, false, ['SET', key, value, 'PX', String(TTL_MS)]);
    } catch {
      storeErrors++;
      hooks.storeFailed(arg);
    }
  };
  return {
    keyOf,
    async call(arg) {
      const key = keyOf(arg);
      const cached = await get(key, arg);
      if (cached !== null) return cached;
      hooks.ran(arg);
      const value = expected(arg);
      await set(key, value, arg);
      return value;
    },
    async stampede(arg) {
      const key = keyOf(arg, true);
      const cached = await get(key, arg);
      if (cached !== null) return cached;
      stampedeRuns.set(arg, (stampedeRuns.get(arg) ?? 0) + 1);
      await sleep(stampedeHoldMs);
      const value = expected(arg);
      await set(key, value, arg);
      return value;
    },
    stampedeRuns: (arg) => stampedeRuns.get(arg) ?? 0,
    probe: (storeKey) => cluster.sendCommand(storeKey, true, ['GET', storeKey]),
    storeErrors: () => storeErrors,
    close: async () => {},
  };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function summarize(tally: Tally): FailoverTally {
  const sorted = [...tally.ms].sort((a, b) => a - b);
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return {
    calls: tally.calls,
    runs: tally.runs,
    hitRate: tally.calls === 0 ? 0 : Math.round((1 - tally.runs / tally.calls) * 1000) / 1000,
    errors: tally.errors,
    wrong: tally.wrong,
    storeErrors: tally.storeErrors,
    p50Ms: round(quantile(sorted, 0.5)),
    p99Ms: round(quantile(sorted, 0.99)),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
  };
}

async function main(): Promise<void> {
  const phases = new Map<string, Record<Slots, Tally>>();
  const newTally = (): Tally => ({ calls: 0, runs: 0, errors: 0, wrong: 0, storeErrors: 0, ms: [] });
  let phase = 'warm';
  let phaseTarget: { name: string; calls: number } | undefined;
  const inFlight = new Set<Promise<void>>();
  const tallyOf = (name: string): Record<Slots, Tally> => {
    let tally = phases.get(name);
    if (tally === undefined) phases.set(name, (tally = { healthy: newTally(), failed: newTally() }));
    return tally;
  };
  // Runs and store failures count under the phase they happen in.
  const hooks: Hooks = {
    ran: (arg) => void tallyOf(phase)[argSlots.get(arg) ?? 'healthy'].runs++,
    storeFailed: (arg) => void tallyOf(phase)[argSlots.get(arg) ?? 'healthy'].storeErrors++,
  };

  const cluster = await connect();
  const instance = kind === 'plain' ? plainInstance(cluster, hooks) : cachetInstance(cluster, hooks);
  const args = Array.from({ length: keyCount }, (_, i) => `k${i}`);
  const argSlots = new Map(args.map((arg) => [arg, slotsOf(instance.keyOf(arg))]));
  const failedArgs = args.filter((arg) => argSlots.get(arg) === 'failed');
  if (failedArgs.length === 0 || failedArgs.length === args.length)
    throw new Error('failover-worker: the keys all fall on one side');

  const one = (arg: string): Promise<void> => {
    const tally = tallyOf(phase)[argSlots.get(arg) as Slots];
    const name = phase;
    const started = performance.now();
    const done = instance.call(arg).then(
      (value) => void (value !== expected(arg) && tally.wrong++),
      () => void tally.errors++,
    );
    const counted = done.then(() => {
      tally.calls++;
      tally.ms.push(performance.now() - started);
      inFlight.delete(counted);
      if (phaseTarget?.name === name) {
        const total = tallyOf(name).healthy.calls + tallyOf(name).failed.calls;
        if (total >= phaseTarget.calls) {
          phaseTarget = undefined;
          say({ done: name });
        }
      }
    });
    inFlight.add(counted);
    return counted;
  };

  // Steady open-loop load: every 5 ms, issue the calls that are due since the load started.
  let load: NodeJS.Timeout | undefined;
  const startLoad = (): void => {
    const began = performance.now();
    let issued = 0;
    load = setInterval(() => {
      const due = Math.floor(((performance.now() - began) * rate) / 1000) - issued;
      // After a stall, catch up by at most a tenth of a second's worth at once.
      for (let i = 0; i < Math.min(due, Math.ceil(rate / 10)); i++) {
        issued++;
        void one(args[Math.floor(Math.random() * args.length)] as string);
      }
      if (due > Math.ceil(rate / 10)) issued += due - Math.ceil(rate / 10);
    }, 5);
  };

  const stampedes: FailoverStampede[] = [];
  const commands: Record<string, (words: string[]) => Promise<void>> = {
    phase: async ([name, calls]) => {
      phase = name as string;
      phaseTarget = calls === undefined ? undefined : { name: phase, calls: Number(calls) };
      tallyOf(phase);
      if (load === undefined) startLoad();
      say({ entered: phase });
    },
    follow: async () => {
      const started = performance.now();
      const probeKey = instance.keyOf(failedArgs[0] as string);
      for (;;) {
        const ok = await instance.probe(probeKey).then(
          () => true,
          () => false,
        );
        if (ok) break;
        await sleep(20);
      }
      say({ followed: Math.round(performance.now() - started) });
    },
    pick: async ([side, label]) => {
      for (let n = 0; ; n++) {
        const arg = `${label}-${n}`;
        if (slotsOf(instance.keyOf(arg, true)) === side) return say({ picked: arg });
      }
    },
    fire: async ([arg]) => {
      const before = instance.stampedeRuns(arg as string);
      let errors = 0;
      let wrong = 0;
      let maxMs = 0;
      await Promise.all(
        Array.from({ length: stampedeCalls }, async () => {
          const started = performance.now();
          try {
            if ((await instance.stampede(arg as string)) !== expected(arg as string)) wrong++;
          } catch {
            errors++;
          }
          maxMs = Math.max(maxMs, performance.now() - started);
        }),
      );
      const result = {
        arg: arg as string,
        calls: stampedeCalls,
        runs: instance.stampedeRuns(arg as string) - before,
        errors,
        wrong,
        maxMs: Math.round(maxMs),
      };
      stampedes.push(result);
      say({ stampede: result });
    },
  };

  say({ slots: { healthy: args.length - failedArgs.length, failed: failedArgs.length } });
  process.stdout.write('ready\n');

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [command, ...words] = line.trim().split(/\s+/);
    if (command === 'stop') break;
    const run = commands[command ?? ''];
    if (run === undefined) throw new Error(`failover-worker: unknown command ${line}`);
    // Commands run concurrently with the load and with each other (a stampede during a phase).
    run(words).catch((error: unknown) => {
      process.stderr.write(String((error as Error)?.stack ?? error));
      process.exit(1);
    });
  }

  clearInterval(load);
  await Promise.all(inFlight);
  const storeErrors = instance.storeErrors();
  let closeStarted = performance.now();
  await instance.close();
  const cacheCloseMs = Math.round(performance.now() - closeStarted);
  closeStarted = performance.now();
  let how: 'close' | 'destroy' = 'close';
  const closing = cluster.close().catch(() => {});
  const timedOut = await Promise.race([closing.then(() => false), sleep(3_000).then(() => true)]);
  if (timedOut) {
    how = 'destroy';
    cluster.destroy();
  }
  const closed = { how, ms: Math.round(performance.now() - closeStarted), cacheCloseMs };
  const result: FailoverResult = {
    store: kind,
    pid: process.pid,
    phases: Object.fromEntries(
      [...phases].map(([name, tally]) => [
        name,
        { healthy: summarize(tally.healthy), failed: summarize(tally.failed) },
      ]),
    ),
    storeErrors,
    closed,
  };
  say({ result, stampedes });
  lines.close();
  process.stdin.destroy();
  // Nothing should keep the process alive now; if something does, say so with a code of its own.
  setTimeout(() => {
    process.stderr.write('failover-worker: handles still open 5 s after closing\n');
    process.exit(3);
  }, 5_000).unref();
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisClientLike } from '../../lib/redis/connection';
import { hashSlot } from '../../lib/redis/cluster';
import { connectTestClient } from './redis';
import { freePort, startRedisServer, type TestRedisServer } from './redis-server';

/** A Redis Cluster of three masters (no replicas) on 127.0.0.1, started for tests. */
export interface TestRedisCluster {
  /** One `redis://127.0.0.1:<port>` URL per master, in the order of their slot ranges. */
  readonly urls: readonly string[];
  /** Kills every node (SIGKILL) and removes the temporary directory with their cluster config files. */
  stop(): Promise<void>;
}

const SLOTS = 16384;
const NODES = 3;
const READY_BOUND_MS = 20_000;

type AdminClient = RedisClientLike;

/**
 * Starts three `redis-server --cluster-enabled yes` processes in a temporary directory, gives each a third
 * of the 16384 hash slots (CLUSTER ADDSLOTSRANGE), introduces them (CLUSTER MEET) and waits until every
 * node reports `cluster_state:ok` and knows all three masters' slots, so a client that discovers the
 * topology from any node sees the whole cluster.
 *
 * Each node gets its own cluster bus port (`--cluster-port`): the default, port + 10000, may be taken or
 * out of range for a random free port.
 */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'cachet-cluster-'));
  const servers: TestRedisServer[] = [];
  const busPorts: number[] = [];
  const admins: AdminClient[] = [];
  const stop = async (): Promise<void> => {
    for (const admin of admins.splice(0)) admin.destroy();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < NODES; i++) {
      const busPort = await freePort();
      busPorts.push(busPort);
      servers.push(await startClusterNode(dir, i, busPort, ['--cluster-node-timeout', '5000']));
    }
    for (const server of servers) admins.push(await connectTestClient(server.url));

    // Contiguous thirds: 0-5460, 5461-10922, 10923-16383.
    for (let i = 0; i < NODES; i++) {
      const first = Math.floor((i * SLOTS) / NODES);
      const last = Math.floor(((i + 1) * SLOTS) / NODES) - 1;
      await (admins[i] as AdminClient).sendCommand(['CLUSTER', 'ADDSLOTSRANGE', String(first), String(last)]);
      // Distinct config epochs up front, so the nodes need no collision round before they agree.
      await (admins[i] as AdminClient).sendCommand(['CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)]);
    }
    for (let i = 1; i < NODES; i++) {
      const server = servers[i] as TestRedisServer;
      // With a bus port of its own, MEET must name it (it would assume port + 10000).
      await (admins[0] as AdminClient).sendCommand([
        'CLUSTER',
        'MEET',
        '127.0.0.1',
        String(server.port),
        String(busPorts[i]),
      ]);
    }

    await waitUntil(async () => {
      for (const admin of admins) {
        const info = await admin.sendCommand<string>(['CLUSTER', 'INFO']);
        if (!/^cluster_state:ok\r?$/m.test(info)) return false;
        if (!new RegExp(`^cluster_known_nodes:${NODES}\\r?$`, 'm').test(info)) return false;
        const slots = await admin.sendCommand<unknown[]>(['CLUSTER', 'SLOTS']);
        if (slots.length !== NODES) return false;
      }
      return true;
    }, READY_BOUND_MS);

    for (const admin of admins.splice(0)) admin.destroy();
    return { urls: servers.map((server) => server.url), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Which master serves a slot, as an index into `urls`, from the cluster's own `CLUSTER SLOTS` (asked
 * through `node`, a client of any master).
 */
export async function slotOwners(node: RedisClientLike, urls: readonly string[]): Promise<(slot: number) => number> {
  const ranges = await node.sendCommand<[number, number, [string, number]][]>(['CLUSTER', 'SLOTS']);
  const ports = urls.map((url) => Number(new URL(url).port));
  return (slot) => {
    const range = ranges.find(([first, last]) => slot >= first && slot <= last);
    if (range === undefined) throw new Error(`No master serves slot ${slot}`);
    return ports.indexOf(Number(range[2][1]));
  };
}

async function waitUntil(check: () => Promise<boolean>, boundMs: number): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`The test Redis Cluster did not reach cluster_state:ok within ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One node of a {@link TestReplicatedCluster}. */
export interface TestClusterNode {
  readonly port: number;
  readonly url: string;
  /** The node's cluster id (`CLUSTER MYID`); it keeps it across a restart (its nodes.conf). */
  readonly id: string;
}

/**
 * A Redis Cluster of three masters with one replica each (six `redis-server` processes) on 127.0.0.1,
 * started for failover tests: a master can be killed, its replica's promotion awaited, and the killed
 * node restarted to rejoin as a replica.
 */
export interface TestReplicatedCluster {
  /** One `redis://` URL per original master, in the order of their slot ranges (as {@link TestRedisCluster}). */
  readonly urls: readonly string[];
  /** Every node: `nodes[i]` is master `i`'s original master, `nodes[i + 3]` its replica. */
  readonly nodes: readonly TestClusterNode[];
  /** The slot range `[first, last]` of master `i` (it moves to the replica with a failover). */
  slotRange(i: number): readonly [number, number];
  /** The index `i` of the slot range (and so of the original master) that holds `slot`. */
  rangeOf(slot: number): number;
  /** Whether `key`'s hash slot is in master `i`'s range. */
  serves(i: number, key: string): boolean;
  /** Kills original master `i` with SIGKILL (a crash: no failover handshake) and waits for the process to exit. */
  killMaster(i: number): Promise<void>;
  /**
   * Waits until master `i`'s replica serves its slot range on every surviving node's view (`CLUSTER
   * SLOTS`) and every surviving node reports `cluster_state:ok`. Resolves with the milliseconds waited.
   * @throws Error naming what was last seen when it does not happen within `boundMs`.
   */
  waitForPromotion(i: number, boundMs?: number): Promise<number>;
  /**
   * Starts the killed node `i` again on the same ports with its nodes.conf (and no data), and waits until
   * it has rejoined as a replica of the promoted node with its replication link up and every node reports
   * `cluster_state:ok`. Resolves with the milliseconds that took.
   */
  restart(i: number, boundMs?: number): Promise<number>;
  /** Kills every node (SIGKILL) and removes the temporary directory. */
  stop(): Promise<void>;
}

const MASTERS = 3;
/** Failure detection and promotion scale with it: with 1000 ms a replica takes over in about 2 s. */
const REPLICATED_NODE_TIMEOUT_MS = 1000;
const FAILOVER_BOUND_MS = 15_000;

/**
 * Starts a three-master cluster with one replica per master: six `redis-server --cluster-enabled yes`
 * processes with `--cluster-node-timeout 1000` (a replica takes over about 2 s after its master dies).
 * Slots as {@link startRedisCluster} assigns them; each replica is attached with `CLUSTER REPLICATE`.
 * Resolves once every node reports `cluster_state:ok`, knows six nodes, every replica's link to its
 * master is up, and `CLUSTER SLOTS` on every node shows each range with its master and replica.
 *
 * `cluster-require-full-coverage no`: while the dead master's slots are not yet taken over, the other
 * masters keep serving theirs (with the default `yes` the whole cluster refuses every key for that
 * second or two, which would hide what a client does with the healthy slots).
 */
export async function startReplicatedRedisCluster(): Promise<TestReplicatedCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'cachet-failover-'));
  const servers: TestRedisServer[] = [];
  const busPorts: number[] = [];
  const admins = new Map<number, AdminClient>();
  const ids: string[] = [];
  const killed = new Set<number>();
  const ranges = Array.from({ length: MASTERS }, (_, i) => {
    const first = Math.floor((i * SLOTS) / MASTERS);
    const last = Math.floor(((i + 1) * SLOTS) / MASTERS) - 1;
    return [first, last] as const;
  });
  const dropAdmin = (index: number): void => {
    admins.get(index)?.destroy();
    admins.delete(index);
  };
  const admin = async (index: number): Promise<AdminClient> => {
    let client = admins.get(index);
    if (client === undefined) {
      client = await connectTestClient((servers[index] as TestRedisServer).url);
      admins.set(index, client);
    }
    return client;
  };
  /** A command on a node, bounded: a node that hangs must not hang the wait. */
  const ask = async <T>(index: number, args: string[]): Promise<T> => {
    const client = await admin(index);
    return client.sendCommand<T>(args, { timeout: 1_000 });
  };
  const alive = (): number[] => servers.map((_, index) => index).filter((index) => !killed.has(index));
  const stop = async (): Promise<void> => {
    for (const index of [...admins.keys()]) dropAdmin(index);
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < 2 * MASTERS; i++) {
      const busPort = await freePort();
      busPorts.push(busPort);
      servers.push(
        await startClusterNode(dir, i, busPort, [
          '--cluster-node-timeout',
          String(REPLICATED_NODE_TIMEOUT_MS),
          '--cluster-require-full-coverage',
          'no',
          // A replica's full sync starts at once instead of after the default 5 s wait for more replicas.
          '--repl-diskless-sync-delay',
          '0',
        ]),
      );
    }
    for (let i = 0; i < 2 * MASTERS; i++) ids.push(await ask<string>(i, ['CLUSTER', 'MYID']));
    for (let i = 0; i < MASTERS; i++) {
      const [first, last] = ranges[i] as readonly [number, number];
      await ask(i, ['CLUSTER', 'ADDSLOTSRANGE', String(first), String(last)]);
    }
    for (let i = 0; i < 2 * MASTERS; i++) await ask(i, ['CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)]);
    for (let i = 1; i < 2 * MASTERS; i++) {
      const server = servers[i] as TestRedisServer;
      await ask(0, ['CLUSTER', 'MEET', '127.0.0.1', String(server.port), String(busPorts[i])]);
    }
    // A replica can only follow a master it knows.
    await waitFor(
      async () => {
        for (let i = 0; i < 2 * MASTERS; i++) {
          const info = await ask<string>(i, ['CLUSTER', 'INFO']);
          if (!new RegExp(`^cluster_known_nodes:${2 * MASTERS}\\r?$`, 'm').test(info)) return 'nodes still meeting';
        }
        return undefined;
      },
      READY_BOUND_MS,
      'the six nodes did not meet',
    );
    for (let i = 0; i < MASTERS; i++) await ask(i + MASTERS, ['CLUSTER', 'REPLICATE', ids[i] as string]);
    await waitFor(
      async () => {
        for (let i = 0; i < 2 * MASTERS; i++) {
          const problem = await nodeProblem(i);
          if (problem !== undefined) return problem;
        }
        return undefined;
      },
      READY_BOUND_MS,
      'the replicated test cluster did not come up',
    );
    for (const index of [...admins.keys()]) dropAdmin(index);
  } catch (error) {
    await stop();
    throw error;
  }

  /** Why node `index` is not yet in the steady state (replicas in sync, all ranges covered twice), or undefined. */
  async function nodeProblem(index: number): Promise<string | undefined> {
    const info = await ask<string>(index, ['CLUSTER', 'INFO']);
    if (!/^cluster_state:ok\r?$/m.test(info)) return `node ${index}: cluster_state not ok`;
    const replication = await ask<string>(index, ['INFO', 'replication']);
    if (/^role:slave\r?$/m.test(replication) && !/^master_link_status:up\r?$/m.test(replication))
      return `node ${index}: replication link not up`;
    const slots = await ask<unknown[]>(index, ['CLUSTER', 'SLOTS']);
    if (slots.length !== MASTERS) return `node ${index}: CLUSTER SLOTS has ${slots.length} ranges`;
    // CLUSTER SLOTS lists a replica only once gossip has carried its replication offset (seconds later);
    // CLUSTER NODES already shows who follows whom.
    const nodes = await ask<string>(index, ['CLUSTER', 'NODES']);
    const replicas = nodes.split('\n').filter((line) => / (myself,)?slave /.test(line) && / connected/.test(line));
    if (replicas.length !== MASTERS) return `node ${index}: sees ${replicas.length} connected replicas`;
    return undefined;
  }

  const portOf = (index: number): number => (servers[index] as TestRedisServer).port;
  const replicaOf = (i: number): number => (i < MASTERS ? i + MASTERS : i - MASTERS);

  return {
    urls: servers.slice(0, MASTERS).map((server) => server.url),
    nodes: servers.map((server, index) => ({ port: server.port, url: server.url, id: ids[index] as string })),
    slotRange: (i) => ranges[i] as readonly [number, number],
    rangeOf: (slot) => ranges.findIndex(([first, last]) => slot >= first && slot <= last),
    serves: (i, key) => {
      const [first, last] = ranges[i] as readonly [number, number];
      const slot = hashSlot(key);
      return slot >= first && slot <= last;
    },
    killMaster: async (i) => {
      dropAdmin(i);
      killed.add(i);
      await (servers[i] as TestRedisServer).stop();
    },
    waitForPromotion: async (i, boundMs = FAILOVER_BOUND_MS) => {
      const started = Date.now();
      const [first] = ranges[i] as readonly [number, number];
      const promoted = portOf(replicaOf(i));
      await waitFor(
        async () => {
          for (const index of alive()) {
            const info = await ask<string>(index, ['CLUSTER', 'INFO']);
            if (!/^cluster_state:ok\r?$/m.test(info)) return `node ${index}: cluster_state not ok`;
            const slots = await ask<[number, number, [string, number]][]>(index, ['CLUSTER', 'SLOTS']);
            const range = slots.find(([from]) => from === first);
            const port = range === undefined ? undefined : Number(range[2][1]);
            if (port !== promoted) return `node ${index}: slot ${first} is served by port ${port}, not ${promoted}`;
          }
          return undefined;
        },
        boundMs,
        `the replica (port ${promoted}) of master ${i} did not take over its slots`,
      );
      return Date.now() - started;
    },
    restart: async (i, boundMs = FAILOVER_BOUND_MS) => {
      const started = Date.now();
      await (servers[i] as TestRedisServer).start();
      killed.delete(i);
      const master = ids[replicaOf(i)] as string;
      await waitFor(
        async () => {
          const replication = await ask<string>(i, ['INFO', 'replication']);
          if (!/^role:slave\r?$/m.test(replication)) return `node ${i} is not a replica yet`;
          const nodes = await ask<string>(i, ['CLUSTER', 'NODES']);
          const me = nodes.split('\n').find((line) => line.includes('myself'));
          if (me?.split(' ')[3] !== master) return `node ${i} does not follow ${master}: ${me}`;
          for (const index of alive()) {
            const problem = await nodeProblem(index);
            if (problem !== undefined) return problem;
          }
          return undefined;
        },
        boundMs,
        `the restarted node ${i} did not rejoin as a replica`,
      );
      return Date.now() - started;
    },
    stop,
  };
}

/**
 * Polls `check` (which says what is still missing, or undefined when done) every 50 ms; a check that
 * throws (a node not answering yet) counts as not done. Fails after `boundMs` with `what` and the last
 * thing the check reported.
 */
async function waitFor(check: () => Promise<string | undefined>, boundMs: number, what: string): Promise<void> {
  const deadline = Date.now() + boundMs;
  let last = 'not checked';
  for (;;) {
    try {
      const missing = await check();
      if (missing === undefined) return;
      last = missing;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what} within ${boundMs} ms (last seen: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One `redis-server --cluster-enabled yes` node `i`, its config file and data in `dir`, its bus on `busPort`. */
function startClusterNode(dir: string, i: number, busPort: number, extra: readonly string[]): Promise<TestRedisServer> {
  return startRedisServer([
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(dir, `nodes-${i}.conf`),
    '--cluster-port',
    String(busPort),
    ...extra,
    '--dir',
    dir,
  ]);
}

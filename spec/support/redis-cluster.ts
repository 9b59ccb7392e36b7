import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisClientLike } from '../../lib/redis/connection';
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
      servers.push(
        await startRedisServer([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${i}.conf`),
          '--cluster-port',
          String(busPort),
          '--cluster-node-timeout',
          '5000',
          '--dir',
          dir,
        ]),
      );
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

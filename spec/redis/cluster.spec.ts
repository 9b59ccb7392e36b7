import { createHash } from 'node:crypto';
import { createCluster } from 'redis';
import { Cache } from '../../lib/cache/cache';
import { Cached } from '../../lib/cache/cached';
import { OfflineEmbedder } from '../../lib/semantic/offline-embedder';
import {
  ClusterClientAdapter,
  crc16,
  groupBySlot,
  hashSlot,
  isClusterClient,
  type RedisClusterLike,
} from '../../lib/redis/cluster';
import type { RedisClientLike } from '../../lib/redis/connection';
import { leaseKeyOf } from '../../lib/redis/fill-coordinator';
import { RedisStore } from '../../lib/redis/redis-store';
import { TieredStore } from '../../lib/redis/tiered-store';
import { deferred, eventually } from '../support/async';
import { connectTestClient, uniquePrefix } from '../support/redis';
import { connectCluster } from '../support/redis-target';
import { slotOwners, startRedisCluster, type TestRedisCluster } from '../support/redis-cluster';
import { describeCacheStore, manualClock } from '../ports/cache-store-contract';

const TTL = 60_000;
/**
 * Longer than the store's default (250ms): the full suite runs many workers at once, and an operation that
 * times out makes the cache bypass Redis (a second method call, a missing entry), which these tests would
 * report as a coordination bug.
 */
const operationTimeout = '2s';

// Slots as `redis-cli CLUSTER KEYSLOT` reports them (Redis 7.0); the cluster block below checks the
// same keys against its nodes too.
const KNOWN_SLOTS: [string, number][] = [
  ['foo', 12182],
  ['bar', 5061],
  ['hello', 866],
  ['123456789', 12739],
  ['', 0],
  ['{user1000}.following', 3443],
  ['{user1000}.followers', 3443],
  ['foo{bar}{zap}', 5061], // only the first tag counts
  ['foo{}{bar}', 8363], // an empty tag means no tag: the whole key is hashed
  ['a{}b', 13694],
  ['{}x', 10595],
  ['x{y', 2740], // no closing brace: no tag
  ['foo{{bar}}zap', 4015], // the tag is `{bar` (first `{` to first `}`)
  ['x{y}z{w}', 12222],
  ['ключ', 10303], // hashed as UTF-8 bytes
  ['🔑', 3314],
];

describe('hashSlot', () => {
  it.each(KNOWN_SLOTS)('puts %j in slot %i', (key, slot) => {
    expect(hashSlot(key)).toBe(slot);
  });

  it('computes CRC-16/XMODEM (check value 0x31C3 for "123456789")', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
  });

  it('groups key positions by slot, in order of first appearance', () => {
    expect(groupBySlot(['{a}1', 'foo', '{a}2', 'bar', '{a}3', 'foo'])).toEqual([[0, 2, 4], [1, 5], [3]]);
  });
});

describe('isClusterClient', () => {
  it('tells a node-redis cluster from a single-node client by shape', async () => {
    const single = await connectTestClient();
    try {
      expect(isClusterClient(single)).toBe(false);
      // Not connected: createCluster only builds the object.
      const cluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] });
      expect(isClusterClient(cluster)).toBe(true);
      expect(isClusterClient(undefined)).toBe(false);
      expect(isClusterClient({ masters: [] })).toBe(false);
    } finally {
      single.destroy();
    }
  });
});

/** Per-command call counts of one node, from INFO commandstats. */
async function commandCalls(node: RedisClientLike): Promise<Record<string, number>> {
  const info = await node.sendCommand<string>(['INFO', 'commandstats']);
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) calls[match[1] as string] = Number(match[2]);
  return calls;
}

/** Calls of `command` summed over `nodes`. */
async function totalCalls(nodes: readonly RedisClientLike[], command: string): Promise<number> {
  const all = await Promise.all(nodes.map(commandCalls));
  return all.reduce((sum, calls) => sum + (calls[command] ?? 0), 0);
}

/**
 * Records what the adapter hands to the real cluster client (node-redis routes by `firstKey`), while the
 * commands still go to the cluster. Call `restore()` when done.
 */
function recordRouting(cluster: RedisClusterLike): { sent: [string | undefined, string[]][]; restore(): void } {
  const sent: [string | undefined, string[]][] = [];
  const original = cluster.sendCommand.bind(cluster);
  const spy = jest.spyOn(cluster, 'sendCommand').mockImplementation((firstKey, isReadonly, args, options) => {
    sent.push([firstKey, [...args]]);
    return original(firstKey, isReadonly, args, options);
  });
  return { sent, restore: () => spy.mockRestore() };
}

describe('RedisStore on a three-master Redis Cluster', () => {
  let cluster: TestRedisCluster;
  /** One plain client per master, for assertions. */
  let nodes: RedisClientLike[];
  /** The cluster client the stores of this block share. */
  let client: RedisClusterLike;
  /** Index in `nodes` of the master that serves a slot. */
  let ownerOfSlot: (slot: number) => number;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    nodes = await Promise.all(cluster.urls.map((url) => connectTestClient(url)));
    client = await connectCluster(cluster.urls);
    ownerOfSlot = await slotOwners(nodes[0] as RedisClientLike, cluster.urls);
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    for (const node of nodes ?? []) node.destroy();
    await cluster?.stop();
  });

  it('hashes keys as the cluster does (CLUSTER KEYSLOT)', async () => {
    const keys = [...KNOWN_SLOTS.map(([key]) => key), 'cachet:default:ask:1f2e', 'a{b}c{d}', '{{}}', '}{x}'];
    for (const key of keys) {
      expect(hashSlot(key)).toBe(await (nodes[0] as RedisClientLike).sendCommand<number>(['CLUSTER', 'KEYSLOT', key]));
    }
  });

  describeCacheStore('RedisStore over a cluster client', async () => {
    const clock = manualClock();
    const store = new RedisStore({ client, clock, operationTimeout });
    return { store, clock, cleanup: () => store.close() };
  });

  describe('batched reads', () => {
    let store: RedisStore;
    let prefix: string;

    beforeEach(() => {
      store = new RedisStore({ client, operationTimeout });
      prefix = uniquePrefix('cluster-batch');
    });

    afterEach(async () => {
      await store.close();
    });

    it('reads 300 keys spread over all three masters in one batch, one MGET per slot, without CROSSSLOT', async () => {
      const keys = Array.from({ length: 300 }, (_, i) => `${prefix}:k${i}`);
      const perMaster = [0, 0, 0];
      for (const key of keys) {
        const owner = ownerOfSlot(hashSlot(key));
        perMaster[owner] = (perMaster[owner] ?? 0) + 1;
      }
      expect(perMaster.every((count) => count > 0)).toBe(true);
      // Every tenth key is left out, so misses come back in their places too.
      await Promise.all(keys.map((key, i) => (i % 10 === 3 ? undefined : store.set(key, { i }, TTL))));

      // The same keys in one MGET on one node are refused: this is what the store must avoid.
      await expect((nodes[0] as RedisClientLike).sendCommand(['MGET', ...keys])).rejects.toThrow(/CROSSSLOT|MOVED/);

      const mgetBefore = await totalCalls(nodes, 'mget');
      const getBefore = await totalCalls(nodes, 'get');
      const routing = recordRouting(client);
      const entries = await Promise.all(keys.map((key) => store.get(key))).finally(() => routing.restore());
      const mgets = (await totalCalls(nodes, 'mget')) - mgetBefore;
      const gets = (await totalCalls(nodes, 'get')) - getBefore;

      // cachet splits the batch itself (it does not rely on the driver to): each MGET it sends names keys
      // of one slot, and is routed by the first of them.
      const sentMgets = routing.sent.filter(([, args]) => args[0] === 'MGET');
      expect(sentMgets).toHaveLength(groupBySlot(keys.slice(1)).length);
      for (const [firstKey, [, ...batch]] of sentMgets) {
        expect(firstKey).toBe(batch[0]);
        expect(new Set(batch.map(hashSlot)).size).toBe(1);
      }

      expect(entries.map((entry) => entry?.value)).toEqual(keys.map((_, i) => (i % 10 === 3 ? undefined : { i })));
      // The first read goes alone as a GET; the other 299 form one batch, sent as one MGET per slot.
      expect(gets).toBe(1);
      expect(mgets).toBe(groupBySlot(keys.slice(1)).length);
    });

    it('keeps keys that share a hash tag in one MGET', async () => {
      const tagged = Array.from({ length: 20 }, (_, i) => `{${prefix}}:k${i}`);
      await Promise.all(tagged.map((key, i) => store.set(key, i, TTL)));
      const before = await totalCalls(nodes, 'mget');
      const entries = await Promise.all(tagged.map((key) => store.get(key)));
      expect(entries.map((entry) => entry?.value)).toEqual(tagged.map((_, i) => i));
      expect((await totalCalls(nodes, 'mget')) - before).toBe(1);
    });
  });

  describe('ClusterClientAdapter', () => {
    let adapter: ClusterClientAdapter;
    let prefix: string;

    beforeEach(() => {
      adapter = new ClusterClientAdapter(client);
      prefix = uniquePrefix('cluster-adapter');
    });

    it('answers MGET over many slots in key order, and sums UNLINK and EXISTS over slots', async () => {
      // Two keys share a hash tag (one slot); the others land wherever their names hash.
      const keys = [`${prefix}:a`, `${prefix}:b`, `{${prefix}}1`, `${prefix}:c`, `{${prefix}}2`, `${prefix}:d`];
      expect(groupBySlot(keys).length).toBeGreaterThan(1);
      await Promise.all(keys.map((key, i) => (i === 3 ? undefined : adapter.sendCommand(['SET', key, `v${i}`]))));
      expect(await adapter.sendCommand(['MGET', ...keys])).toEqual(['v0', 'v1', 'v2', null, 'v4', 'v5']);
      expect(await adapter.sendCommand(['EXISTS', ...keys])).toBe(5);
      expect(await adapter.sendCommand(['UNLINK', ...keys])).toBe(5);
      expect(await adapter.sendCommand(['MGET', ...keys])).toEqual([null, null, null, null, null, null]);
    });

    it('routes a script by its first key, and falls back to EVAL on the node that lost its scripts (NOSCRIPT)', async () => {
      const key = `${prefix}:script`;
      const owner = nodes[ownerOfSlot(hashSlot(key))] as RedisClientLike;
      const script = "return redis.call('SET', KEYS[1], ARGV[1])";
      const sha = createHash('sha1').update(script).digest('hex');
      const routing = recordRouting(client);
      try {
        await expect(adapter.sendCommand(['EVALSHA', sha, '1', key, 'x'])).rejects.toThrow(/^NOSCRIPT/);
        await expect(adapter.sendCommand(['EVAL', script, '1', key, 'x'])).resolves.toBe('OK');
        await expect(adapter.sendCommand(['EVALSHA', sha, '1', key, 'y'])).resolves.toBe('OK');
      } finally {
        routing.restore();
      }
      expect(routing.sent.map(([firstKey, args]) => [firstKey, args[0]])).toEqual([
        [key, 'EVALSHA'],
        [key, 'EVAL'],
        [key, 'EVALSHA'],
      ]);
      expect(await owner.sendCommand(['GET', key])).toBe('y');
      await adapter.sendCommand(['UNLINK', key]);
    });
  });

  describe('fill lease between instances', () => {
    let prefix: string;
    let clients: RedisClusterLike[] = [];
    let caches: Cache[] = [];

    /** One service instance: its own cluster client, store and cache; they share only the cluster. */
    const instance = async (): Promise<{ cache: Cache; store: RedisStore }> => {
      const own = await connectCluster(cluster.urls);
      clients.push(own);
      const store = new RedisStore({ client: own, operationTimeout });
      const cache = new Cache({ store, prefix });
      caches.push(cache);
      return { cache, store };
    };

    beforeEach(() => {
      prefix = uniquePrefix('cluster-lease');
    });

    afterEach(async () => {
      await Promise.all(caches.map((cache) => cache.close()));
      await Promise.all(clients.map((own) => own.close()));
      caches = [];
      clients = [];
    });

    it('lets the second instance wait for the first one’s value instead of calling the method', async () => {
      const a = await instance();
      const b = await instance();
      let calls = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let bWaits!: () => void;
      const bWaiting = new Promise<void>((resolve) => (bWaits = resolve));
      const waitForFill = b.store.coordinator.waitForFill.bind(b.store.coordinator);
      jest.spyOn(b.store.coordinator, 'waitForFill').mockImplementation((...args) => {
        bWaits();
        return waitForFill(...args);
      });
      const method = async (q: string) => {
        calls++;
        await gate;
        return `answer ${q}`;
      };
      const first = a.cache.wrap(method, { name: 'ask' })('q');
      // `a` holds the lease only once its method runs; then `b` finds it taken and waits.
      while (calls === 0) await new Promise((resolve) => setImmediate(resolve));
      const second = b.cache.wrap(method, { name: 'ask' })('q');
      await bWaiting;
      release();
      await expect(Promise.all([first, second])).resolves.toEqual(['answer q', 'answer q']);
      expect(calls).toBe(1);
      expect(b.cache.stats().total.coalesced).toBe(1);
    });

    it('runs each method once across both instances when 40 keys are filled concurrently from both', async () => {
      const a = await instance();
      const b = await instance();
      const calls = new Map<number, number>();
      const gate = deferred<void>();
      const method = async (n: number) => {
        calls.set(n, (calls.get(n) ?? 0) + 1);
        await gate.promise;
        return n * 2;
      };
      let waits = 0;
      for (const { store } of [a, b]) {
        const waitForFill = store.coordinator.waitForFill.bind(store.coordinator);
        jest.spyOn(store.coordinator, 'waitForFill').mockImplementation((...args) => (waits++, waitForFill(...args)));
      }
      const fa = a.cache.wrap(method, { name: 'double' });
      const fb = b.cache.wrap(method, { name: 'double' });
      const ns = Array.from({ length: 40 }, (_, i) => i);
      const all = Promise.all(ns.flatMap((n) => [fa(n), fb(n), fa(n), fb(n)]));
      // Every method runs in the instance that took its lease, and the other instance waits for each key.
      await eventually(() => calls.size === 40 && waits === 40, 10_000, 5);
      gate.resolve();
      const results = await all;
      expect(results).toEqual(ns.flatMap((n) => [n * 2, n * 2, n * 2, n * 2]));
      expect([...calls.values()].every((count) => count === 1)).toBe(true);
      expect(calls.size).toBe(40);
    });

    it('releases its lease after SCRIPT FLUSH (EVAL on the lease’s node), and the notice reaches subscribers on every master', async () => {
      const { store } = await instance();
      const key = `${prefix}:flushed`;
      const owner = nodes[ownerOfSlot(hashSlot(leaseKeyOf(key)))] as RedisClientLike;
      await Promise.all(nodes.map((node) => node.sendCommand(['SCRIPT', 'FLUSH'])));

      // One subscriber per master: a PUBLISH on the lease's node must reach all of them.
      const listeners = await Promise.all(
        cluster.urls.map(async (url) => {
          const subscriber = await connectTestClient(url);
          let hear!: (message: string) => void;
          const heard = new Promise<string>((resolve) => (hear = resolve));
          await subscriber.subscribe('cachet:fills', (message) => {
            if (message === key) hear(message);
          });
          return { subscriber, heard };
        }),
      );
      try {
        const evalsBefore = (await commandCalls(owner)).eval ?? 0;
        const lease = await store.coordinator.acquire(key, 10_000);
        expect(lease).toBeDefined();
        expect(await owner.sendCommand(['EXISTS', leaseKeyOf(key)])).toBe(1);
        await lease!.release();
        expect(await owner.sendCommand(['EXISTS', leaseKeyOf(key)])).toBe(0);
        expect(((await commandCalls(owner)).eval ?? 0) - evalsBefore).toBe(1);
        await expect(Promise.all(listeners.map(({ heard }) => heard))).resolves.toEqual([key, key, key]);
      } finally {
        for (const { subscriber } of listeners) subscriber.destroy();
      }
    });

    it('gives a waiting instance the holder’s value once the holder stores it and releases', async () => {
      const a = await instance();
      const b = await instance();
      const key = `${prefix}:woken`;
      const lease = await a.store.coordinator.acquire(key, 10_000);
      expect(lease).toBeDefined();
      const waited = b.store.coordinator.waitForFill(key, 20_000);
      await a.store.set(key, 'filled by a', TTL);
      await lease!.release();
      const outcome = await waited;
      expect(outcome.status).toBe('filled');
      expect(outcome.status === 'filled' && outcome.entry.value).toBe('filled by a');
    });
  });
  describe('cache lifecycle on the cluster', () => {
    it('invalidates tags whose entries sit on different masters, across two instances', async () => {
      const prefix = uniquePrefix('ctag');
      const caches = [0, 1].map(() => new Cache({ store: new RedisStore({ client, operationTimeout }), prefix }));
      try {
        const [a, b] = caches as [Cache, Cache];
        const keys = Array.from({ length: 60 }, (_, i) => `${prefix}:default:k${i}`);
        expect(new Set(keys.map((key) => ownerOfSlot(hashSlot(key)))).size).toBe(3);
        for (const key of keys) {
          await a.store.set(key, key, TTL);
          await a.store.tags!.tag(key, [`${prefix}:tag:group`], TTL);
        }
        expect(await b.invalidateTags(['group'])).toBe(60);
        for (const key of keys) expect(await a.store.get(key)).toBeUndefined();
      } finally {
        await Promise.all(caches.map((c) => c.close()));
      }
    });

    it('shares semantic questions between instances, and drops them with their entries', async () => {
      const prefix = uniquePrefix('csem');
      const caches = [0, 1].map(() => new Cache({ store: new RedisStore({ client, operationTimeout }), prefix }));
      const calls: string[] = [];
      const services = caches.map((cache) => {
        class Support {
          @Cached({ cache, semantic: { embed: new OfflineEmbedder(), threshold: 0.7 } })
          async ask(question: string): Promise<string> {
            calls.push(question);
            return `answer: ${question}`;
          }
        }
        return new Support();
      });
      try {
        const [a, b] = services as [{ ask(q: string): Promise<string> }, { ask(q: string): Promise<string> }];
        await a.ask('How do I reset my password?');
        // b has not read this partition yet: it reads it from the cluster.
        await expect(b.ask('How can I reset my password?')).resolves.toBe('answer: How do I reset my password?');
        expect(calls).toEqual(['How do I reset my password?']);
        await caches[0]!.invalidate(a, 'ask', 'How do I reset my password?');
        await expect(b.ask('How can I reset my password?')).resolves.toBe('answer: How can I reset my password?');
        expect(calls).toHaveLength(2);
      } finally {
        await Promise.all(caches.map((c) => c.close()));
      }
    });

    it('keeps memory tiers coherent: a write through one instance drops the other’s copy', async () => {
      const prefix = uniquePrefix('ctier');
      const stores = [0, 1].map(
        () => new TieredStore({ redis: new RedisStore({ client, operationTimeout }), channel: `${prefix}:tier` }),
      );
      try {
        await eventually(() => stores.every((s) => s.coherent));
        const [a, b] = stores as [TieredStore, TieredStore];
        const keys = Array.from({ length: 12 }, (_, i) => `${prefix}:k${i}`);
        expect(new Set(keys.map((key) => ownerOfSlot(hashSlot(key)))).size).toBe(3);
        for (const key of keys) await a.set(key, 'old', TTL);
        for (const key of keys) {
          await eventually(async () => {
            await b.get(key);
            return b.memory.get(key) !== undefined;
          });
        }
        for (const key of keys) await a.set(key, 'new', TTL);
        await eventually(() => keys.every((key) => b.memory.get(key) === undefined));
        for (const key of keys) expect((await b.get(key))?.value).toBe('new');
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('clears a namespace on every master, and only that namespace', async () => {
      const prefix = uniquePrefix('cclear');
      const cache = new Cache({ store: new RedisStore({ client, operationTimeout }), prefix });
      try {
        const doomed = Array.from({ length: 300 }, (_, i) => `${prefix}:gone:k${i}`);
        await Promise.all(doomed.map((key) => cache.store.set(key, 1, TTL)));
        await cache.store.set(`${prefix}:kept:k`, 1, TTL);
        expect(new Set(doomed.map((key) => ownerOfSlot(hashSlot(key)))).size).toBe(3);
        expect(await cache.clear({ namespace: 'gone' })).toBe(300);
        const left = await Promise.all(
          nodes.map((node) =>
            node.sendCommand<[string, string[]]>(['SCAN', '0', 'MATCH', `${prefix}:*`, 'COUNT', '1000']),
          ),
        );
        expect(left.flatMap(([, keys]) => keys)).toEqual([`${prefix}:kept:k`]);
      } finally {
        await cache.close();
      }
    });
  });
});

import { Cache } from '../../lib';
import { StoreError } from '../../lib/core/errors';
import { KeyBuilder } from '../../lib/keys/key-builder';
import type { FillLease } from '../../lib/ports/cache-store';
import type { RedisClientLike } from '../../lib/redis/connection';
import { abandonedChannelOf, leaseKeyOf, RedisFillCoordinator } from '../../lib/redis/fill-coordinator';
import { RedisStore } from '../../lib/redis/redis-store';
import { manualClock } from '../ports/cache-store-contract';
import { eventually } from '../support/async';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';
import { startRedisServer } from '../support/redis-server';

// A holder whose lease's node fails cannot give the lease back; it must say so, and waiters must stop
// waiting at once instead of sitting out `lock.wait` or the lease's lifetime. Redis is real throughout;
// the holder's failures are injected at the coordinator's own seam (its port), so that the waiter, on
// the same healthy Redis, can hear the announcement.
describe('an abandoned fill lease', () => {
  let admin: RedisClientLike;
  let prefix: string;
  let channel: string;
  let stores: RedisStore[];

  beforeAll(async () => {
    admin = await connectTestClient();
  });
  beforeEach(() => {
    prefix = uniquePrefix('abandon');
    channel = `${prefix}-fills`;
    stores = [];
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await deleteKeys(admin, prefix);
  });
  afterAll(() => admin.destroy());

  const store = (): RedisStore => {
    const opened = new RedisStore({ url: testRedisUrl(), channel });
    stores.push(opened);
    return opened;
  };

  /**
   * A holder on a real store whose lease commands fail while `failing` says so (its node is down for
   * them), and whose background errors are collected.
   */
  const failingHolder = (failing: { release: boolean; renew: boolean }) => {
    const base = store();
    const errors: unknown[] = [];
    const refuse = (operation: string) =>
      Promise.reject(new StoreError(operation, undefined, `Redis \`${operation}\` failed: node down`));
    const coordinator = new RedisFillCoordinator({
      client: base.client,
      channel,
      notices: base.notices,
      guard: (_operation, _key, run) => (failing.renew && lastScript === 'renew' ? refuse('lease') : run()),
      always: (operation, _key, run) => (failing.release && operation === 'lease' ? refuse('lease') : run()),
      skips: () => false,
      read: (key) => base.get(key),
      onBackgroundError: (error) => errors.push(error),
    });
    // The guard sees renewals only after the lease was taken.
    let lastScript = 'acquire';
    const acquire = async (key: string, leaseMs: number): Promise<FillLease> => {
      // The port sends on the store's client directly, so it must be connected first.
      await eventually(() => base.client.isReady);
      const lease = await coordinator.acquire(key, leaseMs);
      lastScript = 'renew';
      if (lease === undefined) throw new Error('the lease was taken');
      return lease;
    };
    stores.push({ close: async () => coordinator.close() } as unknown as RedisStore);
    return { acquire, errors };
  };

  /** Resolves once `count` connections listen on the abandonment channel (the waiters' subscriptions are live). */
  const listening = (count: number) =>
    eventually(async () => {
      const reply = await admin.sendCommand<[string, number]>(['PUBSUB', 'NUMSUB', abandonedChannelOf(channel)]);
      return Number(reply[1]) >= count;
    });

  it('is announced when the holder cannot give it back, and waiters in other instances stop waiting at once', async () => {
    const failing = { release: true, renew: false };
    const holder = failingHolder(failing);
    const waiter = store();
    const key = `${prefix}:answer`;
    const lease = await holder.acquire(key, 30_000);

    const waiting = waiter.coordinator.waitForFill(key, 30_000);
    await listening(1);
    await expect(lease.release()).rejects.toBeInstanceOf(StoreError);

    await expect(waiting).resolves.toEqual({ status: 'abandoned' });
    // Not because the lease ran out: it is still in Redis.
    expect(await admin.sendCommand(['EXISTS', leaseKeyOf(key)])).toBe(1);
    // A waiter that comes later, while the lease is still held, does not wait either.
    await expect(waiter.coordinator.waitForFill(key, 30_000)).resolves.toEqual({ status: 'abandoned' });

    // Once the node answers again, the holder gives the lease back by itself; later waiters wait again.
    failing.release = false;
    await eventually(async () => (await admin.sendCommand(['EXISTS', leaseKeyOf(key)])) === 0);
    await expect(waiter.coordinator.waitForFill(key, 30_000)).resolves.toEqual({ status: 'released' });
  });

  it('is announced when the holder cannot renew it, before it runs out', async () => {
    const holder = failingHolder({ release: false, renew: true });
    const waiter = store();
    const key = `${prefix}:slow`;
    // Renewed every second; it would run out after three.
    await holder.acquire(key, 3_000);

    const waiting = waiter.coordinator.waitForFill(key, 30_000);
    await listening(1);
    await expect(waiting).resolves.toEqual({ status: 'abandoned' });
    expect(holder.errors[0]).toBeInstanceOf(StoreError);
  });

  it('makes a waiting call run the method itself once, instead of waiting out lock.wait', async () => {
    const holder = failingHolder({ release: true, renew: false });
    const cache = new Cache({ store: store(), prefix, lock: { ttl: '30s', wait: '30s' } });
    let runs = 0;
    const ask = cache.wrap(async () => ++runs, { name: 'ask' });
    const key = new KeyBuilder(prefix, 'default', 'ask').keyFor(undefined, []);
    const lease = await holder.acquire(key, 30_000);

    const asked = ask();
    // The call found the lease taken and waits for its holder.
    await listening(1);
    await expect(lease.release()).rejects.toBeInstanceOf(StoreError);

    await expect(asked).resolves.toBe(1);
    expect(runs).toBe(1);
    expect(await admin.sendCommand(['EXISTS', leaseKeyOf(key)])).toBe(1);
  });

  it('is never polled on a node whose breaker is open: the waiter decides at once', async () => {
    const server = await startRedisServer();
    const clock = manualClock();
    const down = new RedisStore({ url: server.url, operationTimeout: '100ms', breakerCooldown: 60_000, clock });
    try {
      await eventually(() => down.client.isReady);
      await server.stop();
      // Three failed reads open the breaker of the (only) node.
      for (let i = 0; i < 3; i++) await expect(down.get(`${prefix}:k${i}`)).rejects.toBeInstanceOf(StoreError);
      expect(down.circuit).toBe('open');
      await expect(down.coordinator.waitForFill(`${prefix}:k`, 30_000)).resolves.toEqual({ status: 'abandoned' });
    } finally {
      await down.close();
      await server.stop();
    }
  });
});

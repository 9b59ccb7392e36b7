import { Cache } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { KeyBuilder } from '../../lib/keys/key-builder';
import { leaseKeyOf } from '../../lib/redis/fill-coordinator';
import type { RedisClientLike } from '../../lib/redis/connection';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';
import { deferred, eventually } from '../support/async';

// Two Cache + RedisStore pairs stand for two instances of a service: they share only Redis.
// The real multi-process case is in cross-process.spec.ts. Methods wait on gates that the test opens once
// the other instance is where the case needs it (waiting for the fill, or past the lease time).
describe('fill lease between instances', () => {
  let client: RedisClientLike;
  let prefix: string;
  let caches: Cache[] = [];

  const instance = (lock?: { ttl?: string | number; wait?: string | number }) => {
    const cache = new Cache({ store: new RedisStore({ url: testRedisUrl() }), prefix, ...(lock ? { lock } : {}) });
    caches.push(cache);
    return cache;
  };

  beforeAll(async () => {
    client = await connectTestClient();
  });
  beforeEach(() => {
    prefix = uniquePrefix('lease');
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(caches.map((c) => c.close()));
    caches = [];
    await deleteKeys(client, prefix);
  });
  afterAll(() => client.destroy());

  /** Resolves when `cache` starts waiting for another instance's fill (it missed and found the lease taken). */
  const waitsForFill = (cache: Cache): Promise<void> => {
    const coordinator = (cache.store as RedisStore).coordinator;
    const wait = coordinator.waitForFill.bind(coordinator);
    const waiting = deferred<void>();
    jest.spyOn(coordinator, 'waitForFill').mockImplementation((...args) => (waiting.resolve(), wait(...args)));
    return waiting.promise;
  };

  /** The key `cache.wrap(fn, { name })` uses for a call with no arguments. */
  const keyOf = (name: string): string => new KeyBuilder(prefix, 'default', name).keyFor(undefined, []);

  it('lets the second instance wait for the first one’s value instead of calling the method', async () => {
    const a = instance();
    const b = instance();
    const running = deferred<void>();
    const gate = deferred<void>();
    let calls = 0;
    const method = async (q: string) => {
      calls++;
      running.resolve();
      await gate.promise;
      return `answer ${q}`;
    };
    const fa = a.wrap(method, { name: 'ask' });
    const fb = b.wrap(method, { name: 'ask' });
    const bWaits = waitsForFill(b);
    const first = fa('q');
    await running.promise;
    const second = fb('q');
    await bWaits;
    gate.resolve();
    expect(await Promise.all([first, second])).toEqual(['answer q', 'answer q']);
    expect(calls).toBe(1);
    expect(a.stats().total.coalesced + b.stats().total.coalesced).toBe(1);
  });

  it('renews the lease while a slow method runs, so no second call starts when the lease time passes', async () => {
    const a = instance({ ttl: 100, wait: '5s' });
    const b = instance({ ttl: 100, wait: '5s' });
    const running = deferred<void>();
    const gate = deferred<void>();
    let calls = 0;
    const method = async () => {
      calls++;
      running.resolve();
      await gate.promise;
      return 'slow answer';
    };
    const bWaits = waitsForFill(b);
    const first = a.wrap(method, { name: 'slow' })();
    await running.promise;
    const second = b.wrap(method, { name: 'slow' })();
    await bWaits;
    // The method runs on until its lease has been renewed 4 times (4 × 33 ms, past the 100 ms lease time).
    const lease = leaseKeyOf(keyOf('slow'));
    let renewals = 0;
    let last = Infinity;
    await eventually(
      async () => {
        const ttl = await client.sendCommand<number>(['PTTL', lease]);
        if (ttl <= 0) throw new Error('the lease expired while its holder ran');
        if (ttl > last) renewals++;
        last = ttl;
        return renewals >= 4;
      },
      10_000,
      5,
    );
    expect(calls).toBe(1);
    gate.resolve();
    await expect(Promise.all([first, second])).resolves.toEqual(['slow answer', 'slow answer']);
    expect(calls).toBe(1);
  });

  it('takes over when the holder died: its lease expires and a waiter runs the method', async () => {
    const b = instance({ ttl: '10s', wait: '10s' });
    const key = keyOf('orphan');
    // A holder that crashed: its lease exists and nobody renews or releases it.
    await client.sendCommand(['SET', leaseKeyOf(key), 'dead-holder', 'PX', '300']);
    let calls = 0;
    const result = await b.wrap(async () => ++calls, { name: 'orphan' })();
    expect(result).toBe(1);
    expect(calls).toBe(1);
    expect(await client.sendCommand(['GET', key])).not.toBeNull();
  });

  it('runs the method itself when the holder fails, and does not cache the error', async () => {
    const a = instance();
    const b = instance();
    const running = deferred<void>();
    const gate = deferred<void>();
    const failing = a.wrap(
      async () => {
        running.resolve();
        await gate.promise;
        throw new Error('provider down');
      },
      { name: 'flaky' },
    );
    let bCalls = 0;
    const working = b.wrap(async () => ++bCalls, { name: 'flaky' });
    const bWaits = waitsForFill(b);
    const first = failing();
    // `a` holds the lease once its method runs; `b` then finds it taken and waits.
    await running.promise;
    const second = working();
    await bWaits;
    gate.resolve();
    await expect(first).rejects.toThrow('provider down');
    await expect(second).resolves.toBe(1);
    expect(bCalls).toBe(1);
  });

  it('stops waiting after `lock.wait` and runs the method itself', async () => {
    const b = instance({ wait: 200 });
    const key = keyOf('stuck');
    // A live holder that never finishes (its lease is long).
    await client.sendCommand(['SET', leaseKeyOf(key), 'busy-holder', 'PX', '60000']);
    let calls = 0;
    await expect(b.wrap(async () => ++calls, { name: 'stuck' })()).resolves.toBe(1);
    expect(calls).toBe(1);
  });

  it('never deletes a lease it no longer owns', async () => {
    const a = instance({ ttl: 100 });
    const store = a.store as RedisStore;
    const key = `${prefix}:owned`;
    const lease = await store.coordinator.acquire(key, 100);
    expect(lease).toBeDefined();
    // The lease is taken over by another holder (as after an expiry).
    await client.sendCommand(['SET', leaseKeyOf(key), 'successor', 'PX', '10000']);
    await lease!.release();
    expect(await client.sendCommand(['GET', leaseKeyOf(key)])).toBe('successor');
    await lease!.release(); // a second release is harmless
  });

  it('with `lock: false`, instances do not coordinate', async () => {
    const a = instance();
    const b = instance();
    const gate = deferred<void>();
    let calls = 0;
    const method = async () => {
      calls++;
      await gate.promise;
      return 'x';
    };
    const both = Promise.all([
      a.wrap(method, { name: 'free', lock: false })(),
      b.wrap(method, { name: 'free', lock: false })(),
    ]);
    // Both calls run while neither has finished: nothing made one wait for the other.
    await eventually(() => calls === 2, 5_000, 5);
    gate.resolve();
    await expect(both).resolves.toEqual(['x', 'x']);
  });
});

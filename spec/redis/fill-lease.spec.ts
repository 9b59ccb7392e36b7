import { Cache } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { KeyBuilder } from '../../lib/keys/key-builder';
import { leaseKeyOf } from '../../lib/redis/fill-coordinator';
import type { RedisClientLike } from '../../lib/redis/connection';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

// Two Cache + RedisStore pairs stand for two instances of a service: they share only Redis.
// The real multi-process case is in cross-process.spec.ts.
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
    await Promise.all(caches.map((c) => c.close()));
    caches = [];
    await deleteKeys(client, prefix);
  });
  afterAll(() => client.destroy());

  /** The key `cache.wrap(fn, { name })` uses for a call with no arguments. */
  const keyOf = (name: string): string => new KeyBuilder(prefix, 'default', name).keyFor(undefined, []);

  it('lets the second instance wait for the first one’s value instead of calling the method', async () => {
    const a = instance();
    const b = instance();
    let calls = 0;
    const method = async (q: string) => {
      calls++;
      await new Promise((r) => setTimeout(r, 150));
      return `answer ${q}`;
    };
    const fa = a.wrap(method, { name: 'ask' });
    const fb = b.wrap(method, { name: 'ask' });
    const [ra, rb] = await Promise.all([fa('q'), fb('q')]);
    expect([ra, rb]).toEqual(['answer q', 'answer q']);
    expect(calls).toBe(1);
    expect(a.stats().total.coalesced + b.stats().total.coalesced).toBe(1);
  });

  it('renews the lease while a slow method runs, so no second call starts when the lease time passes', async () => {
    const a = instance({ ttl: 100, wait: '5s' });
    const b = instance({ ttl: 100, wait: '5s' });
    let calls = 0;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const method = async () => {
      calls++;
      started();
      await new Promise((r) => setTimeout(r, 600));
      return 'slow answer';
    };
    const first = a.wrap(method, { name: 'slow' })();
    await running;
    const second = b.wrap(method, { name: 'slow' })();
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
    let bStarted!: () => void;
    const bWaiting = new Promise<void>((r) => (bStarted = r));
    b.on('miss', () => bStarted());
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const failing = a.wrap(async () => {
      await gate;
      throw new Error('provider down');
    }, { name: 'flaky' });
    let bCalls = 0;
    const working = b.wrap(async () => ++bCalls, { name: 'flaky' });
    const first = failing();
    // Let `a` take the lease before `b` looks.
    await new Promise((r) => setTimeout(r, 50));
    const second = working();
    await bWaiting;
    release();
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
    let calls = 0;
    const method = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 100));
      return 'x';
    };
    await Promise.all([a.wrap(method, { name: 'free', lock: false })(), b.wrap(method, { name: 'free', lock: false })()]);
    expect(calls).toBe(2);
  });
});

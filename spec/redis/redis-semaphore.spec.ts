import { Concurrency } from '../../lib';
import { QueueFullError, QueueTimeoutError } from '../../lib/concurrency/concurrency-errors';
import { StoreTimeoutError } from '../../lib/core/errors';
import type { RedisClientLike } from '../../lib/redis/connection';
import { RedisSemaphore, type RedisSemaphoreOptions } from '../../lib/redis/redis-semaphore';
import { deferred, eventually } from '../support/async';
import { startRedisServer } from '../support/redis-server';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';
import { redisTarget, type RedisTarget } from '../support/redis-target';
import { describeSemaphore } from '../ports/semaphore-contract';
import { redisSemaphoreFixture, REDIS_SEMAPHORE_TRAITS } from './redis-semaphore-fixture';

describe('RedisSemaphore on one Redis', () => {
  let target: RedisTarget;
  beforeAll(async () => {
    target = await redisTarget();
  });
  afterAll(() => target.close());

  describeSemaphore(
    'RedisSemaphore',
    redisSemaphoreFixture(() => target),
    REDIS_SEMAPHORE_TRAITS,
  );
});

// Real Redis only. Each RedisSemaphore gets its own client, so two of them stand for two processes.
describe('RedisSemaphore', () => {
  let clients: RedisClientLike[] = [];
  let admin: RedisClientLike;
  let prefix: string;

  beforeEach(async () => {
    prefix = uniquePrefix('sem');
    admin = await connectTestClient();
  });
  afterEach(async () => {
    await deleteKeys(admin, prefix);
    for (const client of [admin, ...clients]) client.destroy();
    clients = [];
  });

  async function semaphore(options: Partial<RedisSemaphoreOptions> = {}): Promise<RedisSemaphore> {
    const client = await connectTestClient();
    clients.push(client);
    return new RedisSemaphore({ client, prefix, name: 'model', max: 2, ...options });
  }
  const holders = (key = `${prefix}:model`) => admin.sendCommand<string[]>(['ZRANGE', key, '0', '-1']);

  it('never lets two semaphores sharing max=2 hold more than 2 slots together', async () => {
    const polling = { pollInterval: 2, maxPollInterval: 20 };
    const [a, b] = [await semaphore(polling), await semaphore(polling)];
    /** The holders in the order they got their slot; `leave()` resolves once the slot is given back. */
    const holding: Array<() => Promise<void>> = [];
    let running = 0;
    let peak = 0;
    const call = async (via: RedisSemaphore): Promise<void> => {
      const permit = await via.acquire();
      running++;
      peak = Math.max(peak, running);
      const gate = deferred<void>();
      const left = deferred<void>();
      holding.push(() => (gate.resolve(), left.promise));
      await gate.promise;
      running--;
      await permit.release();
      left.resolve();
    };
    const calls = Array.from({ length: 12 }, (_, i) => call(i % 2 === 0 ? a : b));
    // Two calls hold the slots until the test lets the older one go; the pollers of both semaphores race for it.
    for (let left = 12; left > 0; left--) {
      await eventually(() => running === Math.min(2, left), 10_000, 2);
      // The set in Redis agrees with the count while the slots are held.
      expect(await holders()).toHaveLength(Math.min(2, left));
      await holding.shift()!();
    }
    await Promise.all(calls);
    expect(peak).toBe(2);
    expect(a.inFlight + b.inFlight).toBe(0);
    expect(await holders()).toEqual([]);
  });

  it('leaves no lease of a waiter that timed out in Redis', async () => {
    const [a, b] = [await semaphore({ max: 1 }), await semaphore({ max: 1, queueTimeout: 150 })];
    const held = await a.acquire();
    await expect(b.acquire()).rejects.toBeInstanceOf(QueueTimeoutError);
    expect(await holders()).toHaveLength(1);
    await held.release();
    expect(await holders()).toEqual([]);
  });

  it('renews a held lease, so a waiter cannot get in after the TTL while the holder lives', async () => {
    const a = await semaphore({ max: 1, leaseTtl: 600 });
    const b = await semaphore({ max: 1, queueTimeout: 1_500 });
    const held = await a.acquire();
    await expect(b.acquire()).rejects.toBeInstanceOf(QueueTimeoutError);
    await held.release();
    await expect(b.acquire()).resolves.toMatchObject({ released: false });
  });

  it('lets a waiter in once a holder that stopped renewing loses its lease after the TTL', async () => {
    const a = await semaphore({ max: 1, leaseTtl: 300, operationTimeout: 50 });
    const b = await semaphore({ max: 1, queueTimeout: '10s' });
    await a.acquire();
    // The holder "dies": its connection is gone, so it can neither renew nor release.
    clients[0]!.destroy();
    const permit = await b.acquire();
    expect(await holders()).toHaveLength(1);
    await permit.release();
  });

  it('reports leaseLost when its lease disappeared from Redis', async () => {
    const a = await semaphore({ max: 1, leaseTtl: 300 });
    let lost = 0;
    a.events.on('leaseLost', () => lost++);
    const held = await a.acquire();
    await admin.sendCommand(['DEL', `${prefix}:model`]);
    await eventually(() => lost === 1, 5_000);
    await held.release();
    expect(lost).toBe(1);
  });

  it('keeps the holders of each key in a set of its own, `<prefix>:<name>:<key>`', async () => {
    const a = await semaphore({ max: 1 });
    const gpt = await a.acquire({ key: 'gpt' });
    await a.acquire({ key: 'claude' });
    expect(await holders(`${prefix}:model:gpt`)).toHaveLength(1);
    expect(await holders(`${prefix}:model:claude`)).toHaveLength(1);
    expect(await holders()).toEqual([]);
    await gpt.release();
    expect(await holders(`${prefix}:model:gpt`)).toEqual([]);
  });

  it('falls back to a local semaphore with the same max when Redis does not answer, without hanging', async () => {
    const server = await startRedisServer();
    const client = await connectTestClient(server.url);
    clients.push(client);
    await server.stop();
    const local = new RedisSemaphore({ client, prefix, name: 'model', max: 1, maxQueue: 0, operationTimeout: 100 });
    const faults: unknown[] = [];
    local.events.on('fallback', ({ error }) => faults.push(error));
    const permit = await local.acquire();
    expect(faults).toHaveLength(1);
    await expect(local.acquire()).rejects.toBeInstanceOf(QueueFullError);
    expect(local.inFlight).toBe(1);
    await permit.release();
    expect(local.inFlight).toBe(0);
  });

  it('connects from a `url`, as the README writes it under @Concurrency, and closes the client it opened', async () => {
    const url = testRedisUrl();
    const gpu = new RedisSemaphore({ url, name: 'model', max: 1, maxQueue: 0, prefix });
    const gate = deferred<void>();
    class Model {
      @Concurrency({ semaphore: gpu })
      async generate(prompt: string): Promise<string> {
        await gate.promise;
        return prompt.toUpperCase();
      }
    }
    const model = new Model();
    const faults: unknown[] = [];
    gpu.events.on('fallback', ({ error }) => faults.push(error));
    const first = model.generate('hi');
    await eventually(async () => (await holders()).length === 1);
    await expect(model.generate('again')).rejects.toBeInstanceOf(QueueFullError);
    gate.resolve();
    await expect(first).resolves.toBe('HI');
    expect(await holders()).toEqual([]);
    expect(faults).toEqual([]);
    await gpu.close();
    // Its own client is closed: an acquire now is served by the in-process fallback.
    await (await gpu.acquire()).release();
    expect(faults).toHaveLength(1);
  });

  it('leaves a client passed in open when it closes', async () => {
    const a = await semaphore();
    await a.close();
    expect(clients[0]!.isOpen).toBe(true);
  });

  it('times a Redis command out after `operationTimeout`, 250 ms by default as in the other Redis classes', async () => {
    const server = await startRedisServer();
    const pauser = await connectTestClient(server.url);
    const gpu = new RedisSemaphore({ url: server.url, name: 'model', max: 1, prefix });
    try {
      await (await gpu.acquire()).release(); // connected
      await pauser.sendCommand(['CLIENT', 'PAUSE', '5000', 'WRITE']);
      const faults: unknown[] = [];
      gpu.events.on('fallback', ({ error }) => faults.push(error));
      await (await gpu.acquire()).release();
      expect(faults).toHaveLength(1);
      expect(faults[0]).toBeInstanceOf(StoreTimeoutError);
      expect(faults[0]).toMatchObject({ timeoutMs: 250 });
    } finally {
      await pauser.sendCommand(['CLIENT', 'UNPAUSE']);
      await gpu.close();
      pauser.destroy();
      await server.stop();
    }
  });

  it('skips Redis after 3 failed acquires in a row, so callers fall back at once, and goes back to it once it answers', async () => {
    const server = await startRedisServer();
    const pauser = await connectTestClient(server.url);
    const gpu = new RedisSemaphore({ url: server.url, name: 'model', max: 1, prefix, operationTimeout: 100 });
    try {
      await (await gpu.acquire()).release(); // connected
      const faults: unknown[] = [];
      gpu.events.on('fallback', ({ error }) => faults.push(error));
      await pauser.sendCommand(['CLIENT', 'PAUSE', '10000', 'WRITE']);
      for (let i = 0; i < 4; i++) await (await gpu.acquire()).release();
      expect(faults).toHaveLength(4);
      expect(faults[0]).toBeInstanceOf(StoreTimeoutError);
      // Skipped: the breaker answered without a round trip.
      expect(faults[3]).toMatchObject({ code: 'ERR_CACHET_STORE_UNAVAILABLE' });
      await pauser.sendCommand(['CLIENT', 'UNPAUSE']);
      // After the cooldown one acquire probes Redis, and it answers.
      await eventually(async () => {
        const before = faults.length;
        await (await gpu.acquire()).release();
        return faults.length === before;
      }, 10_000);
      const permit = await gpu.acquire();
      expect(await pauser.sendCommand<string[]>(['ZRANGE', `${prefix}:model`, '0', '-1'])).toHaveLength(1);
      await permit.release();
    } finally {
      await gpu.close();
      pauser.destroy();
      await server.stop();
    }
  });

  it.each([
    [{ client: undefined }, /^Expected `url or client` to be exactly one of a Redis URL or a node-redis client/],
    [
      { url: 'redis://127.0.0.1:1' },
      /^Expected `url or client` to be exactly one of a Redis URL or a node-redis client/,
    ],
    [
      { client: undefined, url: 'http://cache' },
      /^Expected `url` to be a redis:\/\/ or rediss:\/\/ URL, got `"http:\/\/cache"` \(string\)$/,
    ],
    [{ operationTimeout: 0 }, /^Expected `operationTimeout` to be a positive integer/],
    [{ max: 0 }, /Expected `max` to be a positive integer/],
    [{ name: 'has space' }, /Expected `name` to be a non-empty string/],
    [{ leaseTtl: 100, renewInterval: 100 }, /Expected `renewInterval` to be between 1 ms and `leaseTtl` \(100 ms\)/],
    [{ pollInteval: 5 }, /Unknown RedisSemaphore option `pollInteval`/],
  ])('rejects invalid options %j with a TypeError', async (options, message) => {
    await expect(semaphore(options as Partial<RedisSemaphoreOptions>)).rejects.toThrow(message);
    await expect(semaphore(options as Partial<RedisSemaphoreOptions>)).rejects.toBeInstanceOf(TypeError);
  });
});

import { Concurrency } from '../../lib';
import { limitConcurrency } from '../../lib/concurrency/concurrency';
import { QueueFullError, QueueTimeoutError } from '../../lib/concurrency/concurrency-errors';
import { StoreTimeoutError } from '../../lib/core/errors';
import type { RedisClientLike } from '../../lib/redis/connection';
import { RedisSemaphore, type RedisSemaphoreOptions } from '../../lib/redis/redis-semaphore';
import { deferred, eventually } from '../support/async';
import { startRedisServer } from '../support/redis-server';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

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
    const [a, b] = [await semaphore(), await semaphore()];
    let running = 0;
    let peak = 0;
    const work = async (): Promise<void> => {
      running++;
      peak = Math.max(peak, running);
      // The set in Redis agrees with the count while a slot is held.
      expect((await holders()).length).toBeLessThanOrEqual(2);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
    };
    const viaA = limitConcurrency(work, { semaphore: a });
    const viaB = limitConcurrency(work, { semaphore: b });
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? viaA() : viaB())));
    expect(peak).toBe(2);
    expect(a.inFlight + b.inFlight).toBe(0);
    expect(await holders()).toEqual([]);
  });

  it('frees one slot only when a permit is released twice', async () => {
    const [a, b] = [await semaphore(), await semaphore({ maxQueue: 0 })];
    const first = await a.acquire();
    await a.acquire();
    await first.release();
    await first.release();
    expect(first.released).toBe(true);
    expect(await holders()).toHaveLength(1);
    await b.acquire();
    await expect(b.acquire()).rejects.toBeInstanceOf(QueueFullError);
  });

  it('times a waiter out with QueueTimeoutError and leaves no lease of it behind', async () => {
    const [a, b] = [await semaphore({ max: 1 }), await semaphore({ max: 1, queueTimeout: 150 })];
    const held = await a.acquire();
    const error = await b.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueTimeoutError);
    expect(b.usage()).toEqual({ inFlight: 0, queued: 0 });
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

  it('caps each key separately', async () => {
    const a = await semaphore({ max: 1, maxQueue: 0 });
    await a.acquire({ key: 'gpt' });
    await a.acquire({ key: 'claude' });
    await expect(a.acquire({ key: 'gpt' })).rejects.toMatchObject({ code: 'ERR_CACHET_QUEUE_FULL', key: 'gpt' });
    expect(await holders(`${prefix}:model:gpt`)).toHaveLength(1);
    expect(a.usage('gpt')).toEqual({ inFlight: 1, queued: 0 });
  });

  it('takes an aborted waiter out of its queue at once', async () => {
    const a = await semaphore({ max: 1 });
    await a.acquire();
    const controller = new AbortController();
    const waiting = a.acquire({ signal: controller.signal });
    await eventually(() => a.queued === 1, 5_000);
    controller.abort(new Error('user left'));
    await expect(waiting).rejects.toThrow('user left');
    expect(a.queued).toBe(0);
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
    [{ url: 'redis://127.0.0.1:1' }, /^Expected `url or client` to be exactly one of a Redis URL or a node-redis client/],
    [{ client: undefined, url: 'http://cache' }, /^Expected `url` to be a redis:\/\/ or rediss:\/\/ URL, got `"http:\/\/cache"` \(string\)$/],
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

import { RedisSemaphore } from '../../lib/redis/redis-semaphore';
import { eventually } from '../support/async';
import { startWorker, type Worker } from '../support/child-processes';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

interface WorkerResult {
  intervals: Array<[number, number]>;
  fallbacks: number;
}

/**
 * The most intervals open at one instant. Ends sort before starts at the same millisecond: a slot is
 * given back (ZREM) only after its holder recorded its end, so a successor's start can equal it.
 */
function maxOverlap(intervals: Array<[number, number]>): number {
  const events = intervals.flatMap(([start, end]) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const { delta } of events) most = Math.max(most, (open += delta));
  return most;
}

describe('RedisSemaphore across processes', () => {
  let workers: Worker[] = [];
  afterEach(() => workers.forEach((w) => w.kill()));

  it('never has more than 2 critical sections open at once for 3 processes x 12 calls sharing max=2', async () => {
    const prefix = uniquePrefix('xsem');
    workers = Array.from({ length: 3 }, () =>
      startWorker('semaphore-worker', {
        REDIS_URL: testRedisUrl(),
        PREFIX: prefix,
        MAX: '2',
        CALLS: '12',
        HOLD_MS: '15',
      }),
    );
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    const results = (await Promise.all(workers.map((w) => w.result))) as WorkerResult[];

    const intervals = results.flatMap((r) => r.intervals);
    expect(intervals).toHaveLength(36);
    expect(results.map((r) => r.fallbacks)).toEqual([0, 0, 0]);
    expect(maxOverlap(intervals)).toBeLessThanOrEqual(2);
    // The bound is reached, so the check above is not vacuous.
    expect(maxOverlap(intervals)).toBe(2);

    const client = await connectTestClient();
    await deleteKeys(client, prefix);
    client.destroy();
  }, 60_000);

  it('gives the slot of a killed holder process to a waiter once its lease expires', async () => {
    const prefix = uniquePrefix('xsem');
    const client = await connectTestClient();
    const holder = startWorker('semaphore-worker', {
      REDIS_URL: testRedisUrl(),
      PREFIX: prefix,
      MAX: '1',
      CALLS: '1',
      HOLD_MS: '600000',
      LEASE_TTL: '500',
    });
    workers = [holder];
    await holder.ready;
    holder.go();
    const key = `${prefix}:shared`;
    await eventually(async () => (await client.sendCommand<number>(['ZCARD', key])) === 1);
    const [victim] = await client.sendCommand<string[]>(['ZRANGE', key, '0', '-1']);

    const waiter = new RedisSemaphore({ client, prefix, name: 'shared', max: 1, queueTimeout: '20s' });
    const waiting = waiter.acquire();
    holder.kill();
    const permit = await waiting;
    const now = await client.sendCommand<string[]>(['ZRANGE', key, '0', '-1']);
    expect(now).toHaveLength(1);
    expect(now).not.toContain(victim);
    await permit.release();
    await deleteKeys(client, prefix);
    client.destroy();
  }, 60_000);
});

import type { QueueOptions } from '../../lib/concurrency/queue-options';
import { RedisSemaphore } from '../../lib/redis/redis-semaphore';
import type { SemaphoreFixture, SemaphoreTraits } from '../ports/semaphore-contract';
import { uniquePrefix } from '../support/redis';
import type { RedisTarget } from '../support/redis-target';

/** Pollers give up no order; the queue timeout and the polls run on the Redis client's real timers. */
export const REDIS_SEMAPHORE_TRAITS: SemaphoreTraits = { fifo: false, fakeTimers: false };

/**
 * The semaphore contract's fixture for RedisSemaphores on `target` (a server or a cluster), under a prefix
 * of their own. Waiters poll every few ms, so a freed slot is taken soon. A semaphore that fell back to its
 * in-process semaphore would pass the contract without Redis, so cleanup fails the test on any fallback.
 */
export function redisSemaphoreFixture(target: () => RedisTarget): () => Promise<SemaphoreFixture> {
  return async () => {
    const prefix = uniquePrefix('sem');
    const source = await target().source();
    const made: RedisSemaphore[] = [];
    const fallbacks: unknown[] = [];
    return {
      semaphore(options: QueueOptions) {
        const semaphore = new RedisSemaphore({
          ...source,
          ...options,
          prefix,
          name: `contract${made.length}`,
          pollInterval: 2,
          maxPollInterval: 20,
          // A loaded two-core machine may stall a round trip; a fallback would test the local semaphore.
          operationTimeout: '2s',
        });
        semaphore.events.on('fallback', ({ error }) => fallbacks.push(error));
        made.push(semaphore);
        return semaphore;
      },
      async cleanup() {
        await Promise.all(made.map((semaphore) => semaphore.close()));
        await target().release();
        await target().deleteKeys(prefix);
        expect(fallbacks).toEqual([]);
      },
    };
  };
}

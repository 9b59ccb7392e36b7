import { MemoryRateLimiter } from '../../lib/rate-limit/memory-rate-limiter';
import { RateLimitPolicy } from '../../lib/rate-limit/rate-limit-policy';
import { resolveRateLimitedOptions } from '../../lib/rate-limit/rate-limit-options';

describe('RateLimitPolicy wait queues', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const policy = (maxWait: string): RateLimitPolicy =>
    new RateLimitPolicy(
      resolveRateLimitedOptions({
        limit: 10,
        interval: '1s',
        mode: 'wait',
        maxWait,
        limiter: new MemoryRateLimiter({ clock: { now: () => Date.now() } }),
      }),
    );

  it('drops a key’s queue once every waiter has been served', async () => {
    const limits = policy('10s');
    const admitted = [1, 2, 3].map((i) => limits.admit(undefined, [], `k${i % 2}`));
    await jest.advanceTimersByTimeAsync(0);
    expect(limits.waitingKeys).toBe(1);
    await jest.advanceTimersByTimeAsync(100);
    await Promise.all(admitted);
    expect(limits.waitingKeys).toBe(0);
  });

  it('drops a key’s queue once every waiter has given up, and leaves no timer behind', async () => {
    const limits = policy('50ms');
    await limits.admit(undefined, [], 'k');
    const outcomes = Promise.allSettled([limits.admit(undefined, [], 'k'), limits.admit(undefined, [], 'k')]);
    await jest.advanceTimersByTimeAsync(50);
    expect((await outcomes).map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(limits.waitingKeys).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});

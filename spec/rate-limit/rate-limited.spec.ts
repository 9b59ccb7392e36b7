import { StoreError } from '../../lib/core/errors';
import { MemoryRateLimiter } from '../../lib/rate-limit/memory-rate-limiter';
import { isRateLimitError, type RateLimitError } from '../../lib/rate-limit/rate-limit-error';
import type { RateLimiter } from '../../lib/ports/rate-limiter';
import { rateLimited } from '../../lib/rate-limit/rate-limited';
import { manualClock } from '../ports/cache-store-contract';

/** Settles a promise into a value or an error, so a test can inspect a rejection without an unhandled one. */
function settle<T>(promise: Promise<T>): {
  readonly state: () => 'pending' | 'resolved' | 'rejected';
  readonly error: () => unknown;
} {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  let error: unknown;
  promise.then(
    () => (state = 'resolved'),
    (e: unknown) => {
      state = 'rejected';
      error = e;
    },
  );
  return { state: () => state, error: () => error };
}

/** A limiter whose store is down: every decision fails as a Redis outage would. */
const brokenLimiter: RateLimiter = {
  name: 'broken',
  decide: () => Promise.reject(new StoreError('rate', 'k', 'Redis is down')),
  adjust: () => Promise.reject(new StoreError('rate', 'k', 'Redis is down')),
  close: async () => {},
};

describe('rateLimited in reject mode', () => {
  it('rejects the call past the limit with a RateLimitError carrying key, limit and the exact retryAfterMs', async () => {
    const clock = manualClock();
    let runs = 0;
    const ask = rateLimited(async (q: string) => `answer ${q} ${++runs}`, {
      limit: 2,
      interval: '1s',
      burst: 2,
      limiter: new MemoryRateLimiter({ clock }),
      name: 'ask',
    });
    await expect(ask('a')).resolves.toBe('answer a 1');
    await expect(ask('b')).resolves.toBe('answer b 2');
    clock.advance(120);
    const error = await ask('c').catch((e: unknown) => e);
    expect(isRateLimitError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'ERR_CACHET_RATE_LIMIT',
      key: 'ask',
      limit: 2,
      intervalMs: 1_000,
      retryAfterMs: 380,
      reason: 'rejected',
    });
    expect((error as RateLimitError).message).toBe('Rate limit of 2 per 1000 ms on `ask` exceeded; retry after 380 ms');
    expect(runs).toBe(2);
    clock.advance(380);
    await expect(ask('d')).resolves.toBe('answer d 3');
  });

  it('charges the cost the cost function computes from the arguments', async () => {
    const clock = manualClock();
    const complete = rateLimited(async (tokens: number) => tokens, {
      limit: 100,
      interval: '1s',
      burst: 100,
      cost: (tokens) => tokens,
      limiter: new MemoryRateLimiter({ clock }),
    });
    await expect(complete(70)).resolves.toBe(70);
    await expect(complete(40)).rejects.toMatchObject({ retryAfterMs: 100 });
    await expect(complete(30)).resolves.toBe(30);
    await expect(complete(101)).rejects.toThrow(
      'Expected `cost()` to be a number from 0 to the burst (100), got `101` (number)',
    );
  });

  it('scopes the limit by the key function, which sees this and the arguments', async () => {
    const limiter = new MemoryRateLimiter({ clock: manualClock() });
    const owner = { team: 'red' };
    const send = rateLimited(
      async function (this: { team: string }, user: string) {
        return `${this.team}:${user}`;
      },
      {
        limit: 1,
        interval: '1m',
        limiter,
        key(this: { team: string }, user: string) {
          return `${this.team}:${user}`;
        },
      },
    );
    await expect(send.call(owner, 'ada')).resolves.toBe('red:ada');
    await expect(send.call(owner, 'ada')).rejects.toMatchObject({ key: 'red:ada' });
    await expect(send.call(owner, 'bob')).resolves.toBe('red:bob');
    await expect(send.call({ team: 'blue' }, 'ada')).resolves.toBe('blue:ada');
  });
});

describe('rateLimited in wait mode', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const fakeTimeClock = { now: () => Date.now() };

  it('serves waiting callers first come first served, one per interval / limit', async () => {
    const order: string[] = [];
    const run = rateLimited(async (id: string) => void order.push(id), {
      limit: 10,
      interval: '1s',
      mode: 'wait',
      maxWait: '10s',
      limiter: new MemoryRateLimiter({ clock: fakeTimeClock }),
    });
    const calls = ['a', 'b', 'c', 'd', 'e'].map((id) => run(id));
    await jest.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['a']);
    await jest.advanceTimersByTimeAsync(99);
    expect(order).toEqual(['a']);
    await jest.advanceTimersByTimeAsync(1);
    expect(order).toEqual(['a', 'b']);
    // A newcomer joins the end of the line.
    await jest.advanceTimersByTimeAsync(100);
    const late = run('late');
    await jest.advanceTimersByTimeAsync(300);
    await Promise.all([...calls, late]);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e', 'late']);
  });

  it('never lets a newcomer overtake a waiter, even when the newcomer’s smaller cost would fit now', async () => {
    const order: string[] = [];
    const run = rateLimited(async (id: string, _cost: number) => void order.push(id), {
      limit: 1,
      interval: '1s',
      burst: 3,
      cost: (_id, cost) => cost,
      mode: 'wait',
      maxWait: '10s',
      limiter: new MemoryRateLimiter({ clock: fakeTimeClock }),
    });
    await run('first', 1);
    const big = run('big', 3); // 2 units left: due in 1 s
    await jest.advanceTimersByTimeAsync(10);
    const small = run('small', 1); // 1 unit would fit now, but big is first in line
    await jest.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['first']);
    await jest.advanceTimersByTimeAsync(990);
    expect(order).toEqual(['first', 'big']);
    await jest.advanceTimersByTimeAsync(999);
    expect(order).toEqual(['first', 'big']);
    await jest.advanceTimersByTimeAsync(1);
    await Promise.all([big, small]);
    expect(order).toEqual(['first', 'big', 'small']);
  });

  it('gives up at maxWait with a RateLimitError, and the waiter that gave up leaves the queue at once', async () => {
    const order: string[] = [];
    const run = rateLimited(async (id: string, _cost: number) => void order.push(id), {
      limit: 1,
      interval: '1s',
      burst: 3,
      cost: (_id, cost) => cost,
      mode: 'wait',
      maxWait: '500ms',
      limiter: new MemoryRateLimiter({ clock: fakeTimeClock }),
    });
    await run('first', 1);
    // Needs 3 units while 2 are left: due in 1 s, after its maxWait.
    const big = settle(run('big', 3));
    await jest.advanceTimersByTimeAsync(200);
    const small = settle(run('small', 2));
    await jest.advanceTimersByTimeAsync(299);
    expect(big.state()).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(big.state()).toBe('rejected');
    expect(big.error()).toMatchObject({ code: 'ERR_CACHET_RATE_LIMIT', reason: 'timeout' });
    expect((big.error() as RateLimitError).retryAfterMs).toBe(500);
    // The next caller does not wait behind the one that left: its 2 units were free all along.
    await jest.advanceTimersByTimeAsync(0);
    expect(small.state()).toBe('resolved');
    expect(order).toEqual(['first', 'small']);
  });

  it('admits at once without queueing when a unit is free and nobody waits', async () => {
    const run = rateLimited(async () => 'ok', { limit: 5, interval: '1s', burst: 5, mode: 'wait' });
    const results = await Promise.all([run(), run(), run()]);
    expect(results).toEqual(['ok', 'ok', 'ok']);
  });
});

describe('rateLimited when the limiter fails', () => {
  it("'local' keeps limiting in this process with the same settings", async () => {
    const run = rateLimited(async () => 'ok', { limit: 2, interval: '1m', burst: 2, limiter: brokenLimiter });
    const outcomes = await Promise.allSettled([run(), run(), run(), run()]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
  });

  it("'allow' lets every call through", async () => {
    const run = rateLimited(async () => 'ok', {
      limit: 1,
      interval: '1m',
      limiter: brokenLimiter,
      onStoreError: 'allow',
    });
    await expect(Promise.all([run(), run(), run()])).resolves.toEqual(['ok', 'ok', 'ok']);
  });

  it("'deny' rejects with a RateLimitError whose cause is the store error", async () => {
    const run = rateLimited(async () => 'ok', {
      limit: 1,
      interval: '1m',
      limiter: brokenLimiter,
      onStoreError: 'deny',
    });
    const error = await run().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_CACHET_RATE_LIMIT', reason: 'store', retryAfterMs: 60_000 });
    expect((error as Error).cause).toBeInstanceOf(StoreError);
  });
});

describe('rateLimited options', () => {
  const fn = async (): Promise<void> => {};
  it.each([
    [{ limit: 0 }, 'Expected `limit` to be a positive integer, got `0` (number)'],
    [{}, 'Expected `limit` to be a positive integer, got `undefined` (undefined)'],
    [{ limit: 1.5 }, 'Expected `limit` to be a positive integer, got `1.5` (number)'],
    [{ limit: 1, burst: 0 }, 'Expected `burst` to be a positive integer, got `0` (number)'],
    [{ limit: 1, interval: '1 minute' }, 'Expected `interval` to be a duration'],
    [{ limit: 1, interval: 0 }, 'Expected `interval` to be a duration of at least 1 ms, got `0` (number)'],
    [{ limit: 1, mode: 'queue' }, "Expected `mode` to be one of 'reject', 'wait', got `\"queue\"` (string)"],
    [{ limit: 1, maxWait: -1 }, 'Expected `maxWait` to be a duration'],
    [{ limit: 1, maxWait: '30d' }, 'Expected `maxWait` to be a duration of at most 24 days, got `"30d"` (string)'],
    [{ limit: 1, onStoreError: 'bypass' }, "Expected `onStoreError` to be one of 'local', 'allow', 'deny'"],
    [{ limit: 1, key: 'user' }, 'Expected `key` to be a function, got `"user"` (string)'],
    [{ limit: 1, cost: 2 }, 'Expected `cost` to be a function, got `2` (number)'],
    [{ limit: 1, limiter: {} }, 'Expected `limiter` to be a RateLimiter'],
    [{ limit: 1, limt: 2 }, 'Unknown @RateLimited option `limt`'],
  ])('throws a TypeError for %j', (options, message) => {
    expect(() => rateLimited(fn, options as never)).toThrow(TypeError);
    expect(() => rateLimited(fn, options as never)).toThrow(message);
  });

  it('throws a TypeError when the key function returns something other than a non-empty string', async () => {
    const run = rateLimited(fn, { limit: 1, key: () => '' });
    await expect(run()).rejects.toThrow('Expected `key()` to be a non-empty string, got `""` (string)');
  });
});

import { StoreError } from '../../lib/core/errors';
import { MemoryRateLimiter } from '../../lib/rate-limit/memory-rate-limiter';
import { isRateLimitError } from '../../lib/rate-limit/rate-limit-error';
import type { RateLimiter } from '../../lib/ports/rate-limiter';
import { rateLimited } from '../../lib/rate-limit/rate-limited';
import { manualClock } from '../ports/cache-store-contract';

/** A chat-like call: the request says what to estimate and what the answer will report as used. */
interface Call {
  readonly estimate: number;
  readonly used?: number;
  readonly fail?: boolean;
}
interface Answer {
  readonly usage?: { readonly total_tokens: number };
}

/** 600 tokens a minute (one every 100 ms), the burst defaulting to the whole 600. */
function tokenLimited(limiter: RateLimiter, extra: object = {}) {
  let calls = 0;
  const chat = rateLimited(
    async (call: Call): Promise<Answer> => {
      calls++;
      if (call.fail === true) throw new Error('provider failed');
      return call.used === undefined ? {} : { usage: { total_tokens: call.used } };
    },
    {
      limit: 600,
      interval: '1m',
      cost: (call) => call.estimate,
      actualCost: (answer: Answer) => answer.usage?.total_tokens,
      limiter,
      name: 'chat',
      ...extra,
    },
  );
  return { chat, calls: () => calls };
}

const retryAfter = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => 'admitted',
    (error: unknown) => (isRateLimitError(error) ? error.retryAfterMs : error),
  );

describe('rateLimited with actualCost: a token budget reserved from an estimate and corrected from the answer', () => {
  it('refunds what the call did not use: a second large estimate fits at once', async () => {
    const clock = manualClock();
    const { chat } = tokenLimited(new MemoryRateLimiter({ clock }));
    await chat({ estimate: 500, used: 100 });
    // Without the refund 500 + 500 would be 400 over the burst: a 40 s wait.
    await expect(chat({ estimate: 500, used: 500 })).resolves.toEqual({ usage: { total_tokens: 500 } });
    expect(await retryAfter(chat({ estimate: 1 }))).toBe(100);
  });

  it('charges an overdraft after the call: the next caller waits for the tokens really used', async () => {
    const clock = manualClock();
    const { chat } = tokenLimited(new MemoryRateLimiter({ clock }));
    await chat({ estimate: 100, used: 700 });
    // 700 tokens on a burst of 600: 100 over, plus the next token, at 100 ms each.
    expect(await retryAfter(chat({ estimate: 1 }))).toBe(10_100);
    clock.advance(10_100);
    await expect(chat({ estimate: 1, used: 1 })).resolves.toBeDefined();
  });

  it('admits an estimate larger than the burst by reserving the burst, and charges the rest with the correction', async () => {
    const clock = manualClock();
    const { chat, calls } = tokenLimited(new MemoryRateLimiter({ clock }));
    // No usage in the answer: the estimate stands, all 900 tokens of it.
    await expect(chat({ estimate: 900 })).resolves.toEqual({});
    expect(calls()).toBe(1);
    expect(await retryAfter(chat({ estimate: 1 }))).toBe(30_100);
  });

  it('refunds the whole reservation of a call that throws, and rethrows its error', async () => {
    const clock = manualClock();
    const { chat } = tokenLimited(new MemoryRateLimiter({ clock }));
    await expect(chat({ estimate: 600, fail: true })).rejects.toThrow('provider failed');
    await expect(chat({ estimate: 600, used: 600 })).resolves.toBeDefined();
    expect(await retryAfter(chat({ estimate: 1 }))).toBe(100);
  });

  it('corrects a waiter’s reservation too: a refund lets the next waiter in sooner', async () => {
    jest.useFakeTimers();
    try {
      const clock = manualClock();
      const { chat } = tokenLimited(new MemoryRateLimiter({ clock }), { mode: 'wait', maxWait: '1m' });
      await chat({ estimate: 600, used: 600 });
      const order: string[] = [];
      // Both wait: the first needs 30 s of refill, the second another 30 s unless the first gives some back.
      const first = chat({ estimate: 300, used: 0 }).then(() => order.push('first'));
      const second = chat({ estimate: 300, used: 300 }).then(() => order.push('second'));
      clock.advance(30_000);
      await jest.advanceTimersByTimeAsync(30_000);
      await first;
      // The first used nothing: its 300 came back at once, so the second is in without another 30 s.
      await jest.advanceTimersByTimeAsync(0);
      await second;
      expect(order).toEqual(['first', 'second']);
    } finally {
      jest.useRealTimers();
    }
  });

  it("keeps limiting in this process while the store is down ('local'), corrections included", async () => {
    const broken: RateLimiter = {
      name: 'broken',
      decide: () => Promise.reject(new StoreError('rate', 'k', 'Redis is down')),
      adjust: () => Promise.reject(new StoreError('rate', 'k', 'Redis is down')),
      close: async () => {},
    };
    const { chat } = tokenLimited(broken);
    await chat({ estimate: 10, used: 600 });
    // The local fallback decided the reservation and took the overdraft: the budget is spent.
    expect(typeof (await retryAfter(chat({ estimate: 1 })))).toBe('number');
  });

  it('rejects bad estimates and bad actual costs with a TypeError saying what was expected', async () => {
    const clock = manualClock();
    const { chat } = tokenLimited(new MemoryRateLimiter({ clock }), {
      actualCost: (answer: Answer) => (answer.usage === undefined ? 'lots' : answer.usage.total_tokens),
    });
    await expect(chat({ estimate: -1 })).rejects.toThrow('Expected `cost()` to be a finite number >= 0, got `-1`');
    await expect(chat({ estimate: 1 })).rejects.toThrow(
      'Expected `actualCost()` to be a finite number >= 0, or undefined to keep the estimate',
    );
    // Without a correction, a cost above the burst could never be admitted: still an error.
    const plain = rateLimited(async () => 'ok', { limit: 600, interval: '1m', cost: () => 900, name: 'plain' });
    await expect(plain()).rejects.toThrow('Expected `cost()` to be a number from 0 to the burst (1)');
    expect(() => rateLimited(async () => 'ok', { limit: 1, actualCost: 5 as never })).toThrow(
      'Expected `actualCost` to be a function',
    );
  });
});

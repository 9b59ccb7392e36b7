import { isTransientError, retry } from '../../lib/resilience/retry';
import { runWithSignal } from '../../lib/core/current-signal';
import { TimeoutError } from '../../lib/resilience/errors';
import { CacheKeyError } from '../../lib/core/errors';

function httpError(status: number, headers?: Record<string, string>): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status, headers });
}

/** A function that fails with the given errors in turn, then answers 'ok'; counts its calls. */
function flaky(...errors: unknown[]) {
  const fn = async (): Promise<string> => {
    fn.calls++;
    const error = errors.shift();
    if (error !== undefined) throw error;
    return 'ok';
  };
  fn.calls = 0;
  return fn;
}

describe('retry', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('waits half the capped exponential delay before each retry when random gives 0.5', async () => {
    const fn = flaky(httpError(503), httpError(503), httpError(503));
    const wrapped = retry(fn, { attempts: 4, base: 100, max: 300, random: () => 0.5 });
    const result = wrapped();
    await jest.advanceTimersByTimeAsync(0);
    expect(fn.calls).toBe(1);
    // Delays: 0.5 * min(300, 100) = 50, 0.5 * min(300, 200) = 100, 0.5 * min(300, 400) = 150.
    for (const delay of [50, 100, 150]) {
      const before = fn.calls;
      await jest.advanceTimersByTimeAsync(delay - 1);
      expect(fn.calls).toBe(before);
      await jest.advanceTimersByTimeAsync(1);
      expect(fn.calls).toBe(before + 1);
    }
    await expect(result).resolves.toBe('ok');
  });

  it('makes exactly `attempts` tries and then throws the last error itself', async () => {
    const last = httpError(502);
    const fn = flaky(httpError(500), httpError(503), last, httpError(504));
    const result = retry(fn, { attempts: 3, base: 0, random: () => 0.5 })();
    const settled = expect(result).rejects.toBe(last);
    await jest.advanceTimersByTimeAsync(10);
    await settled;
    expect(fn.calls).toBe(3);
  });

  it('does not retry an error the default predicate calls permanent', async () => {
    const fn = flaky(httpError(400));
    await expect(retry(fn, { attempts: 5 })()).rejects.toMatchObject({ status: 400 });
    expect(fn.calls).toBe(1);
  });

  it('lets the `on` predicate decide, with the failed attempt number', async () => {
    const seen: number[] = [];
    const fn = flaky(new Error('a'), new Error('b'), new Error('c'));
    const result = retry(fn, { attempts: 5, base: 0, on: (_e, attempt) => (seen.push(attempt), attempt < 2) })();
    const settled = expect(result).rejects.toThrow('b');
    await jest.advanceTimersByTimeAsync(10);
    await settled;
    expect(seen).toEqual([1, 2]);
    expect(fn.calls).toBe(2);
  });

  it('waits at least the retryAfterMs an error asks for', async () => {
    const fn = flaky(Object.assign(new Error('rate limited'), { retryAfterMs: 2_000 }));
    const result = retry(fn, { base: 100, random: () => 0.5 })();
    await jest.advanceTimersByTimeAsync(1_999);
    expect(fn.calls).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(fn.calls).toBe(2);
    await expect(result).resolves.toBe('ok');
  });

  it('honours Retry-After in seconds and as an HTTP date from the injected clock', async () => {
    const clock = { now: () => Date.parse('2026-01-01T00:00:00Z') };
    const fn = flaky(
      httpError(429, { 'retry-after': '3' }),
      httpError(503, { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }),
    );
    const delays: number[] = [];
    const result = retry(fn, { base: 10, random: () => 0.5, clock, onRetry: (info) => delays.push(info.delayMs) })();
    await jest.advanceTimersByTimeAsync(2_999);
    expect(fn.calls).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(fn.calls).toBe(2);
    await jest.advanceTimersByTimeAsync(5_000);
    await expect(result).resolves.toBe('ok');
    expect(delays).toEqual([3_000, 5_000]);
  });

  it('keeps the backoff when it is longer than the requested wait', async () => {
    const delays: number[] = [];
    const fn = flaky(httpError(429, { 'retry-after': '0' }));
    const result = retry(fn, { base: 800, random: () => 0.5, onRetry: (info) => delays.push(info.delayMs) })();
    await jest.advanceTimersByTimeAsync(400);
    await expect(result).resolves.toBe('ok');
    expect(delays).toEqual([400]);
  });

  it('caps a requested wait at maxRetryAfter', async () => {
    const delays: number[] = [];
    const fn = flaky(Object.assign(new Error('limited'), { retryAfterMs: 3_600_000 }));
    const result = retry(fn, { maxRetryAfter: '5s', random: () => 0, onRetry: (info) => delays.push(info.delayMs) })();
    await jest.advanceTimersByTimeAsync(5_000);
    await expect(result).resolves.toBe('ok');
    expect(delays).toEqual([5_000]);
  });

  it('reports each retry to onRetry with the failed attempt and its error', async () => {
    const first = httpError(500);
    const infos: unknown[] = [];
    const result = retry(flaky(first), { base: 100, random: () => 0.5, onRetry: (info) => infos.push(info) })();
    await jest.advanceTimersByTimeAsync(50);
    await expect(result).resolves.toBe('ok');
    expect(infos).toEqual([{ attempt: 1, error: first, delayMs: 50 }]);
  });

  it('stops waiting and rejects with the reason when the current signal aborts', async () => {
    const controller = new AbortController();
    const fn = flaky(httpError(503), httpError(503));
    const result = runWithSignal(controller.signal, () => retry(fn, { base: 10_000, random: () => 0.5 })());
    const settled = expect(result).rejects.toThrow('caller left');
    await jest.advanceTimersByTimeAsync(1_000);
    controller.abort(new Error('caller left'));
    await settled;
    expect(fn.calls).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps `this` and the arguments on every attempt', async () => {
    const seen: unknown[] = [];
    const target = {
      name: 'target',
      fails: 1,
      async call(this: { name: string; fails: number }, x: number): Promise<string> {
        seen.push([this.name, x]);
        if (this.fails-- > 0) throw httpError(503);
        return `${this.name}:${x}`;
      },
    };
    target.call = retry(target.call, { base: 0 });
    const result = target.call(7);
    await jest.advanceTimersByTimeAsync(0);
    await expect(result).resolves.toBe('target:7');
    expect(seen).toEqual([
      ['target', 7],
      ['target', 7],
    ]);
  });

  it('rejects invalid options with a TypeError naming the option', () => {
    const fn = async (): Promise<void> => {};
    expect(() => retry(fn, { attempts: 0 })).toThrow('Expected `attempts` to be a positive integer, got `0` (number)');
    expect(() => retry(fn, { base: '1s', max: '10ms' })).toThrow(TypeError);
    expect(() => retry(fn, { base: 'soon' })).toThrow(/Expected `base` to be a duration/);
    expect(() => retry(fn, { on: 'all' as never })).toThrow('Expected `on` to be a function');
    expect(() => retry(fn, { atempts: 2 } as never)).toThrow('Unknown @Retry option `atempts`');
  });
});

describe('isTransientError', () => {
  const network = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    ['a 429', true, httpError(429)],
    ['a 408', true, httpError(408)],
    ['a 500', true, httpError(500)],
    ['a 503 via statusCode', true, Object.assign(new Error('x'), { statusCode: 503 })],
    ['a 400', false, httpError(400)],
    ['a 401', false, httpError(401)],
    ['a 404 via response.status', false, Object.assign(new Error('x'), { response: { status: 404 } })],
    ['ECONNRESET', true, network('ECONNRESET')],
    ['ETIMEDOUT', true, network('ETIMEDOUT')],
    ['ECONNREFUSED', true, network('ECONNREFUSED')],
    ["fetch's TypeError with a network cause", true, new TypeError('fetch failed', { cause: network('ECONNREFUSED') })],
    ['a cachet TimeoutError', true, new TimeoutError(100, 'op')],
    ['an error with retryAfterMs', true, Object.assign(new Error('limited'), { retryAfterMs: 10 })],
    ['a TypeError', false, new TypeError('x is not a function')],
    ['a RangeError', false, new RangeError('bad')],
    ['an AbortError', false, Object.assign(new Error('aborted'), { name: 'AbortError' })],
    ['another cachet error', false, new CacheKeyError('args[0]', 'function', 'A.b')],
    ['an unknown error', true, new Error('something odd')],
  ])('retries %s: %s', (_name, expected, error) => {
    expect(isTransientError(error)).toBe(expected);
  });
});

import { currentSignal, runWithSignal } from '../../lib/core/current-signal';
import { isTimeoutError, TimeoutError } from '../../lib/resilience/errors';
import { withTimeout } from '../../lib/resilience/timeout';

/** A function that never settles on its own and records the signal it ran with. */
function hanging() {
  const fn = (): Promise<never> => {
    fn.signals.push(currentSignal());
    return new Promise<never>(() => {});
  };
  fn.signals = [] as (AbortSignal | undefined)[];
  return fn;
}

describe('withTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('rejects with a TimeoutError carrying the limit once the deadline passes, not before', async () => {
    const slow = hanging();
    const result = withTimeout(slow, '2s')();
    let settled = false;
    result.catch(() => (settled = true));
    await jest.advanceTimersByTimeAsync(1_999);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await expect(result).rejects.toThrow(TimeoutError);
    await expect(result).rejects.toMatchObject({ code: 'ERR_CACHET_TIMEOUT', timeoutMs: 2_000, operation: 'fn' });
    await expect(result).rejects.toThrow('fn did not settle within 2000 ms');
  });

  it('aborts the signal the call sees, with the TimeoutError as its reason', async () => {
    const slow = hanging();
    const result = withTimeout(slow, 100, 'complete')();
    const signal = slow.signals[0] as AbortSignal;
    const onAbort = jest.fn();
    signal.addEventListener('abort', onAbort);
    expect(signal.aborted).toBe(false);
    const settled = expect(result).rejects.toThrow('complete did not settle within 100 ms');
    await jest.advanceTimersByTimeAsync(100);
    await settled;
    expect(signal.aborted).toBe(true);
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(isTimeoutError(signal.reason)).toBe(true);
    await expect(result.catch((e: unknown) => e)).resolves.toBe(signal.reason);
  });

  it('clears its timer and leaves the signal alone when the call settles first', async () => {
    let seen: AbortSignal | undefined;
    const quick = withTimeout(async (x: number) => {
      seen = currentSignal();
      return x * 2;
    }, '1m');
    await expect(quick(21)).resolves.toBe(42);
    expect(jest.getTimerCount()).toBe(0);
    expect(seen?.aborted).toBe(false);
    const failing = withTimeout(async () => {
      throw new Error('boom');
    }, '1m');
    await expect(failing()).rejects.toThrow('boom');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('turns a synchronous throw into a rejection and clears the timer', async () => {
    const broken = withTimeout(
      (() => {
        throw new Error('sync');
      }) as () => Promise<void>,
      1_000,
    );
    await expect(broken()).rejects.toThrow('sync');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('gives a nested call a signal that aborts when the outer deadline passes first', async () => {
    const inner = hanging();
    const innerGuarded = withTimeout(inner, '10s', 'inner');
    const outer = withTimeout(() => innerGuarded(), '1s', 'outer');
    const outerResult = outer();
    const innerSignal = inner.signals[0] as AbortSignal;
    const settled = expect(outerResult).rejects.toMatchObject({ operation: 'outer', timeoutMs: 1_000 });
    await jest.advanceTimersByTimeAsync(1_000);
    await settled;
    expect(innerSignal.aborted).toBe(true);
    expect(innerSignal.reason).toMatchObject({ operation: 'outer' });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('gives a nested call a signal that aborts at its own, shorter deadline, leaving the outer one running', async () => {
    const inner = hanging();
    let outerSignal: AbortSignal | undefined;
    let innerError: unknown;
    const innerGuarded = withTimeout(inner, '1s', 'inner');
    const outer = withTimeout(
      async () => {
        outerSignal = currentSignal();
        innerError = await innerGuarded().catch((e: unknown) => e);
        return 'recovered';
      },
      '10s',
      'outer',
    );
    const result = outer();
    await jest.advanceTimersByTimeAsync(1_000);
    await expect(result).resolves.toBe('recovered');
    expect(innerError).toMatchObject({ operation: 'inner', timeoutMs: 1_000 });
    expect((inner.signals[0] as AbortSignal).aborted).toBe(true);
    expect(outerSignal?.aborted).toBe(false);
  });

  it('rejects at once, without calling, inside a scope whose signal has already aborted', async () => {
    const fn = jest.fn(async () => 'ran');
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(runWithSignal(controller.signal, () => withTimeout(fn, 1_000)())).rejects.toThrow('gone');
    expect(fn).not.toHaveBeenCalled();
  });

  it('removes its listener from a long-lived outer signal when each call settles', async () => {
    const controller = new AbortController();
    const add = jest.spyOn(controller.signal, 'addEventListener');
    const remove = jest.spyOn(controller.signal, 'removeEventListener');
    const quick = withTimeout(async () => 'ok', 1_000);
    await runWithSignal(controller.signal, async () => {
      for (let i = 0; i < 3; i++) await quick();
    });
    expect(add).toHaveBeenCalledTimes(3);
    expect(remove).toHaveBeenCalledTimes(3);
  });

  it('keeps `this` and the arguments', async () => {
    const target = {
      prefix: 'p',
      run: withTimeout(async function (this: { prefix: string }, x: string) {
        return `${this.prefix}:${x}`;
      }, 1_000),
    };
    await expect(target.run('x')).resolves.toBe('p:x');
  });

  it('rejects a zero, negative or unreadable duration with a TypeError', () => {
    const fn = async (): Promise<void> => {};
    expect(() => withTimeout(fn, 0)).toThrow(
      'Expected `duration` to be a duration between 1 ms and 2147483647 ms, got `0` (number)',
    );
    expect(() => withTimeout(fn, -5)).toThrow(TypeError);
    expect(() => withTimeout(fn, 'later')).toThrow(TypeError);
    expect(() => withTimeout(fn, '30d')).toThrow(TypeError);
  });
});

describe('currentSignal', () => {
  it('is undefined outside any timeout or signal scope', () => {
    expect(currentSignal()).toBeUndefined();
  });

  it('is the given signal inside runWithSignal, across awaits', async () => {
    const controller = new AbortController();
    const seen = await runWithSignal(controller.signal, async () => {
      await Promise.resolve();
      return currentSignal();
    });
    expect(seen).toBe(controller.signal);
  });
});

import { concurrencyOf, limitConcurrency } from '../../lib/concurrency/concurrency';
import { QueueTimeoutError } from '../../lib/concurrency/concurrency-errors';
import { LocalSemaphore } from '../../lib/concurrency/local-semaphore';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A function that records how many of its calls overlap. */
function gauge() {
  const state = { running: 0, peak: 0, calls: 0 };
  const fn = async (ms: number, fail = false): Promise<number> => {
    state.calls++;
    state.running++;
    state.peak = Math.max(state.peak, state.running);
    await new Promise((resolve) => setTimeout(resolve, ms));
    state.running--;
    if (fail) throw new Error('provider error');
    return ms;
  };
  return { state, fn };
}

describe('limitConcurrency', () => {
  afterEach(() => jest.useRealTimers());

  it('never runs more than max calls at once under 200 concurrent calls', async () => {
    jest.useFakeTimers();
    const { state, fn } = gauge();
    const limited = limitConcurrency(fn, { max: 3 });
    const all = Promise.all(Array.from({ length: 200 }, (_, i) => limited(1 + (i % 7))));
    await jest.advanceTimersByTimeAsync(2_000);
    await all;
    expect(state.calls).toBe(200);
    expect(state.peak).toBe(3);
    expect(limited.inFlight).toBe(0);
    expect(limited.queued).toBe(0);
  });

  it('releases the slot exactly once when the call resolves or throws', async () => {
    jest.useFakeTimers();
    const { state, fn } = gauge();
    const limited = limitConcurrency(fn, { max: 2 });
    const results = Promise.allSettled(Array.from({ length: 10 }, (_, i) => limited(10, i % 2 === 0)));
    await jest.advanceTimersByTimeAsync(100);
    const settled = await results;
    expect(settled.filter((r) => r.status === 'rejected')).toHaveLength(5);
    expect(state.peak).toBe(2);
    expect(limited.inFlight).toBe(0);
    // A leaked or doubly released slot would show here: exactly max run at once, still.
    const again = Promise.all(Array.from({ length: 6 }, () => limited(10)));
    await jest.advanceTimersByTimeAsync(0);
    expect(limited.inFlight).toBe(2);
    expect(limited.queued).toBe(4);
    await jest.advanceTimersByTimeAsync(100);
    await again;
    expect(limited.inFlight).toBe(0);
  });

  it('rejects a caller with QueueTimeoutError after queueTimeout without ever running it', async () => {
    jest.useFakeTimers();
    const { state, fn } = gauge();
    const limited = limitConcurrency(fn, { max: 1, queueTimeout: 1_000 });
    const slow = limited(5_000);
    const waiting = limited(1).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(await waiting).toBeInstanceOf(QueueTimeoutError);
    await jest.advanceTimersByTimeAsync(4_000);
    await slow;
    expect(state.calls).toBe(1);
    expect(limited.inFlight).toBe(0);
  });

  it('caps per key with the key function, called with this and the arguments', async () => {
    const gate: Array<() => void> = [];
    const seenThis: unknown[] = [];
    const model = { name: 'client' };
    const limited = limitConcurrency(
      function (this: unknown, _model: string): Promise<void> {
        return new Promise<void>((resolve) => gate.push(resolve));
      },
      {
        max: 1,
        key(this: unknown, m: string) {
          seenThis.push(this);
          return m;
        },
      },
    );
    const calls = ['a', 'b', 'a', 'c', 'b'].map((m) => limited.call(model, m));
    await tick();
    expect(gate).toHaveLength(3);
    expect(limited.semaphore.usage('a')).toEqual({ inFlight: 1, queued: 1 });
    expect(seenThis.every((t) => t === model)).toBe(true);
    while (gate.length > 0) {
      gate.shift()!();
      await tick();
    }
    await Promise.all(calls);
    expect(limited.inFlight).toBe(0);
  });

  it('takes a waiter out of the queue when the signal picked from its arguments aborts', async () => {
    const limited = limitConcurrency(async (_signal?: AbortSignal) => new Promise<void>(() => {}), {
      max: 1,
      signal: (signal?: AbortSignal) => signal,
    });
    void limited();
    const controller = new AbortController();
    const waiting = limited(controller.signal);
    await tick();
    expect(limited.queued).toBe(1);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    expect(limited.queued).toBe(0);
  });

  it('uses a given semaphore, shared by every function wrapped with it', async () => {
    const semaphore = new LocalSemaphore({ max: 1 });
    const never = () => new Promise<void>(() => {});
    const a = limitConcurrency(never, { semaphore });
    const b = limitConcurrency(never, { semaphore });
    void a();
    void b();
    await tick();
    expect(semaphore.usage()).toEqual({ inFlight: 1, queued: 1 });
    expect(concurrencyOf(b)).toBe(semaphore);
    expect(concurrencyOf(() => 1)).toBeUndefined();
  });

  it('rejects limits beside a semaphore, unknown options and a non-function key with TypeErrors', () => {
    const semaphore = new LocalSemaphore({ max: 1 });
    const fn = async () => 1;
    expect(() => limitConcurrency(fn, { semaphore, max: 2 })).toThrow(
      'Expected `max` to be undefined when `semaphore` is given, got `2` (number)',
    );
    expect(() => limitConcurrency(fn, { max: 1, maxQeue: 2 } as never)).toThrow(
      /Unknown @Concurrency option `maxQeue`/,
    );
    expect(() => limitConcurrency(fn, { max: 1, key: 'model' as never })).toThrow(
      'Expected `key` to be a function, got `"model"` (string)',
    );
    expect(() => limitConcurrency(fn, { semaphore: {} as never })).toThrow(TypeError);
  });

  it('rejects the call with a TypeError when the key function returns a non-string', async () => {
    const limited = limitConcurrency(async (n: number) => n, { max: 1, key: (n: number) => n as never });
    await expect(limited(3)).rejects.toThrow('Expected `key(...)` to be a string, got `3` (number)');
    expect(limited.inFlight).toBe(0);
  });
});

import { isStoreTimeoutError } from '../../lib/core/errors';
import { PROGRESS_CAP, TimeoutSweeper } from '../../lib/redis/timeout-sweeper';
import { deferred } from '../support/async';

/** Settles with the outcome, to look at it without awaiting a pending promise. */
function track<T>(promise: Promise<T>): { settled: boolean; error?: unknown } {
  const state: { settled: boolean; error?: unknown } = { settled: false };
  promise.then(
    () => (state.settled = true),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('TimeoutSweeper', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('times out an operation of a connection that stops answering, within 1.25 timeouts', async () => {
    const sweeper = new TimeoutSweeper(100);
    const stuck = track(sweeper.guard(deferred<void>().promise, 'get', 'k'));
    await jest.advanceTimersByTimeAsync(100);
    expect(stuck.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(25);
    expect(isStoreTimeoutError(stuck.error)).toBe(true);
    sweeper.stop();
  });

  it('keeps waiting while other operations of the connection keep settling: queued behind large replies is not slow', async () => {
    const sweeper = new TimeoutSweeper(100);
    const queued = deferred<string>();
    const waiting = track(sweeper.guard(queued.promise, 'get', 'queued'));
    // Replies ahead of it arrive one every 80 ms, for 5 timeouts in all.
    for (let t = 0; t < 500; t += 80) {
      const ahead = deferred<void>();
      void sweeper.guard(ahead.promise, 'get', 'ahead');
      await jest.advanceTimersByTimeAsync(80);
      ahead.resolve();
      await Promise.resolve();
    }
    expect(waiting.settled).toBe(false);
    queued.resolve('value');
    await jest.advanceTimersByTimeAsync(0);
    expect(waiting).toEqual({ settled: true });
    sweeper.stop();
  });

  it('times out once progress stops, and never lets an operation wait past the cap however replies trickle', async () => {
    const sweeper = new TimeoutSweeper(100);
    const never = track(sweeper.guard(deferred<void>().promise, 'get', 'never'));
    let elapsed = 0;
    while (!never.settled && elapsed < 100 * (PROGRESS_CAP + 2)) {
      const ahead = deferred<void>();
      void sweeper.guard(ahead.promise, 'get', 'ahead');
      await jest.advanceTimersByTimeAsync(50);
      ahead.resolve();
      await Promise.resolve();
      elapsed += 50;
    }
    expect(isStoreTimeoutError(never.error)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(100 * PROGRESS_CAP);
    expect(elapsed).toBeLessThanOrEqual(100 * PROGRESS_CAP + 50);
    sweeper.stop();
  });
});

import { isQueueFullError, QueueFullError, QueueTimeoutError } from '../../lib/concurrency/concurrency-errors';
import { LocalSemaphore } from '../../lib/concurrency/local-semaphore';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('LocalSemaphore', () => {
  afterEach(() => jest.useRealTimers());

  it('grants max permits at once and queues the next caller until one is released', async () => {
    const semaphore = new LocalSemaphore({ max: 2 });
    const first = await semaphore.acquire();
    await semaphore.acquire();
    let third = false;
    const pending = semaphore.acquire().then((permit) => ((third = true), permit));
    await flush();
    expect(third).toBe(false);
    expect(semaphore.usage()).toEqual({ inFlight: 2, queued: 1 });
    await first.release();
    await pending;
    expect(third).toBe(true);
    expect(semaphore.usage()).toEqual({ inFlight: 2, queued: 0 });
  });

  it('serves waiters in arrival order', async () => {
    const semaphore = new LocalSemaphore({ max: 1 });
    const held = await semaphore.acquire();
    const order: number[] = [];
    const waiters = [0, 1, 2, 3, 4].map((i) =>
      semaphore.acquire().then(async (permit) => {
        order.push(i);
        await permit.release();
      }),
    );
    await held.release();
    await Promise.all(waiters);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(semaphore.inFlight).toBe(0);
  });

  it('does not let a newcomer overtake a waiter when a slot is released', async () => {
    const semaphore = new LocalSemaphore({ max: 1 });
    const held = await semaphore.acquire();
    const order: string[] = [];
    const waiter = semaphore.acquire().then((p) => (order.push('waiter'), p.release()));
    await held.release();
    const newcomer = semaphore.acquire().then((p) => (order.push('newcomer'), p.release()));
    await Promise.all([waiter, newcomer]);
    expect(order).toEqual(['waiter', 'newcomer']);
  });

  it('frees one slot only when a permit is released twice', async () => {
    const semaphore = new LocalSemaphore({ max: 2 });
    const a = await semaphore.acquire();
    await semaphore.acquire();
    const waiters = [semaphore.acquire(), semaphore.acquire()];
    let granted = 0;
    waiters.forEach((w) => void w.then(() => granted++));
    await a.release();
    await a.release();
    await flush();
    expect(a.released).toBe(true);
    expect(granted).toBe(1);
    expect(semaphore.usage()).toEqual({ inFlight: 2, queued: 1 });
  });

  it('rejects at once with QueueFullError when maxQueue callers already wait', async () => {
    const semaphore = new LocalSemaphore({ max: 1, maxQueue: 2 });
    await semaphore.acquire();
    void semaphore.acquire();
    void semaphore.acquire();
    const error = await semaphore.acquire().catch((e: unknown) => e);
    expect(isQueueFullError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_CACHET_QUEUE_FULL', max: 1, maxQueue: 2, key: undefined });
    expect(semaphore.queued).toBe(2);
  });

  it('rejects every waiting caller when maxQueue is 0', async () => {
    const semaphore = new LocalSemaphore({ max: 1, maxQueue: 0 });
    const held = await semaphore.acquire();
    await expect(semaphore.acquire()).rejects.toBeInstanceOf(QueueFullError);
    await held.release();
    await expect(semaphore.acquire()).resolves.toMatchObject({ released: false });
  });

  it('times a waiter out after queueTimeout, and the timed-out waiter never takes a permit later', async () => {
    jest.useFakeTimers();
    const semaphore = new LocalSemaphore({ max: 1, queueTimeout: '5s' });
    const held = await semaphore.acquire();
    const late = semaphore.acquire().catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(4_999);
    expect(semaphore.queued).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    const error = await late;
    expect(error).toBeInstanceOf(QueueTimeoutError);
    expect(error).toMatchObject({ code: 'ERR_CACHET_QUEUE_TIMEOUT', timeoutMs: 5_000 });
    expect(semaphore.queued).toBe(0);
    await held.release();
    expect(semaphore.usage()).toEqual({ inFlight: 0, queued: 0 });
    const next = await semaphore.acquire();
    expect(semaphore.inFlight).toBe(1);
    await next.release();
  });

  it('removes a waiter whose signal aborts and rejects it with the signal reason', async () => {
    const semaphore = new LocalSemaphore({ max: 1 });
    const held = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire({ signal: controller.signal });
    const reason = new Error('caller went away');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(semaphore.queued).toBe(0);
    await held.release();
    expect(semaphore.inFlight).toBe(0);
    await expect(semaphore.acquire({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(semaphore.inFlight).toBe(0);
  });

  it('caps each key separately', async () => {
    const semaphore = new LocalSemaphore({ max: 1, maxQueue: 0 });
    await semaphore.acquire({ key: 'gpt' });
    await expect(semaphore.acquire({ key: 'claude' })).resolves.toMatchObject({ released: false });
    const error = await semaphore.acquire({ key: 'gpt' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ key: 'gpt' });
    expect(semaphore.usage('gpt')).toEqual({ inFlight: 1, queued: 0 });
    expect(semaphore.inFlight).toBe(2);
  });

  it.each([
    [{ max: 0 }, 'Expected `max` to be a positive integer, got `0` (number)'],
    [{}, 'Expected `max` to be a positive integer, got `undefined` (undefined)'],
    [{ max: 1, maxQueue: -1 }, 'Expected `maxQueue` to be an integer >= 0 or Infinity, got `-1` (number)'],
    [{ max: 1, queueTimeout: 'soon' }, 'Expected `queueTimeout` to be a duration'],
  ])('rejects invalid options %j with a TypeError', (options, message) => {
    expect(() => new LocalSemaphore(options)).toThrow(TypeError);
    expect(() => new LocalSemaphore(options)).toThrow(message);
  });
});

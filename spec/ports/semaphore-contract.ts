import { isQueueFullError, isQueueTimeoutError } from '../../lib/concurrency/concurrency-errors';
import type { QueueOptions } from '../../lib/concurrency/queue-options';
import type { AcquireOptions, Permit, Semaphore } from '../../lib/ports/semaphore';
import { deferred, eventually } from '../support/async';

/** What the contract needs from each semaphore under test. */
export interface SemaphoreFixture {
  /** A new semaphore with these queue options, its slots shared with no other test. */
  semaphore(options: QueueOptions): Semaphore;
  /** Closes what the fixture opened (and fails the test if the semaphore did not do its work itself). Called after every test. */
  cleanup(): Promise<void>;
}

/** Promises an implementation makes beyond the port's, known when the suite is declared. */
export interface SemaphoreTraits {
  /** Waiters of one key get slots in arrival order and a newcomer never overtakes them (one process, one queue). */
  readonly fifo: boolean;
  /**
   * The queue timeout runs on timers Jest can fake. Otherwise (a Redis semaphore, whose client needs real
   * timers) the contract gives it a short real timeout and checks only the outcome.
   */
  readonly fakeTimers: boolean;
}

/**
 * The behaviour every {@link Semaphore} shares, run once per implementation. A waiter is "queued" once
 * `usage().queued` counts it: at once for a local semaphore, after its first refused attempt for a Redis
 * one, so the contract waits for that count before it acts, never for a fixed time.
 */
export function describeSemaphore(
  name: string,
  factory: () => Promise<SemaphoreFixture>,
  traits: SemaphoreTraits,
): void {
  describe(`${name} (Semaphore contract)`, () => {
    let fixture: SemaphoreFixture;
    beforeEach(async () => {
      fixture = await factory();
    });
    afterEach(async () => {
      jest.useRealTimers();
      await fixture.cleanup();
    });

    /** Resolves once `key` has `count` waiters. */
    const queued = (semaphore: Semaphore, count: number, key?: string) =>
      eventually(() => semaphore.usage(key).queued === count, 10_000, 2);
    /** An acquire whose outcome the test reads later: the permit, or the error it rejected with. */
    const pending = (semaphore: Semaphore, options?: AcquireOptions) => {
      let settled = false;
      const outcome = semaphore.acquire(options).then(
        (permit) => ((settled = true), permit),
        (error: unknown) => ((settled = true), error),
      );
      return { outcome, settled: () => settled };
    };
    /** Lets waiters take the slot one after another, in whatever order the semaphore serves them. */
    const serveInTurn = async (waiters: Array<ReturnType<typeof pending>>): Promise<void> => {
      const racing = new Map(
        waiters.map((waiter, i) => [i, waiter.outcome.then((permit) => ({ i, permit: permit as Permit }))]),
      );
      while (racing.size > 0) {
        const served = await Promise.race(racing.values());
        racing.delete(served.i);
        await served.permit.release();
      }
    };

    it('grants max permits at once and queues the next caller until one is released', async () => {
      const semaphore = fixture.semaphore({ max: 2 });
      const first = await semaphore.acquire();
      await semaphore.acquire();
      expect(semaphore.usage()).toEqual({ inFlight: 2, queued: 0 });
      const third = pending(semaphore);
      await queued(semaphore, 1);
      expect(third.settled()).toBe(false);
      expect(semaphore.usage()).toEqual({ inFlight: 2, queued: 1 });
      expect(first.released).toBe(false);
      await first.release();
      expect(first.released).toBe(true);
      const permit = (await third.outcome) as Permit;
      expect(permit.released).toBe(false);
      expect(semaphore.usage()).toEqual({ inFlight: 2, queued: 0 });
      expect([semaphore.inFlight, semaphore.queued]).toEqual([2, 0]);
    });

    it('keeps at most max holders while callers come and go, and serves every one of them', async () => {
      const semaphore = fixture.semaphore({ max: 2 });
      /** The holders in the order they got their slot; `leave()` resolves once the slot is given back. */
      const holders: Array<{ leave: () => Promise<void> }> = [];
      let running = 0;
      let peak = 0;
      const call = async (): Promise<void> => {
        const permit = await semaphore.acquire();
        running++;
        peak = Math.max(peak, running);
        const gate = deferred<void>();
        const left = deferred<void>();
        holders.push({ leave: () => (gate.resolve(), left.promise) });
        await gate.promise;
        running--;
        await permit.release();
        left.resolve();
      };
      const calls = Array.from({ length: 7 }, call);
      // Each round: two calls hold their slots; the test lets the oldest go, and a waiter takes its slot.
      for (let left = 7; left > 0; left--) {
        await eventually(() => running === Math.min(2, left), 10_000, 2);
        expect(semaphore.usage()).toEqual({ inFlight: Math.min(2, left), queued: Math.max(0, left - 2) });
        await holders.shift()!.leave();
      }
      await Promise.all(calls);
      expect(peak).toBe(2);
      expect(semaphore.usage()).toEqual({ inFlight: 0, queued: 0 });
    });

    it('frees one slot only when a permit is released twice', async () => {
      const semaphore = fixture.semaphore({ max: 2, maxQueue: 0 });
      const first = await semaphore.acquire();
      const second = await semaphore.acquire();
      await first.release();
      await first.release();
      expect(first.released).toBe(true);
      expect(semaphore.usage()).toEqual({ inFlight: 1, queued: 0 });
      const third = await semaphore.acquire();
      await expect(semaphore.acquire()).rejects.toMatchObject({ code: 'ERR_CACHET_QUEUE_FULL' });
      expect(semaphore.inFlight).toBe(2);
      await Promise.all([second.release(), third.release()]);
      expect(semaphore.inFlight).toBe(0);
    });

    it('hands one slot to one waiter only when a permit is released twice', async () => {
      const semaphore = fixture.semaphore({ max: 2 });
      const first = await semaphore.acquire();
      const second = await semaphore.acquire();
      const waiters = [pending(semaphore)];
      await queued(semaphore, 1);
      waiters.push(pending(semaphore));
      await queued(semaphore, 2);
      await first.release();
      await first.release();
      const served = (await Promise.race(waiters.map((w) => w.outcome))) as Permit;
      expect(semaphore.usage()).toEqual({ inFlight: 2, queued: 1 });
      const rest = waiters.filter((w) => !w.settled());
      expect(rest).toHaveLength(1);
      await second.release();
      const last = (await rest[0]!.outcome) as Permit;
      await Promise.all([served.release(), last.release()]);
      expect(semaphore.usage()).toEqual({ inFlight: 0, queued: 0 });
    });

    it('rejects at once with QueueFullError when maxQueue callers already wait', async () => {
      const semaphore = fixture.semaphore({ max: 1, maxQueue: 2 });
      const held = await semaphore.acquire();
      const waiters = [pending(semaphore)];
      await queued(semaphore, 1);
      waiters.push(pending(semaphore));
      await queued(semaphore, 2);
      const error = await semaphore.acquire().catch((e: unknown) => e);
      expect(isQueueFullError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'ERR_CACHET_QUEUE_FULL', max: 1, maxQueue: 2, key: undefined });
      expect(semaphore.usage()).toEqual({ inFlight: 1, queued: 2 });
      await held.release();
      await serveInTurn(waiters);
      expect(semaphore.usage()).toEqual({ inFlight: 0, queued: 0 });
    });

    it('with maxQueue 0 refuses every caller while the slots are taken, and admits one once a slot is free', async () => {
      const semaphore = fixture.semaphore({ max: 1, maxQueue: 0 });
      const held = await semaphore.acquire();
      await expect(semaphore.acquire()).rejects.toMatchObject({ code: 'ERR_CACHET_QUEUE_FULL' });
      expect(semaphore.usage()).toEqual({ inFlight: 1, queued: 0 });
      await held.release();
      const next = await semaphore.acquire();
      expect(next.released).toBe(false);
      await next.release();
    });

    it('times a waiter out after queueTimeout, and the timed-out waiter never takes a permit later', async () => {
      const timeoutMs = traits.fakeTimers ? 5_000 : 100;
      if (traits.fakeTimers) jest.useFakeTimers();
      const semaphore = fixture.semaphore({ max: 1, queueTimeout: timeoutMs });
      const held = await semaphore.acquire();
      const late = pending(semaphore);
      if (traits.fakeTimers) {
        await jest.advanceTimersByTimeAsync(timeoutMs - 1);
        expect(late.settled()).toBe(false);
        expect(semaphore.queued).toBe(1);
        await jest.advanceTimersByTimeAsync(1);
      }
      const error = await late.outcome;
      expect(isQueueTimeoutError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'ERR_CACHET_QUEUE_TIMEOUT', timeoutMs, key: undefined });
      expect(semaphore.usage()).toEqual({ inFlight: 1, queued: 0 });
      await held.release();
      expect(semaphore.usage()).toEqual({ inFlight: 0, queued: 0 });
      const next = await semaphore.acquire();
      expect(semaphore.inFlight).toBe(1);
      await next.release();
    });

    it('removes a waiter whose signal aborts and rejects it with the signal reason', async () => {
      const semaphore = fixture.semaphore({ max: 1 });
      const held = await semaphore.acquire();
      const controller = new AbortController();
      const waiting = pending(semaphore, { signal: controller.signal });
      await queued(semaphore, 1);
      const reason = new Error('caller went away');
      controller.abort(reason);
      await expect(waiting.outcome).resolves.toBe(reason);
      expect(semaphore.usage()).toEqual({ inFlight: 1, queued: 0 });
      await held.release();
      expect(semaphore.inFlight).toBe(0);
      // The aborted waiter took nothing: the one slot is free for the next caller.
      const next = await semaphore.acquire();
      await next.release();
    });

    it('rejects a caller whose signal already aborted, and it holds nothing', async () => {
      const semaphore = fixture.semaphore({ max: 1 });
      const reason = new Error('gone before it asked');
      await expect(semaphore.acquire({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(semaphore.usage()).toEqual({ inFlight: 0, queued: 0 });
      const permit = await semaphore.acquire();
      await permit.release();
    });

    it('caps each key separately and counts usage per key and in total', async () => {
      const semaphore = fixture.semaphore({ max: 1, maxQueue: 1 });
      const gpt = await semaphore.acquire({ key: 'gpt' });
      const claude = await semaphore.acquire({ key: 'claude' });
      const waiting = pending(semaphore, { key: 'gpt' });
      await queued(semaphore, 1, 'gpt');
      await expect(semaphore.acquire({ key: 'gpt' })).rejects.toMatchObject({
        code: 'ERR_CACHET_QUEUE_FULL',
        key: 'gpt',
      });
      expect(semaphore.usage('gpt')).toEqual({ inFlight: 1, queued: 1 });
      expect(semaphore.usage('claude')).toEqual({ inFlight: 1, queued: 0 });
      expect(semaphore.usage()).toEqual({ inFlight: 0, queued: 0 });
      expect([semaphore.inFlight, semaphore.queued]).toEqual([2, 1]);
      // A slot freed on one key serves that key's waiter, not another key's.
      await claude.release();
      expect(waiting.settled()).toBe(false);
      await gpt.release();
      await ((await waiting.outcome) as Permit).release();
      expect([semaphore.inFlight, semaphore.queued]).toEqual([0, 0]);
    });

    if (traits.fifo) {
      it('serves waiters in arrival order', async () => {
        const semaphore = fixture.semaphore({ max: 1 });
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
        const semaphore = fixture.semaphore({ max: 1 });
        const held = await semaphore.acquire();
        const order: string[] = [];
        const waiter = semaphore.acquire().then((p) => (order.push('waiter'), p.release()));
        await held.release();
        const newcomer = semaphore.acquire().then((p) => (order.push('newcomer'), p.release()));
        await Promise.all([waiter, newcomer]);
        expect(order).toEqual(['waiter', 'newcomer']);
      });
    }
  });
}

import { QueueFullError, QueueTimeoutError } from './concurrency-errors';
import { resolveQueueOptions, type QueueOptions, type ResolvedQueueOptions } from './queue-options';
import { type AcquireOptions, type Permit, type Semaphore } from '../ports/semaphore';

interface Waiter {
  readonly grant: (permit: Permit) => void;
  readonly leave: () => void;
}

/** One key's slots: a count of holders and the waiters in arrival order. */
interface Slots {
  active: number;
  // A Set keeps insertion order (FIFO) and removes a timed-out waiter from the middle in O(1).
  readonly waiters: Set<Waiter>;
}

class LocalPermit implements Permit {
  #released = false;
  constructor(readonly onRelease: () => void) {}

  get released(): boolean {
    return this.#released;
  }

  release(): Promise<void> {
    if (!this.#released) {
      this.#released = true;
      this.onRelease();
    }
    return Promise.resolve();
  }
}

/**
 * An in-process {@link Semaphore}: `max` slots per key, a FIFO queue bounded by `maxQueue`, a queue
 * timeout and `AbortSignal` support, where a waiter that gives up leaves the queue at once.
 *
 * Written here rather than on async-mutex's `Semaphore` or p-limit: neither can drop one waiter from
 * its queue (async-mutex only cancels every waiter, p-limit only clears the whole queue), and a waiter
 * left in place would later take a slot and hand it on, so `queued` would lie and a slot would
 * briefly be held by nobody. A released slot goes straight to the first waiter, so a newcomer never
 * overtakes the queue.
 *
 * @example
 * const slots = new LocalSemaphore({ max: 4, maxQueue: 100, queueTimeout: '30s' });
 * const permit = await slots.acquire({ key: model });
 * try { return await callModel(model) } finally { void permit.release() }
 */
export class LocalSemaphore implements Semaphore {
  readonly #options: ResolvedQueueOptions;
  readonly #slots = new Map<string, Slots>();
  #inFlight = 0;
  #queued = 0;

  constructor(options: QueueOptions) {
    this.#options = resolveQueueOptions(options);
  }

  get max(): number {
    return this.#options.max;
  }
  get inFlight(): number {
    return this.#inFlight;
  }
  get queued(): number {
    return this.#queued;
  }

  usage(key = ''): { inFlight: number; queued: number } {
    const slots = this.#slots.get(key);
    return { inFlight: slots?.active ?? 0, queued: slots?.waiters.size ?? 0 };
  }

  acquire(options: AcquireOptions = {}): Promise<Permit> {
    const { key = '', signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let slots = this.#slots.get(key);
    if (slots === undefined) this.#slots.set(key, (slots = { active: 0, waiters: new Set() }));
    if (slots.active < this.#options.max) {
      slots.active++;
      this.#inFlight++;
      return Promise.resolve(this.#permit(key, slots));
    }
    if (slots.waiters.size >= this.#options.maxQueue) {
      return Promise.reject(new QueueFullError(key || undefined, this.#options.max, this.#options.maxQueue));
    }
    return this.#enqueue(key, slots, signal);
  }

  #enqueue(key: string, slots: Slots, signal: AbortSignal | undefined): Promise<Permit> {
    return new Promise<Permit>((resolve, reject) => {
      const { queueTimeoutMs } = this.#options;
      let timer: NodeJS.Timeout | undefined;
      const cleanUp = (): void => {
        slots.waiters.delete(waiter);
        this.#queued--;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const giveUp = (error: unknown): void => {
        cleanUp();
        reject(error);
      };
      const onAbort = (): void => giveUp(signal?.reason);
      const waiter: Waiter = {
        grant: (permit) => {
          cleanUp();
          resolve(permit);
        },
        leave: () => giveUp(new QueueTimeoutError(key || undefined, queueTimeoutMs)),
      };
      slots.waiters.add(waiter);
      this.#queued++;
      if (queueTimeoutMs !== Infinity) {
        timer = setTimeout(waiter.leave, queueTimeoutMs);
        timer.unref();
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #permit(key: string, slots: Slots): Permit {
    return new LocalPermit(() => {
      const next = slots.waiters.values().next();
      if (!next.done) {
        // Hand the slot over without freeing it: `active` and `inFlight` stay the same.
        next.value.grant(this.#permit(key, slots));
        return;
      }
      slots.active--;
      this.#inFlight--;
      if (slots.active === 0) this.#slots.delete(key);
    });
  }
}

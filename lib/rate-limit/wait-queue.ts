import type { RateDecision } from '../ports/rate-limiter';

interface Waiter<D> {
  readonly cost: number;
  readonly resolve: (decision: D) => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

/** What a {@link WaitQueue} needs from its owner. */
export interface WaitQueueHooks<D extends RateDecision = RateDecision> {
  /** One decision for the head waiter; may reject (a store failure under `onStoreError: 'deny'`). */
  decide(cost: number): Promise<D>;
  /** The error for a waiter that gave up; `retryAfterMs` is the time until the queue's next attempt. */
  giveUp(retryAfterMs: number): Error;
  /** The queue is empty and idle; the owner may drop it. */
  onIdle(): void;
}

/**
 * The callers waiting on one rate-limit key, served first come first served. Only the head asks the
 * limiter, and only when its last denial said it could fit (`retryAfterMs`), so a queue of a thousand
 * costs one decision per admission, not one per waiter. A waiter that gives up leaves at once; if it was
 * the head, the next one asks straight away instead of inheriting the old head's wait. Timers stay
 * ref'd while anyone waits, as a `sleep` would: a pending promise alone does not keep Node running, so a
 * process whose only work is queued here would otherwise exit with its calls unsettled. Every timer is
 * cleared when its waiter leaves.
 *
 * @example
 * const queue = new WaitQueue({ decide: (cost) => limiter.decide(key, rule, cost), giveUp, onIdle });
 * await queue.wait(1, 30_000, denial.retryAfterMs);
 */
export class WaitQueue<D extends RateDecision = RateDecision> {
  readonly #waiters: Waiter<D>[] = [];
  #retry: NodeJS.Timeout | undefined;
  #nextAttemptAt = 0;
  #deciding = false;
  #soon = false;
  /** A refund arrived while a decision was out: its denial may be stale, so ask again at once. */
  #freed = false;

  constructor(private readonly hooks: WaitQueueHooks<D>) {}

  get length(): number {
    return this.#waiters.length;
  }

  /**
   * Resolves with the admitting decision when `cost` units were charged for this caller, or rejects after `maxWaitMs`. `retryAfterMs`
   * is the caller's own denial when it found the queue empty: the first attempt is due then.
   */
  wait(cost: number, maxWaitMs: number, retryAfterMs = 0): Promise<D> {
    return new Promise<D>((resolve, reject) => {
      const waiter: Waiter<D> = { cost, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => this.#abandon(waiter), maxWaitMs);
      this.#waiters.push(waiter);
      if (this.#waiters.length === 1 && !this.#deciding) this.#schedule(retryAfterMs);
    });
  }

  /**
   * Units were given back on the key (a corrected reservation): the head asks again now rather than at
   * the time its last denial named, which the refund may have brought forward.
   */
  freed(): void {
    if (this.#deciding) this.#freed = true;
    else if (this.#waiters.length > 0) this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#nextAttemptAt = Date.now() + delayMs;
    if (delayMs > 0) {
      this.#retry = setTimeout(() => void this.#pump(), delayMs);
      return;
    }
    // "Now" goes through a microtask, not a 0 ms timer: the next waiter asks at once, and the guard keeps
    // two pumps from deciding for one head.
    if (this.#soon) return;
    this.#soon = true;
    queueMicrotask(() => {
      this.#soon = false;
      void this.#pump();
    });
  }

  #abandon(waiter: Waiter<D>): void {
    const index = this.#waiters.indexOf(waiter);
    if (index < 0) return;
    this.#waiters.splice(index, 1);
    waiter.reject(this.hooks.giveUp(Math.max(0, this.#nextAttemptAt - Date.now())));
    // A pump that is deciding sees the change when its decision returns.
    if (this.#deciding) return;
    if (this.#waiters.length === 0) {
      clearTimeout(this.#retry);
      this.#retry = undefined;
      this.hooks.onIdle();
    } else if (index === 0) {
      this.#schedule(0);
    }
  }

  /** Admits head waiters while they fit; then waits for the head's retry time. */
  async #pump(): Promise<void> {
    this.#retry = undefined;
    this.#deciding = true;
    try {
      for (;;) {
        const head = this.#waiters[0];
        if (head === undefined) return this.hooks.onIdle();
        let decision: D;
        this.#freed = false;
        try {
          decision = await this.hooks.decide(head.cost);
        } catch (error) {
          if (this.#remove(head)) head.reject(error);
          continue;
        }
        // The head may have given up while the decision was out; its units are then spent on nobody,
        // which errs on the safe side of the limit.
        if (decision.allowed) {
          if (this.#remove(head)) head.resolve(decision);
          continue;
        }
        if (this.#waiters.length === 0) return this.hooks.onIdle();
        if (this.#freed) continue;
        return this.#schedule(decision.retryAfterMs);
      }
    } finally {
      this.#deciding = false;
    }
  }

  #remove(waiter: Waiter<D>): boolean {
    const index = this.#waiters.indexOf(waiter);
    if (index < 0) return false;
    this.#waiters.splice(index, 1);
    clearTimeout(waiter.timer);
    return true;
  }
}

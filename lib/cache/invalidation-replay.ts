import { InvalidationQueuedError, type StoreError } from '../core/errors';

/** Most invalidations waiting for the store at once; past it a failed one is refused with its own error. */
export const REPLAY_LIMIT = 1_000;
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 2_000;

interface Pending {
  readonly run: () => Promise<unknown>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Invalidations that could not reach the store, replayed in order until they do. A failed invalidation
 * is neither dropped nor left to the caller's retry loop: the caller is told at once (an
 * {@link InvalidationQueuedError}), and the operation runs again after 100 ms, then with backoff up to 2 s,
 * while the store stays down (its breaker makes each attempt cheap). Replaying is safe because
 * invalidations are idempotent: removing an entry twice removes it once.
 */
export class InvalidationReplay {
  readonly #queue: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delayMs = FIRST_DELAY_MS;
  #draining = false;

  constructor(readonly limit = REPLAY_LIMIT) {}

  /** How many invalidations wait for the store. */
  get size(): number {
    return this.#queue.length;
  }

  /**
   * Queues `run`, which failed with `error`, and returns the error to give the caller: an
   * {@link InvalidationQueuedError}, or `error` itself when the queue is full (nothing is queued then).
   */
  defer(operation: string, key: string | undefined, run: () => Promise<unknown>, error: StoreError): StoreError {
    if (this.#queue.length >= this.limit) return error;
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const applied = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Nobody has to await it: a caller that only wanted to know it failed must not get an unhandled rejection.
    applied.catch(() => {});
    this.#queue.push({ run, resolve, reject });
    this.#schedule();
    return new InvalidationQueuedError(operation, key, applied, error);
  }

  /** Tries what waits once more, then gives up on the rest: their `applied` rejects. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length > 0 && !this.#draining) await this.#drain(false);
    for (const pending of this.#queue.splice(0)) {
      pending.reject(new Error('The cache closed before the invalidation could reach the store'));
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#draining) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#drain(true);
    }, this.#delayMs);
    this.#timer.unref();
  }

  async #drain(again: boolean): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const head = this.#queue[0] as Pending;
        try {
          await head.run();
        } catch {
          this.#delayMs = Math.min(this.#delayMs * 2, MAX_DELAY_MS);
          return;
        }
        this.#queue.shift();
        this.#delayMs = FIRST_DELAY_MS;
        head.resolve();
      }
    } finally {
      this.#draining = false;
      if (again && this.#queue.length > 0) this.#schedule();
    }
  }
}

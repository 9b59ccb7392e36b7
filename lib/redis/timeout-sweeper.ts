import { StoreTimeoutError } from '../core/errors';

interface Tracked {
  readonly born: number;
  readonly reject: (error: unknown) => void;
  readonly operation: string;
  readonly key: string | undefined;
}

/** Sweeps per timeout; an operation times out after between SWEEPS and SWEEPS + 1 sweep periods. */
const SWEEPS = 4;

/**
 * Bounds operations by a timeout without a timer per operation: a setTimeout/clearTimeout pair costs
 * several microseconds, a tenth of a loopback round trip. One interval ticks every timeout/4 while
 * operations are pending; each operation remembers the tick it started at and is rejected with
 * {@link StoreTimeoutError} once four ticks have passed, so the effective timeout lies between the
 * configured one and 1.25 times it. No clock is read per operation.
 */
export class TimeoutSweeper {
  readonly #live = new Set<Tracked>();
  readonly #periodMs: number;
  #tick = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {
    this.#periodMs = Math.max(1, Math.floor(timeoutMs / SWEEPS));
  }

  /** Settles like `promise`, or rejects with {@link StoreTimeoutError} once the timeout has passed. */
  guard<T>(promise: Promise<T>, operation: string, key?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const tracked: Tracked = { born: this.#tick, reject, operation, key };
      this.#live.add(tracked);
      if (this.#timer === undefined) {
        this.#timer = setInterval(this.#sweep, this.#periodMs);
        this.#timer.unref();
      }
      promise.then(
        (value) => {
          this.#live.delete(tracked);
          resolve(value);
        },
        (error: unknown) => {
          this.#live.delete(tracked);
          reject(error);
        },
      );
    });
  }

  readonly #sweep = (): void => {
    this.#tick++;
    if (this.#live.size === 0) {
      // Stopped lazily, on an idle tick, so steady traffic never re-creates the interval.
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    for (const tracked of this.#live) {
      if (this.#tick - tracked.born > SWEEPS) {
        this.#live.delete(tracked);
        tracked.reject(new StoreTimeoutError(tracked.operation, tracked.key, this.timeoutMs));
      }
    }
  };

  /** Stops the interval (pending operations are left to settle on their own). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

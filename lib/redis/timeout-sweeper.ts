import { StoreTimeoutError } from '../core/errors';

interface Tracked {
  readonly born: number;
  readonly reject: (error: unknown) => void;
  readonly operation: string;
  readonly key: string | undefined;
}

/** Sweeps per timeout; an operation times out after between SWEEPS and SWEEPS + 1 sweep periods. */
const SWEEPS = 4;
/** However the connection progresses, no operation waits longer than this many timeouts. */
export const PROGRESS_CAP = 10;

/**
 * Bounds operations by a timeout without a timer per operation: a setTimeout/clearTimeout pair costs
 * several microseconds, a tenth of a loopback round trip. One interval ticks every timeout/4 while
 * operations are pending; each operation remembers the tick it started at. No clock is read per operation.
 *
 * An operation times out when it is older than the timeout (four ticks) **and** no operation of the
 * connection settled during the last four ticks: Redis answers a connection's commands in order, so
 * while replies keep arriving, a command waiting behind large replies (or behind the client decoding
 * them) is queued, not lost, and Redis is not slow. A connection that stops answering times out every
 * waiting operation after one timeout, as before. However replies trickle in, no operation waits longer
 * than {@link PROGRESS_CAP} timeouts. The event loop being blocked (by the client's own work) adds one
 * tick however long it lasts, so it never makes an operation time out by itself.
 */
export class TimeoutSweeper {
  readonly #live = new Set<Tracked>();
  readonly #periodMs: number;
  #tick = 0;
  /** The tick at which an operation last succeeded. */
  #progressed = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {
    this.#periodMs = Math.max(1, Math.floor(timeoutMs / SWEEPS));
  }

  /** Settles like `promise`, or rejects with {@link StoreTimeoutError} once the timeout has passed without progress. */
  guard<T>(promise: Promise<T>, operation: string, key?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const tracked: Tracked = { born: this.#tick, reject, operation, key };
      this.#live.add(tracked);
      if (this.#timer === undefined) {
        this.#progressed = this.#tick;
        this.#timer = setInterval(this.#sweep, this.#periodMs);
        this.#timer.unref();
      }
      promise.then(
        (value) => {
          if (this.#live.delete(tracked)) this.#progressed = this.#tick;
          resolve(value);
        },
        (error: unknown) => {
          // A failure is no sign of progress: a node that went away rejects some commands at once (the
          // connection closed) while others stay queued, and those must still time out after one timeout.
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
    const stalled = this.#tick - this.#progressed > SWEEPS;
    for (const tracked of this.#live) {
      const age = this.#tick - tracked.born;
      if ((stalled && age > SWEEPS) || age > SWEEPS * PROGRESS_CAP) {
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

import { Mutex } from 'async-mutex';

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** One fill in progress: its mutex is held by the leader until the outcome is known. */
interface Flight<T> {
  readonly mutex: Mutex;
  outcome: Outcome<T> | undefined;
}

/**
 * Per-key single flight inside one process. The first caller of a key takes the key's mutex and runs the
 * fill; callers that arrive while it runs wait for the mutex to unlock and share the leader's result or
 * error. A key's entry leaves the table as soon as its fill settles, so an idle table is empty.
 */
export class FillTable {
  readonly #flights = new Map<string, Flight<unknown>>();

  /** Whether a fill of `key` is in progress. */
  has(key: string): boolean {
    return this.#flights.has(key);
  }

  /** Keys with a fill in progress. */
  get size(): number {
    return this.#flights.size;
  }

  /**
   * Runs `fill` unless a fill of `key` is already in progress, in which case it waits for that one.
   * `onJoin` is called for each caller that shares another's fill.
   */
  run<T>(key: string, fill: () => Promise<T>, onJoin?: () => void): Promise<T> {
    const current = this.#flights.get(key) as Flight<T> | undefined;
    if (current !== undefined) {
      onJoin?.();
      return this.#join(current);
    }
    const flight: Flight<T> = { mutex: new Mutex(), outcome: undefined };
    this.#flights.set(key, flight);
    return flight.mutex.runExclusive(async () => {
      try {
        const value = await fill();
        flight.outcome = { ok: true, value };
        return value;
      } catch (error) {
        flight.outcome = { ok: false, error };
        throw error;
      } finally {
        // Removed before the mutex unlocks, so a caller arriving after the outcome starts a fresh lookup.
        this.#flights.delete(key);
      }
    });
  }

  async #join<T>(flight: Flight<T>): Promise<T> {
    await flight.mutex.waitForUnlock();
    const outcome = flight.outcome as Outcome<T>;
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }
}

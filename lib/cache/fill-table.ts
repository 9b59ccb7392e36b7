import { Mutex } from 'async-mutex';

/** What a fill produced. `shareable` is false when an invalidation raced it: callers who joined must look again. */
export interface FillOutcome<T> {
  readonly value: T;
  readonly shareable: boolean;
}

type Settled<T> =
  { readonly ok: true; readonly outcome: FillOutcome<T> } | { readonly ok: false; readonly error: unknown };

/** One fill in progress: its mutex is held by the leader until the outcome is known. */
interface Flight<T> {
  readonly mutex: Mutex;
  settled: Settled<T> | undefined;
}

/**
 * Per-key single flight inside one process. The first caller of a key takes the key's mutex and runs the
 * fill; callers that arrive while it runs wait for the mutex to unlock and share the leader's result or
 * error. A key's entry leaves the table as soon as its fill settles, so an idle table is empty.
 *
 * A caller may have joined after an invalidation that the fill, started earlier, could not see: when the
 * fill reports its value not shareable, the joiners each call `again` (a fresh lookup) instead of taking it.
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
   * `onJoin` is called for each caller that shares another's fill; `again` runs for a joiner whose fill
   * turned out not shareable.
   */
  run<T>(key: string, fill: () => Promise<FillOutcome<T>>, again: () => Promise<T>, onJoin?: () => void): Promise<T> {
    const current = this.#flights.get(key) as Flight<T> | undefined;
    if (current !== undefined) {
      onJoin?.();
      return this.#join(current, again);
    }
    const flight: Flight<T> = { mutex: new Mutex(), settled: undefined };
    this.#flights.set(key, flight);
    return flight.mutex.runExclusive(async () => {
      try {
        const outcome = await fill();
        flight.settled = { ok: true, outcome };
        return outcome.value;
      } catch (error) {
        flight.settled = { ok: false, error };
        throw error;
      } finally {
        // Removed before the mutex unlocks, so a caller arriving after the outcome starts a fresh lookup.
        this.#flights.delete(key);
      }
    });
  }

  async #join<T>(flight: Flight<T>, again: () => Promise<T>): Promise<T> {
    await flight.mutex.waitForUnlock();
    const settled = flight.settled as Settled<T>;
    if (!settled.ok) throw settled.error;
    return settled.outcome.shareable ? settled.outcome.value : again();
  }
}

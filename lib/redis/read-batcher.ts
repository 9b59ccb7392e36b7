interface Pending<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function pending<T>(): Pending<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Turns concurrent reads into few round trips, like a pipeline with a Nagle rule:
 * - when no read is on the wire, a read is sent at once (one call at a time pays no batching delay);
 * - while one is, the reads issued meanwhile wait for the end of the tick and go out together (one
 *   `MGET` instead of N `GET`s);
 * - concurrent reads of one key share a single request, including one already on the wire.
 *
 * A write must call {@link ReadBatcher.forget} for its key before it is sent: a read that went out
 * before the write may still sit in the in-flight table when the write's caller resumes (both replies
 * can arrive in one chunk, and promise hops settle the shorter chain first), and must not answer reads
 * made after it.
 */
export class ReadBatcher<T> {
  #queuedKeys: string[] = [];
  #queued: Pending<T>[] = [];
  readonly #byKey = new Map<string, Promise<T>>();
  #onWire = 0;
  #scheduled = false;

  constructor(
    /**
     * Fetches the keys in one round trip, with its own timeout. An `Error` in a slot rejects that key's
     * readers only; a rejection rejects the whole batch.
     */
    private readonly fetch: (keys: string[]) => Promise<(T | Error)[]>,
  ) {}

  read(key: string): Promise<T> {
    const shared = this.#byKey.get(key);
    if (shared !== undefined) return shared;
    const slot = pending<T>();
    this.#byKey.set(key, slot.promise);
    if (this.#onWire === 0 && this.#queuedKeys.length === 0) {
      this.#send([key], [slot]);
    } else {
      this.#queuedKeys.push(key);
      this.#queued.push(slot);
      if (!this.#scheduled) {
        this.#scheduled = true;
        process.nextTick(this.#flush);
      }
    }
    return slot.promise;
  }

  /** Stops sharing the pending read of `key`: later reads go to the server again. */
  forget(key: string): void {
    this.#byKey.delete(key);
  }

  readonly #flush = (): void => {
    const keys = this.#queuedKeys;
    const slots = this.#queued;
    this.#queuedKeys = [];
    this.#queued = [];
    this.#scheduled = false;
    if (keys.length > 0) this.#send(keys, slots);
  };

  #send(keys: string[], slots: Pending<T>[]): void {
    this.#onWire++;
    let call: Promise<(T | Error)[]>;
    try {
      call = this.fetch(keys);
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (results) => {
        this.#settled(keys, slots);
        for (let i = 0; i < slots.length; i++) {
          const result = results[i] as T | Error;
          if (result instanceof Error) (slots[i] as Pending<T>).reject(result);
          else (slots[i] as Pending<T>).resolve(result);
        }
      },
      (error: unknown) => {
        this.#settled(keys, slots);
        for (const slot of slots) slot.reject(error);
      },
    );
  }

  #settled(keys: string[], slots: Pending<T>[]): void {
    this.#onWire--;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      if (this.#byKey.get(key) === (slots[i] as Pending<T>).promise) this.#byKey.delete(key);
    }
  }
}

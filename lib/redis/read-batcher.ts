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
 * Turns the reads issued in one tick into one round trip (one `MGET` instead of N `GET`s), and lets
 * concurrent reads of one key share a single request, including one already on the wire. A write must
 * call {@link ReadBatcher.forget} for its key before it is sent: a read that went out before the write
 * may still sit in the in-flight table when the write's caller resumes (both replies can arrive in one
 * chunk, and promise hops settle the shorter chain first), and must not answer reads made after it.
 */
export class ReadBatcher<T> {
  #queued = new Map<string, Pending<T>>();
  readonly #inFlight = new Map<string, Promise<T>>();
  #scheduled = false;

  constructor(
    /**
     * Fetches the keys in one round trip, with its own timeout. An `Error` in a slot rejects that key's
     * readers only; a rejection rejects the whole batch.
     */
    private readonly fetch: (keys: string[]) => Promise<(T | Error)[]>,
  ) {}

  read(key: string): Promise<T> {
    const shared = this.#inFlight.get(key) ?? this.#queued.get(key)?.promise;
    if (shared !== undefined) return shared;
    const slot = pending<T>();
    this.#queued.set(key, slot);
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flush);
    }
    return slot.promise;
  }

  /** Stops sharing the in-flight read of `key`: later reads go to the server again. */
  forget(key: string): void {
    this.#inFlight.delete(key);
  }

  readonly #flush = (): void => {
    const batch = this.#queued;
    this.#queued = new Map();
    this.#scheduled = false;
    const keys = [...batch.keys()];
    for (const [key, slot] of batch) this.#inFlight.set(key, slot.promise);
    const settle = (key: string, slot: Pending<T>): void => {
      if (this.#inFlight.get(key) === slot.promise) this.#inFlight.delete(key);
    };
    let call: Promise<(T | Error)[]>;
    try {
      call = this.fetch(keys);
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (results) => {
        let i = 0;
        for (const [key, slot] of batch) {
          const result = results[i++] as T | Error;
          settle(key, slot);
          if (result instanceof Error) slot.reject(result);
          else slot.resolve(result);
        }
      },
      (error: unknown) => {
        for (const [key, slot] of batch) {
          settle(key, slot);
          slot.reject(error);
        }
      },
    );
  };
}

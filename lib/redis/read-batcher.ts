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

/** Bounds of one batch; see {@link ReadBatcher}. */
export interface BatchLimits {
  /** Most keys in one batch. */
  readonly maxKeys: number;
  /** Most known bytes in one batch; a key larger than this alone goes alone. */
  readonly maxBytes: number;
  /** The size a key's value had when last seen, if it was large; `undefined` counts as small. */
  readonly sizeOf: (key: string) => number | undefined;
}

const UNBOUNDED: BatchLimits = { maxKeys: Infinity, maxBytes: Infinity, sizeOf: () => undefined };

/**
 * Turns concurrent reads into few round trips, like a pipeline with a Nagle rule:
 * - when no read is on the wire, a read is sent at once (one call at a time pays no batching delay);
 * - while one is, the reads issued meanwhile wait for the end of the tick and go out together (one
 *   `MGET` instead of N `GET`s);
 * - concurrent reads of one key share a single request, including one already on the wire;
 * - a batch holds at most `maxKeys` keys and `maxBytes` of values known to be large, so that one reply
 *   never grows to tens of megabytes that must all arrive (and be decoded) before any reader is answered.
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
     * Fetches the keys in one round trip, with its own timeout, and resolves their results in order (or
     * hands each to `deliver` as soon as it has it, which answers that key's readers at once). An `Error`
     * in a slot rejects that key's readers only; a rejection rejects the batch's undelivered readers.
     */
    private readonly fetch: (
      keys: string[],
      deliver: (index: number, result: T | Error) => void,
    ) => Promise<(T | Error)[] | void>,
    private readonly limits: BatchLimits = UNBOUNDED,
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
    const { maxKeys, maxBytes, sizeOf } = this.limits;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < keys.length; i++) {
      const size = sizeOf(keys[i] as string) ?? 0;
      if (i > start && (i - start >= maxKeys || bytes + size > maxBytes)) {
        this.#send(keys.slice(start, i), slots.slice(start, i));
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    if (start === 0) {
      if (keys.length > 0) this.#send(keys, slots);
    } else {
      this.#send(keys.slice(start), slots.slice(start));
    }
  };

  #send(keys: string[], slots: Pending<T>[]): void {
    this.#onWire++;
    const settle = (i: number, outcome: { ok: true; value: T } | { ok: false; error: unknown }): void => {
      const slot = slots[i] as Pending<T>;
      const key = keys[i] as string;
      // Answered: later reads of the key go to the server again.
      if (this.#byKey.get(key) === slot.promise) this.#byKey.delete(key);
      if (outcome.ok) slot.resolve(outcome.value);
      else slot.reject(outcome.error);
    };
    const deliver = (i: number, result: T | Error): void =>
      settle(i, result instanceof Error ? { ok: false, error: result } : { ok: true, value: result });
    let call: Promise<(T | Error)[] | void>;
    try {
      call = this.fetch(keys, deliver);
    } catch (error) {
      call = Promise.reject(error);
    }
    // A slot already answered ignores a second resolve or reject.
    call.then(
      (results) => {
        this.#onWire--;
        if (results !== undefined) for (let i = 0; i < slots.length; i++) deliver(i, results[i] as T | Error);
      },
      (error: unknown) => {
        this.#onWire--;
        for (let i = 0; i < slots.length; i++) settle(i, { ok: false, error });
      },
    );
  }
}

/** Values at least this large are remembered by {@link LargeValueSizes}. */
const LARGE_VALUE = 32 * 1024;
/** Most keys remembered; past it the record starts again (cheaper than an LRU, and only an estimate). */
const MAX_REMEMBERED = 4_096;

/**
 * The sizes of the large values a store has read or written lately, by key: what a batch limit by bytes
 * can know before the reply arrives. Small values are not remembered, so this stays empty for most caches.
 */
export class LargeValueSizes {
  readonly #sizes = new Map<string, number>();

  get(key: string): number | undefined {
    return this.#sizes.size === 0 ? undefined : this.#sizes.get(key);
  }

  observe(key: string, size: number): void {
    if (size >= LARGE_VALUE) {
      if (this.#sizes.size >= MAX_REMEMBERED) this.#sizes.clear();
      this.#sizes.set(key, size);
    } else if (this.#sizes.size > 0) {
      this.#sizes.delete(key);
    }
  }
}

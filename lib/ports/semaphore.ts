/**
 * One slot of a {@link Semaphore}, held from `acquire()` until `release()`. Release is idempotent: a
 * second call does nothing, so a `finally` that races a timeout can never free two slots.
 *
 * @example
 * const permit = await semaphore.acquire();
 * try { await work() } finally { void permit.release() }
 */
export interface Permit {
  /** True once `release()` was called. */
  readonly released: boolean;
  /**
   * Gives the slot back (to the next waiter first). Calls after the first do nothing. The promise
   * settles when the slot is free for others (at once for a local semaphore, after the Redis round
   * trip for a Redis one) and never rejects.
   */
  release(): Promise<void>;
}

/**
 * Per-call options of {@link Semaphore.acquire}.
 * @example await semaphore.acquire({ key: request.model, signal: request.signal })
 */
export interface AcquireOptions {
  /** Cap per key (per model, per user): each key has its own `max` slots and its own queue. @default '' (one cap) */
  readonly key?: string;
  /** Aborting it removes the waiter from the queue at once; the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

/**
 * A counting semaphore with a bounded FIFO wait queue. Implementations: `LocalSemaphore` (one
 * process) and `RedisSemaphore` (expiring leases shared by every process on one Redis).
 *
 * @example
 * const permit = await semaphore.acquire({ key: 'gpt-4o' });
 * try { return await callModel() } finally { void permit.release() }
 */
export interface Semaphore {
  /** Slots per key. */
  readonly max: number;
  /** Calls holding a permit from this object now, over all keys (for Redis: in this process). */
  readonly inFlight: number;
  /** Callers waiting in this object's queue now, over all keys (for Redis: in this process). */
  readonly queued: number;
  /** `inFlight` and `queued` of one key. */
  usage(key?: string): { readonly inFlight: number; readonly queued: number };
  /**
   * Waits for a slot. Rejects with `QueueFullError` when the queue is full, `QueueTimeoutError` after
   * `queueTimeout`, or `signal.reason` when the signal aborts; a rejected caller holds nothing.
   */
  acquire(options?: AcquireOptions): Promise<Permit>;
}

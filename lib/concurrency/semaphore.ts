import { parseDuration, type Duration } from '../core/duration';
import { optionError } from '../core/validate';

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
 * A counting semaphore with a bounded FIFO wait queue. Implementations: {@link LocalSemaphore} (one
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

/**
 * Queue options shared by every {@link Semaphore} implementation.
 * @example new LocalSemaphore({ max: 4, maxQueue: 100, queueTimeout: '30s' })
 */
export interface QueueOptions {
  /** Calls in flight at most, per key. Integer >= 1. Required. */
  readonly max?: number;
  /**
   * Callers that may wait for a slot, per key; one more is refused at once with `QueueFullError`.
   * `0` refuses whenever every slot is taken. Unbounded by default, as async-mutex and p-limit are, so
   * that adding `@Concurrency` never makes a call fail that used to succeed; bound it for load shedding.
   * @default Infinity
   */
  readonly maxQueue?: number;
  /**
   * Longest wait in the queue; the caller then leaves it and gets `QueueTimeoutError`.
   * @default Infinity (wait as long as it takes)
   */
  readonly queueTimeout?: Duration;
}

/** {@link QueueOptions} resolved to numbers. @example resolveQueueOptions({ max: 2 }) // { max: 2, maxQueue: Infinity, queueTimeoutMs: Infinity } */
export interface ResolvedQueueOptions {
  readonly max: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
}

/**
 * Validates and resolves queue options once, at construction or decoration time; invalid ones throw a
 * `TypeError`.
 * @example resolveQueueOptions({ max: 2, queueTimeout: '5s' }).queueTimeoutMs // 5_000
 */
export function resolveQueueOptions(options: QueueOptions): ResolvedQueueOptions {
  const { max, maxQueue = Infinity, queueTimeout = Infinity } = options;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max <= 0) {
    throw optionError('max', 'a positive integer', max);
  }
  if (maxQueue !== Infinity && (typeof maxQueue !== 'number' || !Number.isSafeInteger(maxQueue) || maxQueue < 0)) {
    throw optionError('maxQueue', 'an integer >= 0 or Infinity', maxQueue);
  }
  const queueTimeoutMs = queueTimeout === Infinity ? Infinity : parseDuration('queueTimeout', queueTimeout);
  return { max, maxQueue, queueTimeoutMs };
}

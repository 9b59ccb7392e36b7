import { parseDuration, type Duration } from '../core/duration';
import { optionError } from '../core/validate';

/**
 * Queue options shared by every `Semaphore` implementation.
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

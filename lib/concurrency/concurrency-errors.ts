import { CachetError } from '../core/errors';

/**
 * A call was refused at once because every permit was taken and the wait queue already held `maxQueue`
 * callers. Nothing ran; the caller may shed the request or retry later.
 *
 * @example
 * try { await client.complete(prompt) } catch (e) { if (isQueueFullError(e)) return busyAnswer() }
 */
export class QueueFullError extends CachetError {
  readonly code = 'ERR_CACHET_QUEUE_FULL';

  constructor(
    /** The concurrency key (per model, per user), or `undefined` for the whole semaphore. */
    readonly key: string | undefined,
    /** Permits of the semaphore. */
    readonly max: number,
    /** Callers the queue holds at most. */
    readonly maxQueue: number,
  ) {
    super(
      `Concurrency queue${key === undefined ? '' : ` for key \`${key}\``} is full: ` +
        `${max} calls in flight and ${maxQueue} waiting`,
    );
  }
}

/**
 * A queued caller waited `timeoutMs` for a permit without getting one. It has left the queue and will
 * never take a permit; the method did not run.
 *
 * @example
 * if (isQueueTimeoutError(error)) console.warn(`no slot within ${error.timeoutMs} ms`)
 */
export class QueueTimeoutError extends CachetError {
  readonly code = 'ERR_CACHET_QUEUE_TIMEOUT';

  constructor(
    /** The concurrency key, or `undefined` for the whole semaphore. */
    readonly key: string | undefined,
    /** How long the caller waited, ms: the semaphore's `queueTimeout`. */
    readonly timeoutMs: number,
  ) {
    super(`No concurrency permit${key === undefined ? '' : ` for key \`${key}\``} within ${timeoutMs} ms`);
  }
}

/** True for a {@link QueueFullError}. @example if (isQueueFullError(error)) return shed(request) */
export function isQueueFullError(error: unknown): error is QueueFullError {
  return error instanceof QueueFullError;
}

/** True for a {@link QueueTimeoutError}. @example if (isQueueTimeoutError(error)) metrics.queueTimeouts++ */
export function isQueueTimeoutError(error: unknown): error is QueueTimeoutError {
  return error instanceof QueueTimeoutError;
}

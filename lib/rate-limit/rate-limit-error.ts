import { CachetError } from '../core/errors';

/**
 * A call was refused by a rate limit: at once in `mode: 'reject'`, or after `maxWait` in `mode: 'wait'`.
 * `retryAfterMs` says when the same call would be admitted; `@Retry` honours it.
 *
 * @example
 * try { await client.chat(prompt) } catch (error) {
 *   if (isRateLimitError(error)) await sleep(error.retryAfterMs);
 * }
 */
export class RateLimitError extends CachetError {
  readonly code = 'ERR_CACHET_RATE_LIMIT';

  constructor(
    /** The limited key (the default is `Class.method`). */
    readonly key: string,
    /** Ms until the call would be admitted, rounded up; for a waiter that gave up, as of giving up. */
    readonly retryAfterMs: number,
    /** Units per interval of the limit that refused the call. */
    readonly limit: number,
    /** The interval of that limit, ms. */
    readonly intervalMs: number,
    /** Why: `rejected` at once, `timeout` after waiting `maxWait`, `store` when Redis failed and `onStoreError` is `'deny'`. */
    readonly reason: 'rejected' | 'timeout' | 'store' = 'rejected',
    options?: { cause?: unknown },
  ) {
    super(
      reason === 'timeout'
        ? `Rate limit of ${limit} per ${intervalMs} ms on \`${key}\`: gave up waiting; next admission in ${retryAfterMs} ms`
        : reason === 'store'
          ? `Rate limit of ${limit} per ${intervalMs} ms on \`${key}\`: the limiter's store failed and onStoreError is 'deny'`
          : `Rate limit of ${limit} per ${intervalMs} ms on \`${key}\` exceeded; retry after ${retryAfterMs} ms`,
      options,
    );
  }
}

/** True for a {@link RateLimitError}. */
export function isRateLimitError(error: unknown): error is RateLimitError {
  return error instanceof RateLimitError;
}

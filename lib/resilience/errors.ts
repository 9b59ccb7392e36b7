import { CachetError } from '../core/errors';

/**
 * A call guarded by `withTimeout` / `@Timeout` did not settle within its time limit. It is also the
 * `reason` of the call's `currentSignal()`, so work started with that signal sees the same error.
 *
 * @example
 * try { await client.complete(q); } catch (e) { if (isTimeoutError(e)) console.log(e.timeoutMs); }
 */
export class TimeoutError extends CachetError {
  readonly code = 'ERR_CACHET_TIMEOUT';

  constructor(
    /** The time limit that passed, in milliseconds. */
    readonly timeoutMs: number,
    /** What timed out: `Class.method` for a decorated method, else the function's name. */
    readonly operation: string,
  ) {
    super(`${operation} did not settle within ${timeoutMs} ms`);
  }
}

/**
 * Every step of a fallback chain failed: the primary call and each fallback that accepted the error
 * before it. `errors` holds each cause in the order they happened (primary first); `cause` is the last.
 *
 * @example
 * catch (e) { if (isFallbackError(e)) for (const cause of e.errors) log(cause); }
 */
export class FallbackError extends CachetError {
  readonly code = 'ERR_CACHET_FALLBACK';

  constructor(
    /** What failed: `Class.method` for a decorated method, else the function's name. */
    readonly operation: string,
    /** Each step's error, primary first, at least two. */
    readonly errors: readonly unknown[],
  ) {
    super(
      `${operation} failed and so did its fallbacks (${errors.length} errors); last: ${describeError(errors.at(-1))}`,
      { cause: errors.at(-1) },
    );
  }
}

/** True for a {@link TimeoutError}, for example as the `reason` of an aborted {@link AbortSignal}. */
export function isTimeoutError(error: unknown): error is TimeoutError {
  return error instanceof TimeoutError;
}
/** True for a {@link FallbackError}. */
export function isFallbackError(error: unknown): error is FallbackError {
  return error instanceof FallbackError;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

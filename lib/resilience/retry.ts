import { systemClock, type Clock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import { CachetError } from '../core/errors';
import { logEvent } from '../core/logger';
import {
  assertFunction,
  assertKnownOptions,
  assertOptionalFunction,
  assertPlainObject,
  assertPositiveInteger,
  optionError,
  withDefaults,
} from '../core/validate';
import type { AsyncMethod } from '../decorate/method-decorator';
import { createMethodDecorator, type UniversalMethodDecorator } from '../decorate/method-decorator';
import { fullJitterDelay, retryAfterOf } from './backoff';
import { currentSignal } from '../core/current-signal';
import { TimeoutError } from './errors';

/** What {@link RetryOptions.onRetry} receives before each wait. */
export interface RetryInfo {
  /** The attempt that just failed, from 1. */
  readonly attempt: number;
  readonly error: unknown;
  /** How long the retry waits before the next attempt, in milliseconds. */
  readonly delayMs: number;
}

/** Options of {@link retry} and `@Retry`. */
export interface RetryOptions {
  /** Total tries, the first call included; a positive integer. @default 3 */
  readonly attempts?: number;
  /**
   * Backoff before the first retry, before jitter; it doubles with each retry. Milliseconds >= 0 or a
   * string such as `'200ms'`. @default '200ms'
   */
  readonly base?: Duration;
  /** Cap of the exponential backoff, before jitter; at least `base`. @default '10s' */
  readonly max?: Duration;
  /**
   * Cap on a wait an error asks for (`retryAfterMs`, `Retry-After`); the retry waits the larger of the
   * backoff and the (capped) requested delay. @default '1m'
   */
  readonly maxRetryAfter?: Duration;
  /** Decides whether an error is worth another attempt. @default {@link isTransientError} */
  readonly on?: (error: unknown, attempt: number) => boolean;
  /** Source of jitter in `[0, 1)`, injectable for tests. @default Math.random */
  readonly random?: () => number;
  /** Turns a `Retry-After` HTTP date into a delay. @default systemClock */
  readonly clock?: Clock;
  /** Called before each wait, for logs and metrics. An error it throws becomes a process warning. */
  readonly onRetry?: (info: RetryInfo) => void;
}

const DEFAULTS = {
  attempts: 3,
  base: '200ms',
  max: '10s',
  maxRetryAfter: '1m',
  on: isTransientError,
  random: Math.random,
  clock: systemClock,
} as const satisfies RetryOptions;

interface ResolvedRetry {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxRetryAfterMs: number;
  readonly on: (error: unknown, attempt: number) => boolean;
  readonly random: () => number;
  readonly clock: Clock;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
}

/**
 * Wraps an async function so that a failed call is tried again, up to `attempts` tries in all, with
 * capped exponential backoff and full jitter, waiting at least as long as the error asks
 * (`retryAfterMs`, `Retry-After`; see {@link retryAfterOf}). An error that `on` rejects is thrown at once.
 * When every attempt fails, the caller gets the last attempt's error itself, unwrapped, so that `catch`
 * blocks and `@Fallback({ on: [...] })` see the provider's own error class.
 *
 * Retries stop when the call's {@link currentSignal} aborts (an outer `@Timeout`, `runWithSignal`):
 * a pending wait then rejects with the signal's reason.
 *
 * @example
 * const complete = retry(rawComplete, { attempts: 4, base: '500ms' });
 */
export function retry<F extends AsyncMethod>(fn: F, options: RetryOptions = {}): F {
  return retrying(fn, resolveRetryOptions(options));
}

/**
 * Retries the decorated method as {@link retry} does. A thin adapter over {@link retry}; invalid options
 * throw a `TypeError` when the class is defined. Put it outside `@Timeout` for a deadline per attempt,
 * inside it for one deadline over all attempts.
 *
 * @example
 * class Client {
 *   @Retry({ attempts: 4, max: '5s' })
 *   async complete(prompt: string): Promise<string> { ... }
 * }
 */
export function Retry(options: RetryOptions = {}): UniversalMethodDecorator<AsyncMethod> {
  const resolved = resolveRetryOptions(options);
  return createMethodDecorator<AsyncMethod>('retry', options as Record<string, unknown>, (original) =>
    retrying(original, resolved),
  );
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

const PROGRAMMER_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError];

/**
 * The default retry predicate: true for errors that may pass by themselves. In order:
 * - a cachet {@link TimeoutError}, or any error with a numeric `retryAfterMs` (a `RateLimitError`): retry;
 * - HTTP-shaped (`status`, `statusCode` or `response.status`): retry 408, 429 and 5xx only;
 * - a network `code` (ECONNRESET, ETIMEDOUT, ECONNREFUSED, EAI_AGAIN, undici's UND_ERR_*...) on the error
 *   or its `cause` (fetch's `TypeError: fetch failed`): retry;
 * - an `AbortError`, other cachet errors, and programmer errors (TypeError, RangeError, ReferenceError,
 *   SyntaxError): do not retry;
 * - anything else, whose nature is unknown: retry (attempts are bounded anyway).
 *
 * @example
 * retry(fn, { on: (error, attempt) => isTransientError(error) && !(error instanceof QuotaExhausted) })
 */
export function isTransientError(error: unknown): boolean {
  if (error instanceof TimeoutError) return true;
  if (typeof error !== 'object' || error === null) return true;
  const shaped = error as HttpShaped & { retryAfterMs?: unknown };
  if (typeof shaped.retryAfterMs === 'number') return true;
  const status = shaped.status ?? shaped.statusCode ?? shaped.response?.status;
  if (typeof status === 'number') return status === 408 || status === 429 || status >= 500;
  if (hasNetworkCode(error) || hasNetworkCode((error as { cause?: unknown }).cause)) return true;
  if ((error as { name?: unknown }).name === 'AbortError' || error instanceof CachetError) return false;
  return !PROGRAMMER_ERRORS.some((type) => error instanceof type);
}

interface HttpShaped {
  readonly status?: unknown;
  readonly statusCode?: unknown;
  readonly response?: { readonly status?: unknown };
}

function hasNetworkCode(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

const OPTION_NAMES = ['attempts', 'base', 'max', 'maxRetryAfter', 'on', 'random', 'clock', 'onRetry'] as const;

function resolveRetryOptions(options: RetryOptions): ResolvedRetry {
  assertPlainObject('options', options);
  assertKnownOptions('@Retry', options, OPTION_NAMES);
  const merged = withDefaults(DEFAULTS, options);
  assertPositiveInteger('attempts', merged.attempts);
  const baseMs = parseDuration('base', merged.base);
  const maxMs = parseDuration('max', merged.max);
  if (maxMs < baseMs) throw optionError('max', `a duration of at least \`base\` (${baseMs} ms)`, merged.max);
  assertFunction('on', merged.on);
  assertFunction('random', merged.random);
  if (typeof (merged.clock as Partial<Clock> | null)?.now !== 'function') {
    throw optionError('clock', 'an object with a now() method', merged.clock);
  }
  assertOptionalFunction('onRetry', merged.onRetry);
  return {
    attempts: merged.attempts,
    baseMs,
    maxMs,
    maxRetryAfterMs: parseDuration('maxRetryAfter', merged.maxRetryAfter),
    on: merged.on,
    random: merged.random,
    clock: merged.clock,
    onRetry: merged.onRetry,
  };
}

function retrying<F extends AsyncMethod>(fn: F, r: ResolvedRetry): F {
  return async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const signal = currentSignal();
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn.apply(this, args);
      } catch (error) {
        if (attempt >= r.attempts || signal?.aborted || !r.on(error, attempt)) throw error;
        const backoff = fullJitterDelay(attempt, r.baseMs, r.maxMs, r.random);
        const asked = retryAfterOf(error, r.clock);
        const delayMs = asked === undefined ? backoff : Math.max(backoff, Math.min(asked, r.maxRetryAfterMs));
        notify(r.onRetry, { attempt, error, delayMs }, fn.name);
        await sleep(delayMs, signal);
      }
    }
  } as F;
}

function notify(onRetry: ((info: RetryInfo) => void) | undefined, info: RetryInfo, method: string): void {
  try {
    onRetry?.(info);
  } catch (error) {
    logEvent(
      undefined,
      'error',
      { event: 'cachet.listener-threw', listener: 'onRetry', method, attempt: info.attempt, err: error },
      `A cachet onRetry callback threw: ${String(error)}`,
      { type: 'CachetListenerWarning' },
    );
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject((signal as AbortSignal).reason);
    };
    // Not unref'ed: this wait is the caller's work in progress, not a guard that may outlive it.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

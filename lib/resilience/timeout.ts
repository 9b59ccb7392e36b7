import { parseDuration, type Duration } from '../core/duration';
import { optionError } from '../core/validate';
import type { AsyncMethod } from '../decorate/method-decorator';
import { createMethodDecorator, type UniversalMethodDecorator } from '../decorate/method-decorator';
import { currentSignal, runWithSignal } from '../core/current-signal';
import { TimeoutError } from './errors';

// setTimeout fires at once for anything above 2^31 - 1 ms; refuse such limits instead of never waiting.
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Wraps an async function so that each call rejects with a {@link TimeoutError} when it has not settled
 * within `duration`. The call runs with its own {@link currentSignal}, aborted with that `TimeoutError`
 * as its reason when the deadline passes, so the work it started (a `fetch`, a stream) can be cancelled.
 * Inside an outer timeout (or {@link runWithSignal}) the call's signal also aborts when the outer one
 * does, and the call then rejects at once with the outer reason. The timer is cleared as soon as the
 * call settles, and is `unref`ed so that it never keeps a process alive on its own.
 *
 * The wrapped function keeps `this`, its parameters and its return type.
 *
 * @param duration the time limit: milliseconds (> 0) or a string such as `'10s'`.
 * @param name what the error calls the operation; @default the function's name
 * @example
 * const complete = withTimeout(rawComplete, '30s');
 */
export function withTimeout<F extends AsyncMethod>(fn: F, duration: Duration, name?: string): F {
  const timeoutMs = resolveTimeout(duration);
  const operation = name ?? (fn.name || 'anonymous function');
  return guard(fn, timeoutMs, () => operation);
}

/**
 * Rejects a call to the decorated method with a {@link TimeoutError} after `duration`, and aborts the
 * call's {@link currentSignal} so the work it started can stop. A thin adapter over {@link withTimeout}.
 * Invalid durations throw a `TypeError` when the class is defined.
 *
 * @param duration the time limit: milliseconds (> 0, at most 2^31 - 1) or a string such as `'10s'`.
 * @example
 * class Client {
 *   @Timeout('10s')
 *   async complete(prompt: string): Promise<string> {
 *     return (await fetch(URL, { body: prompt, method: 'POST', signal: currentSignal() })).text();
 *   }
 * }
 */
export function Timeout(duration: Duration): UniversalMethodDecorator<AsyncMethod> {
  const timeoutMs = resolveTimeout(duration);
  return createMethodDecorator<AsyncMethod>('timeout', { duration }, (original, site) =>
    guard(original, timeoutMs, (self) => site.qualifiedName(self)),
  );
}

function resolveTimeout(duration: unknown): number {
  const ms = parseDuration('duration', duration);
  if (ms <= 0 || ms > MAX_TIMEOUT_MS) {
    throw optionError('duration', `a duration between 1 ms and ${MAX_TIMEOUT_MS} ms`, duration);
  }
  return ms;
}

function guard<F extends AsyncMethod>(fn: F, timeoutMs: number, operation: (self: unknown) => string): F {
  return function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const outer = currentSignal();
    if (outer?.aborted) return Promise.reject(outer.reason);
    const controller = new AbortController();
    return new Promise((resolve, reject) => {
      const fail = (reason: unknown): void => {
        settle();
        controller.abort(reason);
        reject(reason);
      };
      const onOuterAbort = (): void => fail((outer as AbortSignal).reason);
      const timer = setTimeout(() => fail(new TimeoutError(timeoutMs, operation(this))), timeoutMs);
      timer.unref();
      // Linked by hand rather than with AbortSignal.any: the listener is removed when the call settles,
      // so a long-lived outer signal never accumulates one entry per call.
      outer?.addEventListener('abort', onOuterAbort, { once: true });
      function settle(): void {
        clearTimeout(timer);
        outer?.removeEventListener('abort', onOuterAbort);
      }
      let pending: Promise<unknown>;
      try {
        pending = Promise.resolve(runWithSignal(controller.signal, () => fn.apply(this, args)));
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  } as F;
}

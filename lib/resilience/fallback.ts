import { logEvent } from '../core/logger';
import { assertKnownOptions, assertOptionalFunction, assertPlainObject, optionError } from '../core/validate';
import type { AsyncMethod } from '../decorate/method-decorator';
import { createMethodDecorator, type UniversalMethodDecorator } from '../decorate/method-decorator';
import { FallbackError, isFallbackError } from './errors';

/** A fallback function: called with the error, then the original arguments, and the caller's `this`. */
export type FallbackFunction = (this: any, error: unknown, ...args: any[]) => unknown;

/** An error class {@link FallbackOptions.on} can list. */
export type ErrorClass = abstract new (...args: any[]) => unknown;

/** Options of {@link withFallback} and `@Fallback`. Give exactly one of `to` and `value`. */
export interface FallbackOptions {
  /**
   * Where to go when the call fails: a string names another method of the same instance, called with
   * the same arguments; a function is called as `to.call(this, error, ...args)`; any other value is the
   * answer itself. For an answer that is a string or a function, use `value`.
   */
  readonly to?: string | FallbackFunction | number | boolean | bigint | object | null;
  /** The answer itself, whatever its type (a canned string, a function object). */
  readonly value?: unknown;
  /**
   * Which errors fall back: error classes (matched with `instanceof`) or a predicate. Others propagate
   * unchanged. @default every error
   */
  readonly on?: readonly ErrorClass[] | ((error: unknown) => boolean);
  /** Called with the error just before the fallback runs, for logs and metrics. */
  readonly onFallback?: (error: unknown) => void;
}

type Step = (self: unknown, error: unknown, args: unknown[]) => unknown;

interface ResolvedFallback {
  readonly step: Step;
  readonly methodName: string | undefined;
  readonly accepts: (error: unknown) => boolean;
  readonly onFallback: ((error: unknown) => void) | undefined;
}

/**
 * Wraps an async function so that an error accepted by `on` is answered by a fallback (see
 * {@link FallbackOptions.to}) instead. Errors `on` rejects propagate unchanged. When the fallback fails
 * too, the caller gets a {@link FallbackError} whose `errors` are the primary's error then the fallback's.
 *
 * Wrapping a wrapped function makes a chain, tried inside out: `withFallback(withFallback(fn, a), b)`
 * tries `fn`, then `a`, then `b`. Each step's `on` sees the latest error, and a final `FallbackError`
 * carries every step's error in order.
 *
 * @example
 * const answer = withFallback(askLargeModel, { to: askSmallModel, on: [RateLimitError] });
 */
export function withFallback<F extends AsyncMethod>(fn: F, options: FallbackOptions): F {
  const resolved = resolveFallbackOptions(options);
  const operation = fn.name || 'anonymous function';
  return guard(fn, resolved, () => operation);
}

/**
 * Answers from a fallback when the decorated method fails; a thin adapter over {@link withFallback}.
 * Several `@Fallback`s form a chain tried from the nearest to the method outwards, that is top to
 * bottom reads last to first:
 *
 * ```ts
 * @Fallback({ value: 'Sorry, try again later.' }) // 3rd: a canned answer
 * @Fallback({ to: 'askSmall' })                    // 2nd: a cheaper model
 * async ask(q: string): Promise<string> { ... }    // 1st
 * ```
 *
 * A fallback answer is not the method's answer, so it must never be cached as one: put `@Fallback`
 * above `@Cached`, so the cache only ever sees the primary's results. The recommended stack for a model
 * client, outermost first, is `@Fallback` > `@Cached` > `@Retry` > `@CircuitBreaker` > `@RateLimited`:
 * a cache hit then spends no rate-limit token and passes no breaker, and concurrent misses share one
 * retried provider call (see the README, "Composing decorators").
 * Invalid options throw a `TypeError` when the class is defined; a method name is checked at each call
 * (standard decorators cannot see the class when they run) and a missing one rejects with a `TypeError`.
 *
 * @example
 * class Assistant {
 *   @Fallback({ to: 'askSmall', on: [RateLimitError, TimeoutError] })
 *   @Retry()
 *   @Cached({ ttl: '1h' })
 *   async ask(q: string): Promise<string> { ... }
 *   async askSmall(q: string): Promise<string> { ... }
 * }
 */
export function Fallback(options: FallbackOptions): UniversalMethodDecorator<AsyncMethod> {
  const resolved = resolveFallbackOptions(options);
  return createMethodDecorator<AsyncMethod>('fallback', options as Record<string, unknown>, (original, site) => {
    if (resolved.methodName === site.methodName) {
      throw optionError('to', `a method other than the decorated \`${site.methodName}\` itself`, resolved.methodName);
    }
    return guard(original, resolved, (self) => site.qualifiedName(self));
  });
}

function resolveFallbackOptions(options: FallbackOptions): ResolvedFallback {
  assertPlainObject('options', options);
  assertKnownOptions('@Fallback', options, ['to', 'value', 'on', 'onFallback']);
  const hasTo = options.to !== undefined;
  const hasValue = Object.prototype.hasOwnProperty.call(options, 'value');
  if (hasTo === hasValue) {
    throw optionError('options', 'an object with exactly one of `to` and `value`', options);
  }
  assertOptionalFunction('onFallback', options.onFallback);
  return {
    step: hasValue ? () => options.value : stepTo(options.to),
    methodName: typeof options.to === 'string' ? options.to : undefined,
    accepts: acceptor(options.on),
    onFallback: options.onFallback,
  };
}

function stepTo(to: FallbackOptions['to']): Step {
  if (typeof to === 'function') return (self, error, args) => (to as FallbackFunction).call(self, error, ...args);
  if (typeof to !== 'string') return () => to;
  if (to.length === 0) throw optionError('to', 'a method name, a function or a value', to);
  // `guard` has checked that the method exists before the primary ran.
  return (self, _error, args) => (methodOf(self, to) as (...a: unknown[]) => unknown).apply(self, args);
}

function methodOf(self: unknown, name: string): unknown {
  return (self as Record<string, unknown> | null | undefined)?.[name];
}

function acceptor(on: FallbackOptions['on']): (error: unknown) => boolean {
  if (on === undefined) return () => true;
  if (typeof on === 'function') return on;
  if (!Array.isArray(on) || on.length === 0 || on.some((c) => typeof c !== 'function')) {
    throw optionError('on', 'a non-empty array of error classes or a predicate', on);
  }
  const classes = [...on] as ErrorClass[];
  return (error) => classes.some((c) => error instanceof c);
}

function guard<F extends AsyncMethod>(fn: F, r: ResolvedFallback, operationOf: (self: unknown) => string): F {
  return async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const operation = operationOf(this);
    if (r.methodName !== undefined && typeof methodOf(this, r.methodName) !== 'function') {
      // Checked before the primary runs, so a misspelt name shows on the first call, not the first outage.
      throw optionError('to', `the name of a method of \`this\` in ${operation}`, r.methodName);
    }
    try {
      return await fn.apply(this, args);
    } catch (error) {
      // An inner @Fallback that gave up hands over its causes; this step continues that chain.
      const causes = isFallbackError(error) ? error.errors : [error];
      const latest = causes.at(-1);
      if (!r.accepts(latest)) throw error;
      notify(r.onFallback, latest, operation);
      try {
        return await r.step(this, latest, args);
      } catch (failure) {
        throw new FallbackError(operation, [...causes, failure]);
      }
    }
  } as F;
}

function notify(onFallback: ((error: unknown) => void) | undefined, error: unknown, method: string): void {
  try {
    onFallback?.(error);
  } catch (thrown) {
    logEvent(
      undefined,
      'error',
      { event: 'cachet.listener-threw', listener: 'onFallback', method, err: thrown },
      `A cachet onFallback callback threw: ${String(thrown)}`,
      { type: 'CachetListenerWarning' },
    );
  }
}

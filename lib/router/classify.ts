import { isTransientError } from '../resilience/retry';

/**
 * What the router does after an endpoint failed a request:
 * - `next`: the endpoint is at fault (timeout, 429, 5xx, connection); try the next endpoint.
 * - `larger-context`: the request is too long for this endpoint; try one with a larger `contextWindow`.
 * - `fail`: the request itself is at fault (400-class), so every endpoint would refuse it; stop.
 */
export type FailureVerdict = 'next' | 'larger-context' | 'fail';

/** A user's classifier: a verdict, or `undefined` to keep the default one. */
export type FailureClassifier = (error: unknown, endpoint: string) => FailureVerdict | undefined;

const CONTEXT_CODES = new Set(['context_length_exceeded', 'string_above_max_length']);
const CONTEXT_MESSAGE = /context length|context window|maximum context|too many tokens|prompt is too long/i;

/** Whether a provider refused the request for being longer than the model's context window. */
export function isContextLengthError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { status?: unknown; providerCode?: unknown; code?: unknown; message?: unknown };
  if (e.status !== 400 && e.status !== 413) return false;
  const code = typeof e.providerCode === 'string' ? e.providerCode : typeof e.code === 'string' ? e.code : '';
  return CONTEXT_CODES.has(code) || (typeof e.message === 'string' && CONTEXT_MESSAGE.test(e.message));
}

/**
 * The default verdict: a context-length refusal looks for a larger context; what `@Retry` would retry
 * ({@link isTransientError}: timeouts, 408, 429, 5xx, network errors) moves on; the rest fails.
 */
export function classifyFailure(error: unknown): FailureVerdict {
  if (isContextLengthError(error)) return 'larger-context';
  return isTransientError(error) ? 'next' : 'fail';
}

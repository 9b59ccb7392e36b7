import type { Clock } from '../core/clock';

/**
 * The delay before retry number `retry` (1 for the first retry): exponential growth from `baseMs`,
 * capped at `maxMs`, with full jitter, i.e. a uniform draw in `[0, min(maxMs, baseMs * 2^(retry-1)))`.
 * Full jitter spreads the retries of many callers that failed together, so they do not hit a recovering
 * provider in lockstep (see "Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 *
 * @param random a source of numbers in `[0, 1)`; @default Math.random
 * @example
 * fullJitterDelay(3, 100, 10_000, () => 0.5) // 200: half of min(10_000, 100 * 2^2)
 */
export function fullJitterDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  // 2 ** 1024 is Infinity, which Math.min handles; no overflow guard needed.
  const ceiling = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return Math.floor(ceiling * random());
}

/** An error that says how long to wait, as `RateLimitError` and `CircuitOpenError` do. */
interface RetryAfterShaped {
  readonly retryAfterMs: number;
}

/**
 * How long an error asks the caller to wait before trying again, in milliseconds, or `undefined` when
 * it does not say. Read, in order:
 * - a numeric `retryAfterMs` property (cachet's own errors, duck-typed so any library may use it);
 * - the `retry-after-ms` header (OpenAI's APIs send it) or the `Retry-After` header, in seconds or as an
 *   HTTP date, on an HTTP-shaped error: `headers` on the error itself (OpenAI and Anthropic SDKs) or on
 *   `error.response` (axios, got), as a plain object or anything with `get(name)` (`Headers`, `Map`).
 *
 * @param clock turns an HTTP date into a delay; @default systemClock
 * @example
 * retryAfterOf({ status: 429, headers: { 'retry-after': '2' } }, systemClock) // 2000
 */
export function retryAfterOf(error: unknown, clock: Clock): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const own = (error as Partial<RetryAfterShaped>).retryAfterMs;
  if (typeof own === 'number' && Number.isFinite(own)) return Math.max(0, own);
  const headers =
    (error as { headers?: unknown }).headers ?? (error as { response?: { headers?: unknown } }).response?.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms));
  const value = header(headers, 'retry-after');
  if (value === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - clock.now());
}

/** Reads a header case-insensitively from a `Headers`/`Map`-like object or a plain record. */
function header(headers: object, name: string): string | undefined {
  let value: unknown;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const get = (headers as { get(key: string): unknown }).get.bind(headers);
    // Headers folds case itself; a Map does not, so try the common spellings.
    value = get(name) ?? get(name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()));
  } else {
    for (const [key, entry] of Object.entries(headers)) {
      if (key.toLowerCase() === name) {
        value = entry;
        break;
      }
    }
  }
  if (Array.isArray(value)) value = value[0];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

import { CachetError } from '../core/errors';

/**
 * A model provider answered with an error status, or could not be reached (network error, timeout), or a
 * stream broke mid-way or carried an error event (`inStream`). `status` and `retryAfterMs` use the names
 * `isTransientError` (and so `@Retry`) reads: 408, 429, 529 and 5xx, any `retryAfterMs`, and network
 * failures (`status: undefined`, the undici error in `cause`) are retried; 400, 401, 404 are not.
 * @example
 * try { await client.complete(request); }
 * catch (error) { if (isProviderError(error) && error.status === 429) console.log(error.retryAfterMs); }
 */
export class ProviderError extends CachetError {
  readonly code = 'ERR_CACHET_PROVIDER';

  constructor(
    message: string,
    details: {
      /** HTTP status (or, in a stream, its HTTP twin); `undefined` when no response arrived or the stream broke after a 200. */
      readonly status?: number;
      /** How long the provider asked to wait, from `retry-after-ms` or `Retry-After` (seconds or HTTP date). */
      readonly retryAfterMs?: number;
      /** Response headers, lower-case names, multiple values joined with `, `. */
      readonly headers?: Readonly<Record<string, string>>;
      /** The provider's `error.type` / `error.code` from its JSON body, when given. */
      readonly type?: string;
      readonly providerCode?: string;
      /** The error arrived as an event inside a stream that had started with a 200. @default false */
      readonly inStream?: boolean;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.headers = details.headers ?? {};
    this.type = details.type;
    this.providerCode = details.providerCode;
    this.inStream = details.inStream ?? false;
  }

  /**
   * HTTP status of the failed response; for an error event in a stream ({@link inStream}), the status the
   * provider gives that error type over HTTP (529 for `overloaded_error`); `undefined` for network
   * errors, timeouts, broken streams and error types without a known status.
   */
  readonly status: number | undefined;
  /** Milliseconds the provider asked to wait before the next try, when it said. */
  readonly retryAfterMs: number | undefined;
  /** Response headers as a plain object (empty when no response arrived). */
  readonly headers: Readonly<Record<string, string>>;
  /** The provider's error type, e.g. `invalid_request_error`. */
  readonly type: string | undefined;
  /** The provider's error code, e.g. `invalid_api_key`, `rate_limit_exceeded`. */
  readonly providerCode: string | undefined;
  /**
   * Whether the provider sent the error as an event inside a stream it had started (with a 200), rather
   * than as an error response. `status` then holds the status the provider gives that error over HTTP.
   */
  readonly inStream: boolean;
}

/**
 * Narrows an unknown error to a {@link ProviderError}.
 * @example if (isProviderError(error) && error.status === 401) throw new Error('check OPENAI_API_KEY');
 */
export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}

/**
 * Flattens undici's header record (values may be arrays) into a plain `Record<string, string>`.
 * @example plainHeaders({ 'Set-Cookie': ['a=1', 'b=2'] }) // { 'set-cookie': 'a=1, b=2' }
 */
export function plainHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const plain: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) plain[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return plain;
}

/**
 * Reads the wait a response asks for: OpenAI's `retry-after-ms` first (finer), then `Retry-After` in
 * seconds or as an HTTP date (measured against `now`, default `Date.now()`).
 * @example retryAfterFrom({ 'retry-after': '2' }) // 2000
 */
export function retryAfterFrom(
  headers: Readonly<Record<string, string>>,
  now: number = Date.now(),
): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers['retry-after'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Builds the error for a non-2xx response from its status, headers and (possibly non-JSON) body text.
 * @example errorFromResponse(429, { 'retry-after-ms': '300' }, '{"error":{"message":"Slow down"}}').retryAfterMs // 300
 */
export function errorFromResponse(status: number, headers: Record<string, string>, body: string): ProviderError {
  let message = body.trim().slice(0, 500) || `HTTP ${status}`;
  let type: string | undefined;
  let providerCode: string | undefined;
  try {
    const error = (JSON.parse(body) as { error?: { message?: unknown; type?: unknown; code?: unknown } }).error;
    if (typeof error?.message === 'string') message = error.message;
    if (typeof error?.type === 'string') type = error.type;
    if (typeof error?.code === 'string') providerCode = error.code;
  } catch {
    // Not JSON (a proxy's HTML page, say): the body text itself is the most useful message.
  }
  return new ProviderError(`Provider answered ${status}: ${message}`, {
    status,
    retryAfterMs: retryAfterFrom(headers),
    headers,
    type,
    providerCode,
  });
}

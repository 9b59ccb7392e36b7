import { ProviderError } from './provider-error';

/**
 * The HTTP status providers give each error type when they can still answer with a status, so that an
 * error sent inside a stream is retried by `isTransientError` and routed by `classifyFailure` like its
 * HTTP twin: 529 and 5xx and 429 are transient, 4xx are not. Keys are OpenAI's and Anthropic's
 * `error.type` or `error.code`, and Google's gRPC names in `error.status`. A type not listed gets no
 * status, so it is not retried: retrying an error nobody understood costs tokens for nothing.
 * `insufficient_quota` is left out on purpose: OpenAI sends it with a 429, but no retry can fix billing.
 */
const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  overloaded_error: 529,
  overloaded: 529,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  rate_limit: 429,
  RESOURCE_EXHAUSTED: 429,
  api_error: 500,
  server_error: 500,
  internal_error: 500,
  internal_server_error: 500,
  INTERNAL: 500,
  service_unavailable: 503,
  service_unavailable_error: 503,
  UNAVAILABLE: 503,
  timeout: 504,
  timeout_error: 504,
  DEADLINE_EXCEEDED: 504,
  invalid_request_error: 400,
  context_length_exceeded: 400,
  INVALID_ARGUMENT: 400,
  authentication_error: 401,
  UNAUTHENTICATED: 401,
  permission_error: 403,
  PERMISSION_DENIED: 403,
  not_found_error: 404,
  NOT_FOUND: 404,
  request_too_large: 413,
};

interface ErrorFields {
  readonly message?: unknown;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly status?: unknown;
}

/**
 * The failure a stream event reports, or `undefined` for an ordinary chunk. An event is a failure when
 * it is named `error` (Anthropic: `event: error` with `{"type":"error","error":{...}}`), or when its
 * payload has an `error` field (OpenAI and OpenAI-compatible servers: `data: {"error":{...}}`, with or
 * without an event name). `payload` is the parsed JSON, or the raw text when it was not JSON.
 * @example
 * streamError(undefined, { error: { type: 'overloaded_error', message: 'Overloaded' } })?.status // 529
 */
export function streamError(event: string | undefined, payload: unknown): ProviderError | undefined {
  const body = payload !== null && typeof payload === 'object' ? (payload as { error?: unknown }) : undefined;
  const field = body?.error;
  const reported = field !== undefined && field !== null && field !== false;
  if (!reported && event !== 'error') return undefined;
  // An `error` event whose payload has no `error` field describes the error itself.
  const described = reported ? field : payload;
  const fields: ErrorFields = described !== null && typeof described === 'object' ? (described as ErrorFields) : {};
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value.length > 0 ? value : undefined;
  const type = text(fields.type);
  const providerCode = text(fields.code) ?? (typeof fields.code === 'number' ? String(fields.code) : undefined);
  const message = text(fields.message) ?? text(described) ?? 'no message';
  const status = statusOf(fields, type, providerCode);
  const label = type ?? providerCode ?? text(fields.status);
  return new ProviderError(`Provider sent an error mid-stream${label ? ` (${label})` : ''}: ${message}`, {
    status,
    type,
    providerCode,
    inStream: true,
  });
}

function statusOf(fields: ErrorFields, type: string | undefined, code: string | undefined): number | undefined {
  // Some gateways put the HTTP status itself in the payload (`"code": 503`, `"status": 429`).
  for (const value of [fields.status, fields.code]) {
    const status =
      typeof value === 'number' ? value : typeof value === 'string' && /^[45]\d\d$/.test(value) ? Number(value) : NaN;
    if (status >= 400 && status <= 599) return status;
  }
  for (const name of [type, code, typeof fields.status === 'string' ? fields.status : undefined]) {
    if (name !== undefined && Object.hasOwn(STATUS_OF_TYPE, name)) return STATUS_OF_TYPE[name];
  }
  return undefined;
}

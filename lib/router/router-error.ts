import { CachetError } from '../core/errors';
import type { FailureVerdict } from './classify';

/** One endpoint the router tried for a request, and how it went. */
export interface RouteAttempt {
  readonly endpoint: string;
  /** The model sent to the endpoint. */
  readonly model: string;
  /**
   * `ok`; `failed` (the endpoint answered with an error or the connection failed); `timeout` (the
   * endpoint's `timeout` passed); `no-permit` (every permit stayed taken until the deadline).
   */
  readonly outcome: 'ok' | 'failed' | 'timeout' | 'no-permit';
  /** From the start of the attempt (permit wait included) to its outcome; for a stream, to its first chunk. */
  readonly latencyMs: number;
  /** Whether this request was the probe of an endpoint that had been set aside. */
  readonly probe: boolean;
  /** What the router made of a failure. */
  readonly verdict?: FailureVerdict;
  readonly error?: unknown;
}

/** An endpoint the router did not try, and why. */
export interface SkippedEndpoint {
  readonly endpoint: string;
  readonly reason: 'cooling' | 'probing' | 'context-too-small' | 'rate-limited';
  /** For `cooling`: when it may be probed again; for `rate-limited`: when its quota admits again (epoch ms). */
  readonly until?: number;
}

/** Why routing gave up. */
export type RouteFailure = 'exhausted' | 'deadline' | 'request';

/**
 * No endpoint answered. `attempts` lists every endpoint tried, in order, with its outcome and latency;
 * `skipped` the ones set aside; `cause` is the last error. `reason` says why routing stopped: every
 * endpoint failed or was set aside (`exhausted`), the deadline passed (`deadline`), or the request
 * itself was refused in a way every endpoint would refuse it (`request`, e.g. a 400).
 */
export class RouterError extends CachetError {
  readonly code = 'ERR_CACHET_ROUTE';
  /** HTTP status of the last failure, when it had one. */
  readonly status: number | undefined;

  constructor(
    readonly reason: RouteFailure,
    readonly attempts: readonly RouteAttempt[],
    readonly skipped: readonly SkippedEndpoint[],
    cause: unknown,
  ) {
    super(describe(reason, attempts, skipped, cause), cause === undefined ? undefined : { cause });
    const status = (cause as { status?: unknown } | undefined)?.status;
    this.status = typeof status === 'number' ? status : undefined;
  }
}

/** Whether `error` is a {@link RouterError}. */
export function isRouterError(error: unknown): error is RouterError {
  return error instanceof RouterError;
}

function describe(
  reason: RouteFailure,
  attempts: readonly RouteAttempt[],
  skipped: readonly SkippedEndpoint[],
  cause: unknown,
): string {
  const head = {
    exhausted: 'No endpoint answered',
    deadline: 'The deadline passed before an endpoint answered',
    request: 'The request was refused and would be refused by every endpoint',
  }[reason];
  const tried = attempts.map(
    (a) =>
      `${a.endpoint} ${a.outcome}${a.error === undefined ? '' : ` (${messageOf(a.error)})`} after ${Math.round(a.latencyMs)} ms`,
  );
  const aside = skipped.map((s) => `${s.endpoint} ${s.reason}`);
  const parts = [
    tried.length > 0 ? `tried: ${tried.join('; ')}` : 'no endpoint tried',
    ...(aside.length > 0 ? [`skipped: ${aside.join(', ')}`] : []),
  ];
  const last = cause !== undefined && attempts.length === 0 ? ` (${messageOf(cause)})` : '';
  return `${head}${last}: ${parts.join('; ')}`;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

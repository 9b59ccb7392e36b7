import type { Duration } from '../core/duration';
import type { FailureVerdict } from './classify';
import type { EndpointState } from './endpoint-health';
import type { RouteAttempt } from './router-error';

/** Per-request options of {@link ConcurrentRouter.route} and {@link ConcurrentRouter.stream}. */
export interface RouteOptions {
  /** Endpoints serving this model (or named so) go first while they are healthy. */
  readonly preferredModel?: string;
  /**
   * When to give up: a {@link Duration} from now, or a `Date`. Covers waiting for permits and every
   * attempt (for a stream, up to its first chunk). @default none
   */
  readonly deadline?: Duration | Date;
  /** Aborts the request wherever it is (queue, attempt, stream); the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** What {@link ConcurrentRouter.route} resolves to. */
export interface RouteResult<Res = any> {
  /** The model that answered (the endpoint's, else the request's). */
  readonly model: string;
  /** The endpoint that answered; `undefined` for an answer from the cache. */
  readonly endpoint: string | undefined;
  readonly response: Res;
  /** Every endpoint tried, in order, with its outcome and latency; empty for an answer from the cache. */
  readonly attempts: readonly RouteAttempt[];
  /** From the call to the answer. */
  readonly latencyMs: number;
  /** Whether the answer came from the cache (`cached` option) without taking a permit. */
  readonly cached: boolean;
}

/** One endpoint in {@link ConcurrentRouter.health}. */
export interface EndpointHealthReport {
  readonly name: string;
  readonly model: string | undefined;
  readonly state: EndpointState;
  /** When a cooling endpoint may be probed (epoch ms), else 0. */
  readonly cooldownUntil: number;
  /** With a shared `health` store: the instance probing the endpoint (this one's `instance`, or another's). */
  readonly prober?: string;
  /** Requests (streams included) holding a permit from this router now. */
  readonly inFlight: number;
  /** Requests of this router waiting for a permit. */
  readonly queued: number;
  readonly maxConcurrent: number;
  /** Moving average of successful requests' latency (to the first chunk for streams); `undefined` before one. */
  readonly latencyMs: number | undefined;
  /** Failed share of the last 20 outcomes. */
  readonly errorRate: number;
}

/** Events of a {@link ConcurrentRouter}. */
export interface RouterEvents {
  /** A request left `from` after a failure and goes on to the next endpoint. */
  fallback: (event: { readonly from: string; readonly error: unknown; readonly verdict: FailureVerdict }) => void;
  /**
   * An endpoint was set aside for `forMs`: by this router, or (with a shared `health` store) by another
   * instance, when `error` is `undefined`.
   */
  cooldown: (event: { readonly endpoint: string; readonly forMs: number; readonly error: unknown }) => void;
  /** A probe (of this router, or of another instance sharing `health`) succeeded: the endpoint is back. */
  recovered: (event: { readonly endpoint: string }) => void;
  /** An attempt ended: the same record `RouteResult.attempts` and `RouterError.attempts` hold. */
  attempt: (event: RouteAttempt) => void;
  /**
   * The shared `health` store failed (Redis down); this router decides alone meanwhile (`onHealthStoreError`).
   * `endpoint` is `undefined` when following the store's changes failed.
   */
  healthError: (event: { readonly endpoint: string | undefined; readonly error: unknown }) => void;
}

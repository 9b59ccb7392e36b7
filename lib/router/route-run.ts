import { raceAbort } from '../core/abortable';
import type { Permit, Semaphore } from '../ports/semaphore';
import { parseDuration, type Duration } from '../core/duration';
import type { Emitter } from '../core/events';
import { optionError } from '../core/validate';
import type { RateLimiter } from '../ports/rate-limiter';
import { TimeoutError } from '../resilience/errors';
import { classifyFailure, type FailureVerdict } from './classify';
import type { Admission, EndpointHealth } from './endpoint-health';
import type { SharedHealth } from './shared-health';
import { orderEndpoints } from './order';
import { RouterError, type RouteAttempt, type SkippedEndpoint } from './router-error';
import { reserveTokens, settleTokens, type TokenReservation } from './token-quota';
import type { ResolvedEndpoint, ResolvedRouterOptions } from './router-options';
import type { RouteOptions, RouteResult, RouterEvents } from './router-types';

/** One endpoint at run time. */
export interface Endpoint extends ResolvedEndpoint {
  readonly permits: Semaphore;
  readonly limiter: RateLimiter | undefined;
  readonly tokenLimiter: RateLimiter | undefined;
  readonly health: EndpointHealth;
  inFlight: number;
  queued: number;
}

/** An attempt in progress: its endpoint, permit, signal and timer. */
export interface Lease {
  readonly endpoint: Endpoint;
  readonly permit: Permit;
  readonly probe: boolean;
  /** The shared probe lease's token, when the probe holds one. */
  readonly token: string | undefined;
  readonly started: number;
  readonly waitedMs: number;
  /** The tokens reserved for this attempt (`tokensPerMinute`). */
  readonly tokens: TokenReservation | undefined;
}

/** What a {@link RouteRun} shares with its router. */
export interface RouterContext {
  readonly options: ResolvedRouterOptions;
  readonly endpoints: readonly Endpoint[];
  readonly events: Emitter<RouterEvents>;
  /** The shared health, when the router has a `health` store. */
  readonly shared: SharedHealth | undefined;
}

/** The out-of-band half of a cached route call: the options in, the fresh result out (absent on a hit). */
export interface RouteCall<Res> {
  readonly options: RouteOptions;
  result?: RouteResult<Res>;
}
export interface StreamCall {
  readonly options: RouteOptions;
}
export interface CachedAnswer<Res> {
  readonly model: string;
  readonly response: Res;
}

/**
 * One request's way through the endpoints: which to try next, the permit wait, each attempt's time
 * limit, the verdict on a failure, and the record of attempts.
 */
export class RouteRun<Req extends { readonly model?: string }, Res> {
  readonly attempts: RouteAttempt[] = [];
  readonly skipped: SkippedEndpoint[] = [];
  readonly #tried = new Set<Endpoint>();
  readonly #started: number;
  readonly #deadlineAt: number;
  #minContext = 0;
  #tokens: number | undefined;
  #lastError: unknown;
  /** Set once a stream's first chunk went to the caller. */
  streaming = false;

  constructor(
    private readonly router: RouterContext,
    private readonly request: Req,
    private readonly options: RouteOptions,
  ) {
    const { clock } = router.options;
    this.#started = clock.now();
    this.#deadlineAt = deadlineOf(options.deadline, this.#started);
  }

  /** The next endpoint with its permit; throws {@link RouterError} when none is left or time is up. */
  async next(): Promise<Lease> {
    const { options: opts, endpoints } = this.router;
    const { signal } = this.options;
    for (;;) {
      signal?.throwIfAborted();
      const now = opts.clock.now();
      if (now >= this.#deadlineAt) throw this.#fail('deadline');
      const order = orderEndpoints(endpoints, opts.strategy, this.options.preferredModel, opts.random);
      const candidates: Endpoint[] = [];
      for (const endpoint of order) {
        if (this.#tried.has(endpoint)) continue;
        if (this.#minContext > 0 && (endpoint.contextWindow ?? 0) <= this.#minContext) {
          this.#skip(endpoint, 'context-too-small');
          continue;
        }
        if (!endpoint.health.available(now)) {
          this.#skip(endpoint, endpoint.health.state(now) === 'cooling' ? 'cooling' : 'probing', endpoint.health.until);
          continue;
        }
        candidates.push(endpoint);
      }
      // A request too long for every endpoint left is the request's fault, not the endpoints'.
      if (candidates.length === 0) throw this.#fail(this.#minContext > 0 ? 'request' : 'exhausted');
      // With spillover, the first candidate with a free permit; otherwise (or when all are full) the first.
      // `queued` counts requests between choosing an endpoint and holding its permit, so concurrent
      // choices made in the same tick see each other.
      const free = opts.spillover
        ? candidates.find((e) => e.inFlight + e.queued < e.maxConcurrent && e.permits.usage().inFlight < e.permits.max)
        : undefined;
      const endpoint = free ?? candidates[0]!;
      const lease = await this.#acquire(endpoint);
      if (lease !== undefined) return lease;
    }
  }

  /** Waits for `endpoint`'s permit until the deadline; `undefined` when it was set aside meanwhile. */
  async #acquire(endpoint: Endpoint): Promise<Lease | undefined> {
    const { clock } = this.router.options;
    const waitStarted = clock.now();
    const remaining = this.#deadlineAt - waitStarted;
    // A signal only when something can end the wait: the hot path (no deadline, no caller signal) has none.
    const controller = remaining === Infinity && this.options.signal === undefined ? undefined : new AbortController();
    const unlink = controller === undefined ? noop : link(this.options.signal, controller);
    const timer =
      controller === undefined || remaining === Infinity
        ? undefined
        : setTimeout(
            () => controller.abort(new TimeoutError(remaining, `waiting for a permit of ${endpoint.name}`)),
            remaining,
          );
    endpoint.queued++;
    let permit: Permit;
    try {
      permit = await endpoint.permits.acquire(controller === undefined ? {} : { signal: controller.signal });
    } catch (error) {
      this.options.signal?.throwIfAborted();
      this.#tried.add(endpoint);
      this.#lastError = error;
      this.#record({
        endpoint: endpoint.name,
        model: this.#modelFor(endpoint),
        outcome: 'no-permit',
        latencyMs: clock.now() - waitStarted,
        probe: false,
        error,
      });
      throw this.#fail('deadline');
    } finally {
      endpoint.queued--;
      clearTimeout(timer);
      unlink();
    }
    let admission: Admission = endpoint.health.admit(clock.now());
    let token: string | undefined;
    const { shared } = this.router;
    // Only a probe asks the shared store (one probe across every instance); other calls read the mirror.
    if (admission === 'probe' && shared !== undefined) ({ admission, token } = await shared.claim(endpoint));
    if (admission === 'skip') {
      void permit.release();
      return undefined;
    }
    const quota = await this.#withinQuota(endpoint);
    if (quota === undefined) {
      void permit.release();
      if (admission === 'probe') this.#abandon(endpoint, token);
      return undefined;
    }
    endpoint.inFlight++;
    return {
      endpoint,
      permit,
      probe: admission === 'probe',
      token,
      started: clock.now(),
      waitedMs: clock.now() - waitStarted,
      tokens: quota.tokens,
    };
  }

  /**
   * Reserves the request's tokens and spends one request of the endpoint's quotas; `undefined` (and the
   * endpoint skipped for this request) when either is spent, the tokens then given back. A limiter that
   * fails (Redis down) does not stop routing.
   */
  async #withinQuota(endpoint: Endpoint): Promise<{ tokens: TokenReservation | undefined } | undefined> {
    let tokens: TokenReservation | undefined;
    if (endpoint.tokens !== undefined && endpoint.tokenLimiter !== undefined) {
      const key = `router:${endpoint.name}:tokens`;
      const admission = await reserveTokens(endpoint.tokenLimiter, key, endpoint.tokens, this.#tokenEstimate());
      if (!admission.admitted) return this.#spent(endpoint, admission.retryAfterMs);
      tokens = admission.reservation;
    }
    if (endpoint.rateLimit === undefined || endpoint.limiter === undefined) return { tokens };
    const decision = await endpoint.limiter
      .decide(`router:${endpoint.name}`, endpoint.rateLimit.rule, 1)
      .catch(() => undefined);
    if (decision === undefined || decision.allowed) return { tokens };
    await settleTokens(tokens, 0);
    return this.#spent(endpoint, decision.retryAfterMs);
  }

  #spent(endpoint: Endpoint, retryAfterMs: number): undefined {
    this.#tried.add(endpoint);
    this.#skip(endpoint, 'rate-limited', this.router.options.clock.now() + retryAfterMs);
    return undefined;
  }

  /** The request's token estimate, made once per request. */
  #tokenEstimate(): number {
    if (this.#tokens !== undefined) return this.#tokens;
    const estimate = this.router.options.estimateTokens(this.request);
    if (typeof estimate !== 'number' || !Number.isFinite(estimate) || estimate < 0) {
      throw optionError('estimateTokens()', 'a finite number >= 0', estimate);
    }
    return (this.#tokens = estimate);
  }

  /**
   * Runs one attempt under the endpoint's time limit (and the deadline, and the caller's signal): `call`
   * gets the request for this endpoint and the signal to pass to its client.
   */
  async attempt<T>(lease: Lease, call: (request: Req, signal: AbortSignal) => Promise<T>): Promise<T> {
    const { clock } = this.router.options;
    const controller = new AbortController();
    const unlink = link(this.options.signal, controller);
    // Cut by whichever comes first; only the endpoint's own timeout counts against the endpoint.
    const remaining = this.#deadlineAt - clock.now();
    const byDeadline = remaining < lease.endpoint.timeoutMs;
    const limitMs = byDeadline ? remaining : lease.endpoint.timeoutMs;
    // The error is made only when the timer fires: capturing a stack costs more than the rest of a route.
    const timer = setTimeout(
      () => controller.abort(new TimeoutError(limitMs, byDeadline ? DEADLINE : `endpoint ${lease.endpoint.name}`)),
      Math.max(0, limitMs),
    );
    try {
      const request =
        lease.endpoint.model === undefined ? this.request : { ...this.request, model: lease.endpoint.model };
      return await raceAbort(call(request, controller.signal), controller.signal, () => undefined);
    } finally {
      clearTimeout(timer);
      unlink();
    }
  }

  /** Records the success of `lease`'s attempt. */
  succeeded(lease: Lease): void {
    const { clock } = this.router.options;
    const latencyMs = clock.now() - lease.started;
    this.#record({
      endpoint: lease.endpoint.name,
      model: this.#modelFor(lease.endpoint),
      outcome: 'ok',
      latencyMs: latencyMs + lease.waitedMs,
      probe: lease.probe,
    });
    this.streaming = true;
    this.#endpointSucceeded(lease, latencyMs);
  }

  #endpointSucceeded(lease: Lease, latencyMs: number): void {
    if (lease.endpoint.health.succeeded(latencyMs, lease.probe))
      this.router.events.emit('recovered', { endpoint: lease.endpoint.name });
    this.router.shared?.succeeded(lease.endpoint, lease.token);
  }

  /** Records a failure through the endpoint's fault; sets it aside when it keeps failing. */
  endpointFailed(lease: Lease, retryAfterMs: number | undefined, error: unknown): void {
    const { options: opts, events, shared } = this.router;
    const { endpoint } = lease;
    const now = opts.clock.now();
    const forMs =
      shared === undefined
        ? endpoint.health.failed(now, retryAfterMs, lease.probe)
        : shared.failed(endpoint, lease.token, lease.probe, retryAfterMs, error);
    if (forMs > 0) events.emit('cooldown', { endpoint: endpoint.name, forMs, error });
  }

  #abandon(endpoint: Endpoint, token: string | undefined): void {
    if (this.router.shared === undefined) endpoint.health.abandoned();
    else this.router.shared.abandoned(endpoint, token);
  }

  /**
   * Judges a failed attempt: rethrows when the caller aborted, the deadline passed, or the request is at
   * fault; otherwise records it, sets the endpoint aside if it keeps failing, and lets the run go on.
   */
  failed(lease: Lease, error: unknown): void {
    const { options: opts, events } = this.router;
    const { endpoint } = lease;
    const now = opts.clock.now();
    if (this.options.signal?.aborted) {
      this.#abandon(endpoint, lease.token);
      throw this.options.signal.reason;
    }
    if (error instanceof TimeoutError && error.operation === DEADLINE) {
      this.#abandon(endpoint, lease.token);
      this.#lastError = error;
      const latencyMs = now - lease.started + lease.waitedMs;
      this.#record({
        endpoint: endpoint.name,
        model: this.#modelFor(endpoint),
        outcome: 'timeout',
        latencyMs,
        probe: lease.probe,
        error,
      });
      throw this.#fail('deadline');
    }
    const timedOut = error instanceof TimeoutError && error.operation === `endpoint ${endpoint.name}`;
    const verdict: FailureVerdict = timedOut
      ? 'next'
      : (opts.classify?.(error, endpoint.name) ?? classifyFailure(error));
    this.#tried.add(endpoint);
    this.#lastError = error;
    this.#record({
      endpoint: endpoint.name,
      model: this.#modelFor(endpoint),
      outcome: timedOut ? 'timeout' : 'failed',
      latencyMs: now - lease.started + lease.waitedMs,
      probe: lease.probe,
      verdict,
      error,
    });
    if (verdict === 'next') {
      const retryAfterMs = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
      this.endpointFailed(lease, typeof retryAfterMs === 'number' ? retryAfterMs : undefined, error);
    } else {
      // The endpoint answered; the request was at fault. Its health is not in question.
      this.#endpointSucceeded(lease, now - lease.started);
    }
    if (verdict === 'fail') throw this.#fail('request');
    if (verdict === 'larger-context') this.#minContext = Math.max(this.#minContext, endpoint.contextWindow ?? 0, 1);
    events.emit('fallback', { from: endpoint.name, error, verdict });
  }

  result(lease: Lease, response: Res): RouteResult<Res> {
    const { clock } = this.router.options;
    return {
      model: this.#modelFor(lease.endpoint),
      endpoint: lease.endpoint.name,
      response,
      attempts: this.attempts,
      latencyMs: clock.now() - this.#started,
      cached: false,
    };
  }

  /** Adds an attempt to the record and tells `attempt` listeners. */
  #record(attempt: RouteAttempt): void {
    this.attempts.push(attempt);
    if (this.router.events.has('attempt')) this.router.events.emit('attempt', attempt);
  }

  #modelFor(endpoint: Endpoint): string {
    return endpoint.model ?? String(this.request.model ?? '');
  }

  #skip(endpoint: Endpoint, reason: SkippedEndpoint['reason'], until?: number): void {
    if (this.skipped.some((s) => s.endpoint === endpoint.name)) return;
    this.skipped.push(
      until === undefined || until === 0
        ? { endpoint: endpoint.name, reason }
        : { endpoint: endpoint.name, reason, until },
    );
  }

  #fail(reason: RouterError['reason']): RouterError {
    return new RouterError(reason, this.attempts, this.skipped, this.#lastError);
  }
}

const noop = (): void => undefined;

/** The `operation` of the TimeoutError that ends an attempt at the request's deadline. */
const DEADLINE = 'the route deadline';

/** Aborts `controller` when `signal` does; returns the function that unlinks them. */
export function link(signal: AbortSignal | undefined, controller: AbortController): () => void {
  if (signal === undefined) return () => undefined;
  if (signal.aborted) {
    controller.abort(signal.reason);
    return () => undefined;
  }
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

function deadlineOf(deadline: Duration | Date | undefined, now: number): number {
  if (deadline === undefined) return Infinity;
  if (deadline instanceof Date) return deadline.getTime();
  return now + parseDuration('deadline', deadline);
}

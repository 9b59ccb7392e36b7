import { raceAbort } from '../core/abortable';
import { LocalSemaphore } from '../concurrency/local-semaphore';
import type { Permit, Semaphore } from '../ports/semaphore';
import type { Cache } from '../cache/cache';
import type { CachedStream } from '../cache/cached-stream';
import { getDefaultCache } from '../cache/default-cache';
import { parseDuration, type Duration } from '../core/duration';
import { Emitter } from '../core/events';
import { optionError } from '../core/validate';
import { MemoryRateLimiter } from '../rate-limit/memory-rate-limiter';
import type { RateLimiter } from '../ports/rate-limiter';
import { TimeoutError } from '../resilience/errors';
import { classifyFailure, type FailureVerdict } from './classify';
import { EndpointHealth, type Admission, type EndpointState } from './endpoint-health';
import { SharedHealth } from './shared-health';
import { orderEndpoints } from './order';
import { RouterError, type RouteAttempt, type SkippedEndpoint } from './router-error';
import { reserveTokens, settleTokens, usedTokens, type TokenReservation } from './token-quota';
import {
  resolveRouterOptions,
  type ResolvedEndpoint,
  type ResolvedRouterOptions,
  type RouterOptions,
} from './router-options';

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

/** One endpoint at run time. */
interface Endpoint extends ResolvedEndpoint {
  readonly permits: Semaphore;
  readonly limiter: RateLimiter | undefined;
  readonly tokenLimiter: RateLimiter | undefined;
  readonly health: EndpointHealth;
  inFlight: number;
  queued: number;
}

/** An attempt in progress: its endpoint, permit, signal and timer. */
interface Lease {
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

/**
 * Spreads model requests over several endpoints: never more than `maxConcurrent` in flight on any of
 * them (streams hold their permit until they end), the preferred model first, then by `strategy`;
 * timeouts, 429s, 5xx and connection errors move a request to the next endpoint without the caller
 * noticing, and endpoints that keep failing, or answer 429 with `Retry-After`, are set aside for that
 * long and then probed back with one request.
 *
 * @example
 * const router = new ConcurrentRouter({
 *   endpoints: [
 *     { name: 'primary', client: openai, model: 'gpt-4o', maxConcurrent: 8, priority: 0 },
 *     { name: 'backup', client: azure, model: 'gpt-4o-mini', maxConcurrent: 16, priority: 1 },
 *   ],
 * });
 * const { model, response, attempts } = await router.route(request, { deadline: '20s' });
 */
export class ConcurrentRouter<Req extends { readonly model?: string } = any, Res = any, Chunk = any> {
  readonly #options: ResolvedRouterOptions;
  readonly #endpoints: readonly Endpoint[];
  readonly #events = new Emitter<RouterEvents>();
  readonly #context: RouterContext;
  #cachedRoute: ((request: Req, call: RouteCall<Res>) => Promise<CachedAnswer<Res>>) | undefined;
  #cachedStream: ((request: Req, call: StreamCall) => CachedStream<Chunk>) | undefined;

  /** @throws TypeError on an invalid option, naming it. */
  constructor(options: RouterOptions<Req, Res, Chunk>) {
    this.#options = resolveRouterOptions(options);
    let shared: RateLimiter | undefined;
    const routerLimiter = () =>
      this.#options.limiter ?? (shared ??= new MemoryRateLimiter({ clock: this.#options.clock }));
    const limiterFor = (endpoint: ResolvedEndpoint) =>
      endpoint.rateLimit === undefined ? undefined : (endpoint.rateLimit.limiter ?? routerLimiter());
    this.#endpoints = this.#options.endpoints.map((endpoint) => ({
      ...endpoint,
      permits: endpoint.semaphore ?? new LocalSemaphore({ max: endpoint.maxConcurrent }),
      limiter: limiterFor(endpoint),
      tokenLimiter: endpoint.tokens === undefined ? undefined : routerLimiter(),
      health: new EndpointHealth(this.#options.failureThreshold, this.#options.cooldownMs, this.#options.failureWindow),
      inFlight: 0,
      queued: 0,
    }));
    const { health: store, clock } = this.#options;
    const sharedHealth =
      store === undefined
        ? undefined
        : new SharedHealth(
            store,
            this.#endpoints,
            this.#healthPolicy(),
            clock,
            this.#healthHooks(),
            this.#options.onHealthStoreError,
          );
    this.#context = { options: this.#options, endpoints: this.#endpoints, events: this.#events, shared: sharedHealth };
  }

  /** Listens to `fallback`, `cooldown`, `recovered`, `attempt` or `healthError`; returns a function that stops listening. */
  on<E extends keyof RouterEvents>(event: E, listener: RouterEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Each endpoint's state, load and recent latency and error rate. With a shared `health` store, the
   * state is the shared one as this instance last heard of it (cooldowns set by any instance, who probes).
   */
  health(): EndpointHealthReport[] {
    const now = this.#options.clock.now();
    const { shared } = this.#context;
    return this.#endpoints.map((e) => ({
      name: e.name,
      model: e.model,
      state: e.health.state(now),
      cooldownUntil: e.health.until,
      ...(shared?.prober(e, now) === undefined ? {} : { prober: shared.prober(e, now) }),
      inFlight: e.inFlight,
      queued: e.queued,
      maxConcurrent: e.maxConcurrent,
      latencyMs: e.health.latencyMs,
      errorRate: e.health.errorRate,
    }));
  }

  /** Stops following the shared `health` store's changes; the store stays open (its owner closes it). */
  async close(): Promise<void> {
    await this.#context.shared?.close();
  }

  /**
   * Sends `request` to the best endpoint that can take it and returns its answer, moving on to the next
   * endpoint after a failure that is the endpoint's fault. Rejects with a {@link RouterError} listing
   * every attempt when no endpoint answers, or with the signal's reason when it aborts.
   */
  async route(request: Req, options: RouteOptions = {}): Promise<RouteResult<Res>> {
    if (this.#options.cached === undefined) return this.#route(request, options);
    const started = this.#options.clock.now();
    const call: RouteCall<Res> = { options };
    const answer = await (this.#cachedRoute ??= this.#wrapRoute())(request, call);
    if (call.result !== undefined) return call.result;
    return {
      ...answer,
      endpoint: undefined,
      attempts: [],
      latencyMs: this.#options.clock.now() - started,
      cached: true,
    };
  }

  /**
   * Streams `request` from the best endpoint that can take it. A failure before the first chunk moves
   * the request to the next endpoint; once chunks flow, a failure reaches the caller (a stream cannot
   * be resumed elsewhere). The endpoint's permit is held until the stream ends or the caller stops.
   */
  stream(request: Req, options: RouteOptions = {}): AsyncIterable<Chunk> {
    if (this.#options.cached === undefined) return this.#stream(request, options);
    return (this.#cachedStream ??= this.#wrapStream())(request, { options });
  }

  async #route(request: Req, options: RouteOptions): Promise<RouteResult<Res>> {
    const run = new RouteRun<Req, Res>(this.#context, request, options);
    for (;;) {
      const lease = await run.next();
      try {
        let response: Res;
        try {
          response = await run.attempt(lease, (req, signal) => lease.endpoint.client.complete(req, { signal }));
        } catch (error) {
          await settleTokens(lease.tokens, 0);
          throw error;
        }
        run.succeeded(lease);
        await settleTokens(lease.tokens, usedTokens(response));
        return run.result(lease, response);
      } catch (error) {
        run.failed(lease, error);
      } finally {
        this.#release(lease);
      }
    }
  }

  async *#stream(request: Req, options: RouteOptions): AsyncGenerator<Chunk, void, undefined> {
    const run = new RouteRun<Req, Res>(this.#context, request, options);
    for (;;) {
      const lease = await run.next();
      try {
        const { stream } = lease.endpoint.client;
        if (stream === undefined)
          throw new TypeError(`Endpoint ${lease.endpoint.name}'s client has no stream() method`);
        const controller = new AbortController();
        const unlink = link(options.signal, controller);
        let iterator: AsyncIterator<Chunk> | undefined;
        let used: number | undefined;
        try {
          const first = await run.attempt(lease, (req, signal) => {
            link(signal, controller); // the attempt's limit also ends the stream (dropped with the attempt)
            iterator = stream.call(lease.endpoint.client, req, { signal: controller.signal })[Symbol.asyncIterator]();
            return iterator.next();
          });
          run.succeeded(lease);
          if (first.done === true) return;
          used = usedTokens(first.value) ?? used;
          yield first.value;
          for (;;) {
            const next = await (iterator as AsyncIterator<Chunk>).next();
            if (next.done === true) return;
            used = usedTokens(next.value) ?? used;
            yield next.value;
          }
        } catch (error) {
          if (run.streaming) {
            // Chunks already reached the caller: no other endpoint can continue this stream.
            run.endpointFailed(lease, undefined, error);
            throw error;
          }
          run.failed(lease, error);
        } finally {
          unlink();
          if (!controller.signal.aborted) controller.abort(new Error('The stream ended'));
          await iterator?.return?.().catch(() => undefined);
          // Before its first chunk a stream used nothing; after it, its usage chunk says, else the estimate.
          await settleTokens(lease.tokens, run.streaming ? used : 0);
        }
      } finally {
        this.#release(lease);
      }
    }
  }

  #wrapRoute(): (request: Req, call: RouteCall<Res>) => Promise<CachedAnswer<Res>> {
    const { cache, key, ...cached } = this.#options.cached!;
    const owner: Cache = cache ?? getDefaultCache();
    return owner.wrap(
      async (request: Req, call: RouteCall<Res>): Promise<CachedAnswer<Res>> => {
        const result = await this.#route(request, call.options);
        call.result = result;
        return { model: result.model, response: result.response };
      },
      { ...cached, key: key ?? ((request: Req) => request), name: 'ConcurrentRouter.route' },
    );
  }

  #wrapStream(): (request: Req, call: StreamCall) => CachedStream<Chunk> {
    const { cache, key, ...cached } = this.#options.cached!;
    const owner: Cache = cache ?? getDefaultCache();
    return owner.wrap((request: Req, call: StreamCall) => this.#stream(request, call.options), {
      ...cached,
      key: key ?? ((request: Req) => request),
      name: 'ConcurrentRouter.stream',
      stream: true,
    });
  }

  #healthPolicy() {
    const { failureThreshold, failureWindow, cooldownMs } = this.#options;
    return {
      threshold: failureThreshold,
      windowFailures: failureWindow.failures,
      windowMs: failureWindow.ms,
      cooldownMs,
    };
  }

  #healthHooks() {
    const events = this.#events;
    return {
      cooldown: (endpoint: string, forMs: number, error: unknown) =>
        events.emit('cooldown', { endpoint, forMs, error }),
      recovered: (endpoint: string) => events.emit('recovered', { endpoint }),
      error: (endpoint: string | undefined, error: unknown) => events.emit('healthError', { endpoint, error }),
    };
  }

  #release(lease: Lease): void {
    lease.endpoint.inFlight--;
    void lease.permit.release();
  }
}

/** What a {@link RouteRun} shares with its router. */
interface RouterContext {
  readonly options: ResolvedRouterOptions;
  readonly endpoints: readonly Endpoint[];
  readonly events: Emitter<RouterEvents>;
  /** The shared health, when the router has a `health` store. */
  readonly shared: SharedHealth | undefined;
}

/** The out-of-band half of a cached route call: the options in, the fresh result out (absent on a hit). */
interface RouteCall<Res> {
  readonly options: RouteOptions;
  result?: RouteResult<Res>;
}
interface StreamCall {
  readonly options: RouteOptions;
}
interface CachedAnswer<Res> {
  readonly model: string;
  readonly response: Res;
}

/**
 * One request's way through the endpoints: which to try next, the permit wait, each attempt's time
 * limit, the verdict on a failure, and the record of attempts.
 */
class RouteRun<Req extends { readonly model?: string }, Res> {
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
function link(signal: AbortSignal | undefined, controller: AbortController): () => void {
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

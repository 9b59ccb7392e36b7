import { LocalSemaphore } from '../concurrency/local-semaphore';
import type { Cache } from '../cache/cache';
import type { CachedStream } from '../cache/cached-stream';
import { getDefaultCache } from '../cache/default-cache';
import { Emitter } from '../core/events';
import { MemoryRateLimiter } from '../rate-limit/memory-rate-limiter';
import type { RateLimiter } from '../ports/rate-limiter';
import { EndpointHealth } from './endpoint-health';
import { SharedHealth } from './shared-health';
import { settleTokens, usedTokens } from './token-quota';
import {
  resolveRouterOptions,
  type ResolvedEndpoint,
  type ResolvedRouterOptions,
  type RouterOptions,
} from './router-options';
import type { EndpointHealthReport, RouteOptions, RouteResult, RouterEvents } from './router-types';
import {
  RouteRun,
  link,
  type CachedAnswer,
  type Endpoint,
  type Lease,
  type RouteCall,
  type RouterContext,
  type StreamCall,
} from './route-run';

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
   * endpoint after a failure that is the endpoint's fault. Rejects with a `RouterError` listing
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

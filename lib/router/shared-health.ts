import type { Clock } from '../core/clock';
import type { EndpointHealthStore, HealthPolicy, SharedEndpointView } from '../ports/endpoint-health';
import type { Admission, EndpointHealth } from './endpoint-health';

/** What the router does with failures while its health store fails: count them alone, or not at all. */
export type HealthStoreFallback = 'local' | 'ignore';

/** What {@link SharedHealth} needs of an endpoint. */
export interface SharedEndpoint {
  readonly name: string;
  readonly health: EndpointHealth;
  readonly timeoutMs: number;
}

/** How {@link SharedHealth} tells the router what happened (its events). */
export interface SharedHealthHooks {
  cooldown(endpoint: string, forMs: number, error: unknown): void;
  recovered(endpoint: string): void;
  error(endpoint: string | undefined, error: unknown): void;
}

/** Time a probe's lease outlasts its attempt's `timeout`, for the report's round trip. */
const LEASE_MARGIN_MS = 1_000;

/**
 * A router's side of shared health. Each endpoint's {@link EndpointHealth} mirrors the store's view,
 * kept current by the store's change notices, so that choosing an endpoint reads only memory. The store
 * is asked at transitions only: a probe's claim and outcome, a failure, and the first success after
 * failures (which ends the shared run). When the store fails, the router decides alone, as a router
 * without a store would (`fallback: 'local'`), and reports the error.
 */
export class SharedHealth {
  readonly #endpoints = new Map<string, SharedEndpoint>();
  readonly #policies = new Map<string, HealthPolicy>();
  readonly #watching: Promise<(() => void) | undefined>;

  constructor(
    private readonly store: EndpointHealthStore,
    endpoints: readonly SharedEndpoint[],
    policy: Omit<HealthPolicy, 'probeLeaseMs'>,
    private readonly clock: Clock,
    private readonly hooks: SharedHealthHooks,
    private readonly fallback: HealthStoreFallback,
  ) {
    for (const endpoint of endpoints) {
      this.#endpoints.set(endpoint.name, endpoint);
      this.#policies.set(endpoint.name, { ...policy, probeLeaseMs: endpoint.timeoutMs + LEASE_MARGIN_MS });
    }
    // Every store call goes through a promise, so that a store that throws is handled as one that rejects.
    this.#watching = Promise.resolve()
      .then(() =>
        store.watch(
          endpoints.map((e) => e.name),
          (name) => this.#policy(name),
          (name, view) => this.#apply(name, view, undefined),
        ),
      )
      .catch((error: unknown) => {
        hooks.error(undefined, error);
        return undefined;
      });
  }

  /**
   * The local mirror let `endpoint` be probed: claims the one shared probe. `go` when another instance
   * brought it back meanwhile, `skip` when it is cooling or probed elsewhere. When the store fails this
   * instance probes on its own.
   */
  async claim(endpoint: SharedEndpoint): Promise<{ admission: Admission; token: string | undefined }> {
    try {
      const claim = await this.store.claimProbe(endpoint.name, this.#policy(endpoint.name));
      if (claim.claimed) return { admission: 'probe', token: claim.token };
      endpoint.health.abandoned();
      this.#apply(endpoint.name, claim.view, undefined);
      return { admission: claim.view.state === 'healthy' ? 'go' : 'skip', token: undefined };
    } catch (error) {
      this.hooks.error(endpoint.name, error);
      return { admission: 'probe', token: undefined };
    }
  }

  /**
   * Records a failure: at once in the mirror (a `Retry-After` or a failed probe sets the endpoint aside
   * here without waiting), then in the store, which counts it with every instance's. Returns how long
   * the mirror set the endpoint aside now (0 when the decision is the store's).
   */
  failed(
    endpoint: SharedEndpoint,
    token: string | undefined,
    probe: boolean,
    retry: number | undefined,
    error: unknown,
  ) {
    const now = this.clock.now();
    const forMs = endpoint.health.failed(now, retry, probe, false);
    const failure = {
      ...(retry === undefined ? {} : { retryAfterMs: retry }),
      ...(token === undefined ? {} : { probe: token }),
    };
    Promise.resolve()
      .then(() => this.store.failed(endpoint.name, this.#policy(endpoint.name), failure))
      .then(
        (outcome) => this.#apply(endpoint.name, outcome.view, error),
        (storeError: unknown) => {
          this.hooks.error(endpoint.name, storeError);
          const at = this.clock.now();
          if (this.fallback !== 'local' || endpoint.health.state(at) !== 'healthy' || !endpoint.health.countedOut(at))
            return;
          const { cooldownMs } = this.#policy(endpoint.name);
          this.hooks.cooldown(endpoint.name, endpoint.health.setAside(at, cooldownMs), error);
        },
      );
    return forMs;
  }

  /** Records a success in the store when it matters to others: a probe's, or the first after failures. */
  succeeded(endpoint: SharedEndpoint, token: string | undefined): void {
    if (token === undefined && !endpoint.health.failing) return;
    endpoint.health.failing = false;
    Promise.resolve()
      .then(() => this.store.succeeded(endpoint.name, this.#policy(endpoint.name), token))
      .catch((error: unknown) => this.hooks.error(endpoint.name, error));
  }

  /** A probe ended without a verdict: frees its lease for any instance. */
  abandoned(endpoint: SharedEndpoint, token: string | undefined): void {
    endpoint.health.abandoned();
    if (token === undefined) return;
    Promise.resolve()
      .then(() => this.store.abandoned(endpoint.name, this.#policy(endpoint.name), token))
      .catch((error: unknown) => this.hooks.error(endpoint.name, error));
  }

  /** The instance probing `endpoint`, as the mirror knows it: another one, or this one. */
  prober(endpoint: SharedEndpoint, now: number): string | undefined {
    return endpoint.health.prober(now) ?? (endpoint.health.probing ? this.store.instance : undefined);
  }

  /** Stops following the store's changes (the store stays open). */
  async close(): Promise<void> {
    (await this.#watching)?.();
  }

  #policy(name: string): HealthPolicy {
    return this.#policies.get(name)!;
  }

  #apply(name: string, view: SharedEndpointView, error: unknown): void {
    const endpoint = this.#endpoints.get(name);
    if (endpoint === undefined) return;
    const change = endpoint.health.apply(view, this.clock.now(), this.store.instance);
    if (change === 'cooldown') this.hooks.cooldown(name, view.remainingMs, error);
    else if (change === 'recovered') this.hooks.recovered(name);
  }
}

/**
 * The rules a store applies to one router endpoint; resolved from the router's options, in milliseconds.
 */
export interface HealthPolicy {
  /** Consecutive failures that set the endpoint aside. */
  readonly threshold: number;
  /** Failures within `windowMs` that set the endpoint aside, whatever came between them; 0 = off. */
  readonly windowFailures: number;
  readonly windowMs: number;
  /** How long the endpoint is set aside when the failure gave no `Retry-After`. */
  readonly cooldownMs: number;
  /** How long a probe holds its lease: a probe that never reports frees the endpoint for another after it. */
  readonly probeLeaseMs: number;
}

/**
 * How an endpoint stands for every instance: `healthy`; `cooling` for `remainingMs` more; or `probing`:
 * open to one probe, held by `prober` for at most `remainingMs` more when one holds it.
 */
export interface SharedEndpointView {
  readonly state: 'healthy' | 'cooling' | 'probing';
  /** `cooling`: time left; `probing` with a prober: time left on its lease; otherwise 0. */
  readonly remainingMs: number;
  /** The instance holding the probe (its store's `instance`). */
  readonly prober: string | undefined;
  /** Failures in a row recorded since the last success (0 when unknown or none). */
  readonly failing: number;
}

/** The answer to a probe claim: the lease's token, or how the endpoint stands instead. */
export type ProbeClaim =
  { readonly claimed: true; readonly token: string } | { readonly claimed: false; readonly view: SharedEndpointView };

/** A failure through the endpoint's fault. */
export interface HealthFailure {
  /** The provider's `Retry-After`, in ms, when it gave one: the endpoint is set aside for exactly that. */
  readonly retryAfterMs?: number;
  /** The lease token when the failed call was the probe. */
  readonly probe?: string;
}

/** What recording a failure did. */
export interface FailureOutcome {
  /** How long this failure set the endpoint aside; 0 when it did not (not enough failures, or late news). */
  readonly forMs: number;
  readonly view: SharedEndpointView;
}

/**
 * Where router endpoints' health is shared between instances (`RedisRouterHealth`). Cooldowns are timed by
 * the store (`remainingMs`, never an instance's clock), one probe lease is given per set-aside endpoint,
 * and every change is announced to every instance through `watch`, so that routers keep a local mirror and
 * ask the store only at transitions. Methods reject when the store fails; the router then decides locally.
 */
export interface EndpointHealthStore {
  /** Names this instance, as shown in `prober`. */
  readonly instance: string;
  /** Claims the probe of a set-aside endpoint whose cooldown has ended. */
  claimProbe(endpoint: string, policy: HealthPolicy): Promise<ProbeClaim>;
  /** Records a failure; sets the endpoint aside on a `Retry-After`, a failed probe, or enough failures. */
  failed(endpoint: string, policy: HealthPolicy, failure: HealthFailure): Promise<FailureOutcome>;
  /**
   * Records a success. With the probe's token it brings the endpoint back (true); without, it ends a run
   * of failures. Resolves whether the endpoint was brought back.
   */
  succeeded(endpoint: string, policy: HealthPolicy, probe: string | undefined): Promise<boolean>;
  /** A probe ended without a verdict: another instance may probe at once. */
  abandoned(endpoint: string, policy: HealthPolicy, probe: string): Promise<void>;
  /** How `endpoint` stands now. */
  read(endpoint: string, policy: HealthPolicy): Promise<SharedEndpointView>;
  /**
   * Calls `listener` with every change to any of `endpoints`, by any instance (this one included), and
   * with the current view of each when watching starts and whenever changes may have been missed.
   * Resolves with a function that stops watching.
   */
  watch(
    endpoints: readonly string[],
    policy: (endpoint: string) => HealthPolicy,
    listener: (endpoint: string, view: SharedEndpointView) => void,
  ): Promise<() => void>;
}

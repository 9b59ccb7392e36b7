import type { SharedEndpointView } from '../ports/endpoint-health';

/** How an endpoint stands: taking requests, set aside until `until`, or open to one probe. */
export type EndpointState = 'healthy' | 'cooling' | 'probing';

/** What {@link EndpointHealth.admit} allows: a normal call, the one probe, or nothing now. */
export type Admission = 'go' | 'probe' | 'skip';

/** A change that {@link EndpointHealth.apply} made to the local view. */
export type HealthChange = 'cooldown' | 'recovered' | undefined;

/** Outcomes kept to compute the error rate shown by `health()`. */
const RECENT = 20;
/** Weight of the newest latency in the moving average. */
const LATENCY_WEIGHT = 0.3;

/**
 * One endpoint's breaker and statistics. After `threshold` consecutive failures, `window.failures`
 * failures within `window.ms`, or at once on a failure that says how long to wait (a 429 with
 * `Retry-After`), the endpoint is set aside (`cooling`) for the cooldown, or for the provider's
 * `Retry-After` when it gave one; then one request probes it (`probing`): success brings it back, failure
 * sets it aside again. With a shared store, it is the instance's mirror of the shared health
 * ({@link apply}), and counts failures only to decide alone while the store fails ({@link countedOut}).
 */
export class EndpointHealth {
  #failures = 0;
  #until = 0;
  #open = false;
  #probing = false;
  /** Another instance's probe, and when its lease frees the endpoint (local ms). */
  #prober: string | undefined;
  #proberUntil = 0;
  #latencyMs: number | undefined;
  readonly #recent: boolean[] = [];
  /** Times of the last `window.failures` failures, oldest first. */
  readonly #failedAt: number[] = [];
  /** Whether the shared store counts failures in a row for this endpoint (a success must end the run). */
  failing = false;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly window: { readonly failures: number; readonly ms: number } = { failures: 0, ms: 0 },
  ) {}

  state(now: number): EndpointState {
    if (!this.#open) return 'healthy';
    return this.#probing || this.#remoteProbe(now) || now >= this.#until ? 'probing' : 'cooling';
  }

  /** When a cooling endpoint may be probed (epoch ms); 0 when it is not cooling. */
  get until(): number {
    return this.#open ? this.#until : 0;
  }

  /** The instance probing the endpoint, when another one holds its probe. */
  prober(now: number): string | undefined {
    return this.#remoteProbe(now) ? this.#prober : undefined;
  }

  /** Whether a request of this instance is probing the endpoint now. */
  get probing(): boolean {
    return this.#probing;
  }

  /** Failures in a row since the last success. */
  get failures(): number {
    return this.#failures;
  }

  /** Moving average of successful calls' latency; `undefined` before the first. */
  get latencyMs(): number | undefined {
    return this.#latencyMs;
  }

  /** Failed share of the last {@link RECENT} outcomes (0 when none). */
  get errorRate(): number {
    return this.#recent.length === 0 ? 0 : this.#recent.filter((failed) => failed).length / this.#recent.length;
  }

  /** Whether a request may use the endpoint now. A `probe` must end in `succeeded`, `failed` or `abandoned`. */
  admit(now: number): Admission {
    if (!this.#open) return 'go';
    if (!this.available(now)) return 'skip';
    this.#probing = true;
    return 'probe';
  }

  /** Whether the endpoint could be admitted now, without claiming the probe. */
  available(now: number): boolean {
    return !this.#open || (!this.#probing && now >= this.#until && !this.#remoteProbe(now));
  }

  /**
   * A call succeeded. Returns true when it was the probe and brought a set-aside endpoint back. A call
   * that started before the endpoint was set aside does not end its cooldown: a `Retry-After` is the
   * provider asking for no new requests until then.
   */
  succeeded(latencyMs: number, probe: boolean): boolean {
    this.#record(false);
    this.#latencyMs =
      this.#latencyMs === undefined ? latencyMs : this.#latencyMs + LATENCY_WEIGHT * (latencyMs - this.#latencyMs);
    if (this.#open && !probe) return false;
    const recovered = this.#open;
    // A success ends a run of failures; failures within the window still count.
    if (recovered) this.#recover();
    else this.#failures = 0;
    return recovered;
  }

  /**
   * A call failed through the endpoint's fault. Returns how long the endpoint is now set aside (ms), or
   * 0 when nothing changed (it stays in use, or a call from before its cooldown failed too). With
   * `count: false` (a shared store counts) only a `Retry-After` or a failed probe sets it aside.
   */
  failed(now: number, retryAfterMs: number | undefined, probe: boolean, count = true): number {
    this.#record(true);
    this.#failures++;
    if (this.window.failures > 0) {
      this.#failedAt.push(now);
      if (this.#failedAt.length > this.window.failures) this.#failedAt.shift();
    }
    if (this.#open && !probe) {
      // Late news from before the cooldown: only a longer Retry-After moves its end.
      if (retryAfterMs !== undefined && now + retryAfterMs > this.#until) this.#until = now + retryAfterMs;
      return 0;
    }
    this.#probing = false;
    if (!probe && retryAfterMs === undefined && !(count && this.countedOut(now))) return 0;
    return this.setAside(now, retryAfterMs ?? this.cooldownMs);
  }

  /** Whether the failures counted so far set the endpoint aside: `threshold` in a row, or the window's. */
  countedOut(now: number): boolean {
    if (this.#failures >= this.threshold) return true;
    const { failures, ms } = this.window;
    return failures > 0 && this.#failedAt.length === failures && now - this.#failedAt[0]! < ms;
  }

  /** Sets the endpoint aside for `forMs` from `now`; returns `forMs`. */
  setAside(now: number, forMs: number): number {
    this.#open = true;
    this.#probing = false;
    this.#prober = undefined;
    this.#until = now + forMs;
    this.#failures = 0;
    this.#failedAt.length = 0;
    return forMs;
  }

  /** A probe ended without a verdict (the caller left, or the request was at fault): another may probe. */
  abandoned(): void {
    this.#probing = false;
  }

  /**
   * Takes the shared view (from the store, at `now` on this instance's clock) as the local one: a cooldown
   * ends `remainingMs` from now whatever the clocks of the other instances say. Returns what changed.
   */
  apply(view: SharedEndpointView, now: number, ownProber: string): HealthChange {
    this.failing = view.failing > 0;
    if (view.state === 'healthy') {
      const recovered = this.#open;
      if (recovered) this.#recover();
      return recovered ? 'recovered' : undefined;
    }
    const wasCooling = this.state(now) === 'cooling';
    if (view.state === 'cooling') {
      this.setAside(now, view.remainingMs);
      return wasCooling ? undefined : 'cooldown';
    }
    // Open to a probe: this instance's own lease is its local `probing`; another's is mirrored.
    if (!this.#open || this.#until > now) {
      this.#open = true;
      this.#until = now;
    }
    // This instance's lease is mirrored too when no request of this instance holds it (a lost report).
    const other = view.prober !== undefined && !(view.prober === ownProber && this.#probing);
    this.#prober = other ? view.prober : undefined;
    this.#proberUntil = other ? now + view.remainingMs : 0;
    return undefined;
  }

  #remoteProbe(now: number): boolean {
    return this.#prober !== undefined && now < this.#proberUntil;
  }

  #recover(): void {
    this.#failures = 0;
    this.#failedAt.length = 0;
    this.#open = false;
    this.#probing = false;
    this.#prober = undefined;
  }

  #record(failed: boolean): void {
    this.#recent.push(failed);
    if (this.#recent.length > RECENT) this.#recent.shift();
  }
}

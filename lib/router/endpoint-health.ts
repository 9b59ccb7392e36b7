/** How an endpoint stands: taking requests, set aside until `until`, or open to one probe. */
export type EndpointState = 'healthy' | 'cooling' | 'probing';

/** What {@link EndpointHealth.admit} allows: a normal call, the one probe, or nothing now. */
export type Admission = 'go' | 'probe' | 'skip';

/** Outcomes kept to compute the error rate shown by `health()`. */
const RECENT = 20;
/** Weight of the newest latency in the moving average. */
const LATENCY_WEIGHT = 0.3;

/**
 * One endpoint's breaker and statistics. After `threshold` consecutive failures, or at once on a failure
 * that says how long to wait (a 429 with `Retry-After`), the endpoint is set aside (`cooling`) for the
 * cooldown, or for the provider's `Retry-After` when it gave one; then one request probes it
 * (`probing`): success brings it back, failure sets it aside again.
 */
export class EndpointHealth {
  #failures = 0;
  #until = 0;
  #open = false;
  #probing = false;
  #latencyMs: number | undefined;
  readonly #recent: boolean[] = [];

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
  ) {}

  state(now: number): EndpointState {
    if (!this.#open) return 'healthy';
    return this.#probing || now >= this.#until ? 'probing' : 'cooling';
  }

  /** When a cooling endpoint may be probed (epoch ms); 0 when it is not cooling. */
  get until(): number {
    return this.#open ? this.#until : 0;
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
    if (this.#probing || now < this.#until) return 'skip';
    this.#probing = true;
    return 'probe';
  }

  /** Whether the endpoint could be admitted now, without claiming the probe. */
  available(now: number): boolean {
    return !this.#open || (!this.#probing && now >= this.#until);
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
    this.#failures = 0;
    const recovered = this.#open;
    this.#open = false;
    this.#probing = false;
    return recovered;
  }

  /**
   * A call failed through the endpoint's fault. Returns how long the endpoint is now set aside (ms), or
   * 0 when nothing changed (it stays in use, or a call from before its cooldown failed too).
   */
  failed(now: number, retryAfterMs: number | undefined, probe: boolean): number {
    this.#record(true);
    this.#failures++;
    if (this.#open && !probe) {
      // Late news from before the cooldown: only a longer Retry-After moves its end.
      if (retryAfterMs !== undefined && now + retryAfterMs > this.#until) this.#until = now + retryAfterMs;
      return 0;
    }
    this.#probing = false;
    if (!probe && retryAfterMs === undefined && this.#failures < this.threshold) return 0;
    const forMs = retryAfterMs ?? this.cooldownMs;
    this.#open = true;
    this.#until = now + forMs;
    return forMs;
  }

  /** A probe ended without a verdict (the caller left, or the request was at fault): another may probe. */
  abandoned(): void {
    this.#probing = false;
  }

  #record(failed: boolean): void {
    this.#recent.push(failed);
    if (this.#recent.length > RECENT) this.#recent.shift();
  }
}

import type { Clock } from '../core/clock';
import { StoreUnavailableError } from '../core/errors';
import type { CircuitPolicy } from '../ports/circuit-state';
import { MemoryCircuitState } from '../resilience/memory-circuit-state';

/** State of the breaker in front of Redis: `closed` (normal), `open` (skipping Redis), `half-open` (one probe out). */
export type StoreCircuitState = 'closed' | 'open' | 'half-open';

/** The one circuit in the breaker's own state machine. */
const REDIS = 'redis';

/**
 * The breaker in front of Redis, on the same state machine as `@CircuitBreaker` ({@link MemoryCircuitState}):
 * after `threshold` consecutive failures, operations skip Redis at once for `cooldownMs`; then one probe
 * goes through, and its outcome closes the breaker or opens it for another cooldown. A probe that never
 * reports (it cannot happen, every operation has a timeout, but a breaker must not wedge on a bug) only
 * blocks the next probe for one more cooldown. Failures of operations that started before the breaker
 * opened do not restart the cooldown. While closed, `enter` costs one comparison and a success after a
 * success costs nothing.
 */
export class StoreBreaker {
  readonly #machine = new MemoryCircuitState();
  readonly #policy: CircuitPolicy;
  #state: StoreCircuitState = 'closed';
  /** The probe token while half-open. */
  #probe: string | undefined;
  /** Whether a failure is on record since the last success (a success then needs reporting). */
  #failing = false;

  constructor(
    threshold: number,
    cooldownMs: number,
    private readonly clock: Clock,
    private readonly onChange: (state: StoreCircuitState) => void,
  ) {
    this.#policy = {
      threshold,
      failureRate: 0,
      minimumCalls: 0,
      windowMs: cooldownMs,
      halfOpenAfterMs: cooldownMs,
      probeTimeoutMs: cooldownMs,
    };
  }

  get state(): StoreCircuitState {
    return this.#state;
  }

  /** Throws {@link StoreUnavailableError} when the operation must not reach Redis now. */
  enter(operation: string, key?: string): void {
    if (this.#state === 'closed') return;
    const admission = this.#machine.enterNow(REDIS, this.#policy, this.clock.now());
    if (!admission.admitted) throw new StoreUnavailableError(operation, key, admission.retryAfterMs);
    if (admission.probe !== undefined) this.#probe = admission.probe;
    this.#set(admission.state);
  }

  success(): void {
    if (this.#failing || this.#state !== 'closed') this.#report(false);
  }

  failure(): void {
    this.#report(true);
  }

  #report(failed: boolean): void {
    this.#failing = failed;
    // While a probe is out, any outcome is taken as the probe's: Redis answered, or it did not.
    const state = this.#machine.reportNow(REDIS, this.#policy, { failed, probe: this.#probe }, this.clock.now());
    if (state !== 'half-open') this.#probe = undefined;
    this.#set(state);
  }

  #set(state: StoreCircuitState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.onChange(state);
  }
}

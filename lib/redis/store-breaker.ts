import type { Clock } from '../core/clock';
import { StoreUnavailableError } from '../core/errors';

/** State of a store's circuit: `closed` (normal), `open` (skipping Redis), `half-open` (one probe out). */
export type StoreCircuitState = 'closed' | 'open' | 'half-open';

/**
 * A short circuit breaker in front of Redis. Without it every call during an outage would wait out the
 * operation timeout; with it, after `threshold` failures in a row calls skip Redis at once for
 * `cooldownMs`, then a single probe decides whether Redis is back. A probe that never reports (it cannot
 * happen, every operation has a timeout, but a breaker must not wedge on a bug) only blocks the next probe
 * for one more cooldown.
 */
export class StoreBreaker {
  #failures = 0;
  #openUntil = 0;
  #probeOut = false;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly clock: Clock,
    private readonly onChange: (state: StoreCircuitState) => void,
  ) {}

  get state(): StoreCircuitState {
    if (this.#openUntil === 0) return 'closed';
    return this.#probeOut ? 'half-open' : 'open';
  }

  /** Throws {@link StoreUnavailableError} when the operation must not reach Redis now. */
  enter(operation: string, key?: string): void {
    if (this.#openUntil === 0) return;
    const now = this.clock.now();
    if (now < this.#openUntil) {
      throw new StoreUnavailableError(operation, key, this.#openUntil - now);
    }
    this.#openUntil = now + this.cooldownMs;
    this.#probeOut = true;
    this.onChange('half-open');
  }

  success(): void {
    this.#failures = 0;
    if (this.#openUntil === 0) return;
    this.#openUntil = 0;
    this.#probeOut = false;
    this.onChange('closed');
  }

  failure(): void {
    this.#failures++;
    if (this.#openUntil === 0 && this.#failures < this.threshold) return;
    const wasOpen = this.#openUntil !== 0 && !this.#probeOut;
    this.#openUntil = this.clock.now() + this.cooldownMs;
    this.#probeOut = false;
    if (!wasOpen) this.onChange('open');
  }
}

/**
 * State of a circuit: `closed` (calls pass), `open` (calls are rejected until `halfOpenAfter` has
 * passed), `half-open` (one probe call is out; the others are rejected until it reports).
 */
export type CircuitStateName = 'closed' | 'open' | 'half-open';

/** The rules a store applies to one circuit; resolved from `CircuitBreakerOptions`, in milliseconds. */
export interface CircuitPolicy {
  /** Consecutive failures that open the circuit; 0 = off. */
  readonly threshold: number;
  /** Failure share over the window that opens the circuit, in (0, 1]; 0 = off. */
  readonly failureRate: number;
  /** Calls the window must hold before `failureRate` applies. */
  readonly minimumCalls: number;
  readonly windowMs: number;
  readonly halfOpenAfterMs: number;
  readonly probeTimeoutMs: number;
}

/** The answer to "may this call go?". A probe carries a token that its report must present. */
export type CircuitAdmission =
  | { readonly admitted: true; readonly state: CircuitStateName; readonly probe: string | undefined }
  | { readonly admitted: false; readonly state: CircuitStateName; readonly retryAfterMs: number };

/** How an admitted call ended. */
export interface CircuitOutcome {
  readonly failed: boolean;
  /** The probe token from the admission, when the call was the half-open probe. */
  readonly probe: string | undefined;
}

/**
 * Where circuits keep their state: `MemoryCircuitState` in one process, `RedisCircuitState` to
 * share circuits between processes. Each method is one atomic decision for the circuit `name`.
 * `now` is the caller's clock in ms; a store may use its own time source instead (Redis server time).
 */
export interface CircuitStateStore {
  /** Decides whether a call may start; moves an open circuit to half-open for the one probe. */
  enter(name: string, policy: CircuitPolicy, now: number): Promise<CircuitAdmission>;
  /** Records an admitted call's outcome; resolves the circuit's state afterwards. */
  report(name: string, policy: CircuitPolicy, outcome: CircuitOutcome, now: number): Promise<CircuitStateName>;
}

/** Buckets of the rolling failure-rate window (the Redis scripts use the same number). */
export const WINDOW_BUCKETS = 10;

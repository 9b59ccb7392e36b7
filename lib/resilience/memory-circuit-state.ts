import {
  WINDOW_BUCKETS,
  type CircuitAdmission,
  type CircuitOutcome,
  type CircuitPolicy,
  type CircuitStateName,
  type CircuitStateStore,
} from '../ports/circuit-state';

interface Bucket {
  index: number;
  successes: number;
  failures: number;
}

interface CircuitRecord {
  state: CircuitStateName;
  openUntil: number;
  probe: string | undefined;
  probeUntil: number;
  consecutive: number;
  buckets: Bucket[];
}

/**
 * Circuit state in this process. Every decision runs synchronously, so concurrent callers can never
 * both take the half-open probe. The default store of a `Circuit`.
 *
 * @example
 * const shared = new MemoryCircuitState();
 * const a = new Circuit({ name: 'openai', store: shared });
 * const b = new Circuit({ name: 'openai', store: shared }); // the same circuit as `a`
 */
export class MemoryCircuitState implements CircuitStateStore {
  readonly #circuits = new Map<string, CircuitRecord>();
  #probes = 0;

  async enter(name: string, policy: CircuitPolicy, now: number): Promise<CircuitAdmission> {
    return this.enterNow(name, policy, now);
  }

  async report(name: string, policy: CircuitPolicy, outcome: CircuitOutcome, now: number): Promise<CircuitStateName> {
    return this.reportNow(name, policy, outcome, now);
  }

  /** {@link enter}, synchronously (a Redis store falls back to it during an outage). */
  enterNow(name: string, policy: CircuitPolicy, now: number): CircuitAdmission {
    const c = this.#circuits.get(name);
    if (c === undefined || c.state === 'closed') return { admitted: true, state: 'closed', probe: undefined };
    if (c.state === 'open' && now < c.openUntil) {
      return { admitted: false, state: 'open', retryAfterMs: c.openUntil - now };
    }
    if (c.state === 'half-open' && now < c.probeUntil) {
      return { admitted: false, state: 'half-open', retryAfterMs: c.probeUntil - now };
    }
    // Open and cooled down, or a probe that never reported: this caller becomes the probe.
    c.state = 'half-open';
    c.probe = `p${++this.#probes}`;
    c.probeUntil = now + policy.probeTimeoutMs;
    return { admitted: true, state: 'half-open', probe: c.probe };
  }

  /** {@link report}, synchronously. */
  reportNow(name: string, policy: CircuitPolicy, outcome: CircuitOutcome, now: number): CircuitStateName {
    let c = this.#circuits.get(name);
    if (outcome.probe !== undefined) {
      // A stale probe (its slot expired and another probe took over) must not decide anything.
      if (c === undefined || c.state !== 'half-open' || c.probe !== outcome.probe) return c?.state ?? 'closed';
      if (outcome.failed) this.#open(c, policy, now);
      else this.#circuits.delete(name);
      return outcome.failed ? 'open' : 'closed';
    }
    // Calls admitted before the circuit opened may end after it did; only the probe decides then.
    if (c !== undefined && c.state !== 'closed') return c.state;
    // A success with no failure on record changes nothing, and costs nothing (the common case).
    if (c === undefined && !outcome.failed && policy.failureRate === 0) return 'closed';
    if (c === undefined) {
      c = { state: 'closed', openUntil: 0, probe: undefined, probeUntil: 0, consecutive: 0, buckets: [] };
      this.#circuits.set(name, c);
    }
    // Only a failure rate needs the rolling window.
    const bucket = policy.failureRate === 0 ? undefined : currentBucket(c, policy, now);
    if (!outcome.failed) {
      if (bucket === undefined) this.#circuits.delete(name);
      c.consecutive = 0;
      if (bucket !== undefined) bucket.successes++;
      return 'closed';
    }
    c.consecutive++;
    if (bucket !== undefined) bucket.failures++;
    if (shouldOpen(c, policy)) {
      this.#open(c, policy, now);
      return 'open';
    }
    return 'closed';
  }

  /** The state of circuit `name` now, without admitting anything: `open` until a probe is let through. */
  stateOf(name: string): CircuitStateName {
    return this.#circuits.get(name)?.state ?? 'closed';
  }

  #open(c: CircuitRecord, policy: CircuitPolicy, now: number): void {
    c.state = 'open';
    c.openUntil = now + policy.halfOpenAfterMs;
    c.probe = undefined;
    c.consecutive = 0;
    c.buckets = [];
  }
}

/** The bucket `now` falls into, after dropping the buckets that left the window. */
function currentBucket(c: CircuitRecord, policy: CircuitPolicy, now: number): Bucket {
  const width = Math.max(1, Math.ceil(policy.windowMs / WINDOW_BUCKETS));
  const index = Math.floor(now / width);
  c.buckets = c.buckets.filter((b) => b.index > index - WINDOW_BUCKETS);
  let bucket = c.buckets.find((b) => b.index === index);
  if (bucket === undefined) {
    bucket = { index, successes: 0, failures: 0 };
    c.buckets.push(bucket);
  }
  return bucket;
}

function shouldOpen(c: CircuitRecord, policy: CircuitPolicy): boolean {
  if (policy.threshold > 0 && c.consecutive >= policy.threshold) return true;
  if (policy.failureRate === 0) return false;
  let calls = 0;
  let failures = 0;
  for (const b of c.buckets) {
    calls += b.successes + b.failures;
    failures += b.failures;
  }
  return calls >= policy.minimumCalls && failures / calls >= policy.failureRate;
}

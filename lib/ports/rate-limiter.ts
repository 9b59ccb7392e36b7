/**
 * The backend behind {@link rateLimited} and `@RateLimited`: one decision per call, "may this key spend
 * `cost` units now?". The limiter holds only state (per key); the rule travels with every decision, so one
 * limiter (one Redis connection) serves every decorated method, each with its own limit.
 */

/** A limit in the units the GCRA works in. Build one with {@link toRateRule}. */
export interface RateRule {
  /** Units admitted per `intervalMs` on average. */
  readonly limit: number;
  /** Length of the interval, ms. */
  readonly intervalMs: number;
  /** Most units admitted at once from a rested key. */
  readonly burst: number;
  /** Time one unit occupies: `intervalMs / limit`, in whole microseconds, rounded up so the limit is never exceeded. */
  readonly emissionUs: number;
  /** How far ahead of the present the schedule may run: `burst * emissionUs`. */
  readonly toleranceUs: number;
  /**
   * How far the schedule may lag the clock: `emissionUs - 1`. A slot that opened unclaimed stays claimable
   * until the next one opens, and a later caller loses only the time beyond it. It lets sustained demand
   * use the whole quota and adds at most one unit to any window.
   */
  readonly creditUs: number;
  /** A schedule this far behind the clock (`2 * emissionUs`) belongs to an idle key, which starts afresh with `burst`. */
  readonly restUs: number;
}

/** The outcome of one decision. */
export interface RateDecision {
  /** True when the units were charged and the call may go ahead. */
  readonly allowed: boolean;
  /** When denied: ms until the same request would be admitted (rounded up); 0 when allowed. */
  readonly retryAfterMs: number;
  /** Units that could still be admitted at once after this decision. */
  readonly remaining: number;
  /** Ms until the key is fully rested (all of `burst` available again). */
  readonly resetAfterMs: number;
  /** The limiter's clock at the decision, ms: Redis's server time for the Redis limiter, `performance.now()` for the memory limiter by default. */
  readonly at: number;
  /**
   * When allowed: the limiter's clock (ms, to the microsecond) at which the units just charged leave the
   * schedule (the key's theoretical arrival time after the charge). Pass it to
   * {@link RateLimiter.adjust} with a refund, which can give back only what still lies ahead of it.
   * Equal to `at` when denied.
   */
  readonly reservedUntil: number;
}

/** The outcome of one {@link RateLimiter.adjust}. */
export interface RateAdjustment {
  /** The limiter's clock when the correction was recorded, ms (as {@link RateDecision.at}). */
  readonly at: number;
}

/**
 * A rate limiter backend: {@link MemoryRateLimiter} in one process, `RedisRateLimiter` across processes.
 *
 * @example
 * const rule = toRateRule(10, 1_000, 1);
 * const decision = await limiter.decide('user:42', rule, 1);
 * if (!decision.allowed) console.log(`try again in ${decision.retryAfterMs} ms`);
 */
export interface RateLimiter {
  /** `memory`, `redis`, ... for messages and `describePolicies`. */
  readonly name: string;
  /**
   * Charges `cost` units to `key` under `rule` if they fit now; charges nothing otherwise. Rejects only
   * when the backend fails (a Redis outage); never for a denial.
   */
  decide(key: string, rule: RateRule, cost: number): Promise<RateDecision>;
  /**
   * Corrects an earlier charge on `key` under `rule` by `delta` units, unconditionally (the call it
   * charged for has happened): a positive delta is an overdraft that pushes the schedule forward, so later
   * calls wait longer; a negative delta refunds, but never more than the part of the reservation still
   * ahead of the clock (`reservedUntil`, from the reservation's {@link RateDecision}) and never beyond
   * the rested state (all of `burst` available). Atomic, like `decide`; rejects only when the backend fails.
   */
  adjust(key: string, rule: RateRule, delta: number, reservedUntil?: number): Promise<RateAdjustment>;
  /** Releases what the limiter holds (connections, timers). */
  close(): Promise<void>;
}

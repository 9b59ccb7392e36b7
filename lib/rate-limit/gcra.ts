import type { RateRule } from '../ports/rate-limiter';

/**
 * The generic cell rate algorithm, as pure arithmetic shared by the memory limiter and mirrored line for
 * line by the Redis script (lib/redis/gcra-script.ts). A key's whole state is one number, its theoretical
 * arrival time (TAT): when its next slot opens. Admitting `cost` units pushes the TAT `cost * emission`
 * later; a request fits when the pushed TAT lies no more than the tolerance (`burst * emission`) ahead of
 * now. There are no windows, so there is no window boundary at which two bursts can meet.
 *
 * Plain GCRA restarts a late caller's schedule at its arrival, so every microsecond between a slot opening
 * and the caller asking is lost: at 100 per second, callers 1 ms late get 91. Here the schedule may lag the
 * clock by up to the credit (one emission less 1 µs): a slot that opened unclaimed stays claimable until
 * the next one opens, and a caller later than that loses only the time beyond the credit. A schedule two
 * emissions behind (`rest`) means an idle key, not a late caller: it starts afresh, with `burst` and no
 * more. The credit adds at most one unit to any window, which is the bound the option docs state: at most
 * `limit + burst` whole units in any window of `interval`, on a clock read to the microsecond.
 *
 * Everything is whole microseconds: integers below 2^53 are exact in JavaScript and in Redis's Lua, so
 * both implementations reach the same decisions.
 */

/**
 * Builds the rule for `limit` units per `intervalMs`, at most `burst` at once. Arguments must be validated.
 * @example toRateRule(3, 1_000, 1) // { emissionUs: 333_334, toleranceUs: 333_334, creditUs: 333_333, restUs: 666_668, ... }
 */
export function toRateRule(limit: number, intervalMs: number, burst: number): RateRule {
  // Rounded up: 3 per second becomes one per 333,334 µs, never four in a second.
  const emissionUs = Math.max(1, Math.ceil((intervalMs * 1_000) / limit));
  return {
    limit,
    intervalMs,
    burst,
    emissionUs,
    toleranceUs: burst * emissionUs,
    creditUs: emissionUs - 1,
    restUs: 2 * emissionUs,
  };
}

/** The cost of `cost` units in microseconds of schedule, rounded up so that tiny costs are never free. */
export function costUs(rule: RateRule, cost: number): number {
  return Math.ceil(cost * rule.emissionUs);
}

/** A correction of `delta` units in µs: an overdraft rounded up, a refund rounded down, each on the safe side. */
export function adjustmentUs(rule: RateRule, delta: number): number {
  return delta >= 0 ? costUs(rule, delta) : -Math.floor(-delta * rule.emissionUs);
}

/** The outcome of {@link gcraStep}, all in µs. */
export interface GcraStep {
  readonly allowed: boolean;
  /** The TAT to store when allowed. */
  readonly tat: number;
  readonly retryAfterUs: number;
  readonly remaining: number;
  readonly resetAfterUs: number;
}

/**
 * One GCRA decision. `tat` is the stored TAT, or undefined for a rested key; store the returned `tat`
 * when `allowed`. A stored TAT `restUs` or more in the past means the same as none.
 * @example gcraStep(undefined, now, toRateRule(10, 1_000, 1), 100_000) // { allowed: true, tat: now + 100_000, ... }
 */
export function gcraStep(tat: number | undefined, nowUs: number, rule: RateRule, chargeUs: number): GcraStep {
  const start = tat === undefined || tat <= nowUs - rule.restUs ? nowUs : Math.max(tat, nowUs - rule.creditUs);
  const next = start + chargeUs;
  const allowAt = next - rule.toleranceUs;
  if (allowAt > nowUs) {
    const remaining = Math.max(0, Math.floor((rule.toleranceUs - (start - nowUs)) / rule.emissionUs));
    return {
      allowed: false,
      tat: start,
      retryAfterUs: allowAt - nowUs,
      remaining,
      resetAfterUs: Math.max(0, start - nowUs),
    };
  }
  const remaining = Math.floor((rule.toleranceUs - (next - nowUs)) / rule.emissionUs);
  return { allowed: true, tat: next, retryAfterUs: 0, remaining, resetAfterUs: Math.max(0, next - nowUs) };
}

/**
 * One correction, charged after the fact (never denied: the call it corrects has already happened). A
 * positive `deltaUs` is an overdraft: the schedule moves forward from where `gcraStep` would start it, so
 * later calls wait for it. A negative one is a refund, of at most the part of the reservation still ahead
 * of the clock (`reservedUntilUs`, the TAT its admission stored): time that has already elapsed was
 * already offered to other callers, and giving it back again would admit it twice. A refund never moves
 * the schedule behind the clock (the rested state, a full `burst`) nor behind where it stood. Returns the
 * TAT to store, or `undefined` when there is nothing to store (a refund on a rested key).
 * @example gcraAdjust(now + 900_000, now, toRateRule(10, 1_000, 10), -500_000, now + 900_000) // now + 400_000
 */
export function gcraAdjust(
  tat: number | undefined,
  nowUs: number,
  rule: RateRule,
  deltaUs: number,
  reservedUntilUs = Infinity,
): number | undefined {
  const rested = tat === undefined || tat <= nowUs - rule.restUs;
  if (deltaUs >= 0) return (rested ? nowUs : Math.max(tat, nowUs - rule.creditUs)) + deltaUs;
  if (rested) return undefined;
  const refundUs = Math.min(-deltaUs, Math.max(0, reservedUntilUs - nowUs));
  return Math.max(tat - refundUs, Math.min(tat, nowUs));
}

/** Microseconds to whole milliseconds, rounded up: waiting `retryAfterMs` must be enough. */
export const usToMs = (us: number): number => Math.ceil(us / 1_000);

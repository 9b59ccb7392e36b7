import type { RateRule } from './rate-limiter';

/**
 * The generic cell rate algorithm, as pure arithmetic shared by the memory limiter and mirrored line for
 * line by the Redis script (lib/redis/gcra-script.ts). A key's whole state is one number, its theoretical
 * arrival time (TAT): when the key would be fully rested if nothing more were admitted. Admitting `cost`
 * units pushes the TAT `cost * emission` later; a request fits when the pushed TAT lies no more than the
 * tolerance (`burst * emission`) ahead of now. There are no windows, so there is no window boundary at
 * which two bursts can meet.
 *
 * Everything is whole microseconds: integers below 2^53 are exact in JavaScript and in Redis's Lua, so
 * both implementations reach the same decisions.
 */

/**
 * Builds the rule for `limit` units per `intervalMs`, at most `burst` at once. Arguments must be validated.
 * @example toRateRule(3, 1_000, 1) // { emissionUs: 333_334, toleranceUs: 333_334, ... }
 */
export function toRateRule(limit: number, intervalMs: number, burst: number): RateRule {
  // Rounded up: 3 per second becomes one per 333,334 µs, never four in a second.
  const emissionUs = Math.max(1, Math.ceil((intervalMs * 1_000) / limit));
  return { limit, intervalMs, burst, emissionUs, toleranceUs: burst * emissionUs };
}

/** The cost of `cost` units in microseconds of schedule. */
export function costUs(rule: RateRule, cost: number): number {
  return Math.round(cost * rule.emissionUs);
}

/** The outcome of {@link gcraStep}, all in µs. */
export interface GcraStep {
  readonly allowed: boolean;
  /** The TAT to store (unchanged when denied). */
  readonly tat: number;
  readonly retryAfterUs: number;
  readonly remaining: number;
  readonly resetAfterUs: number;
}

/**
 * One GCRA decision. `tat` is the stored TAT, or undefined for a rested key; store the returned `tat`
 * when `allowed`.
 * @example gcraStep(undefined, now, toRateRule(10, 1_000, 1), 100_000) // { allowed: true, tat: now + 100_000, ... }
 */
export function gcraStep(tat: number | undefined, nowUs: number, rule: RateRule, chargeUs: number): GcraStep {
  const start = tat === undefined || tat < nowUs ? nowUs : tat;
  const next = start + chargeUs;
  const allowAt = next - rule.toleranceUs;
  if (allowAt > nowUs) {
    const remaining = Math.max(0, Math.floor((rule.toleranceUs - (start - nowUs)) / rule.emissionUs));
    return { allowed: false, tat: start, retryAfterUs: allowAt - nowUs, remaining, resetAfterUs: start - nowUs };
  }
  const remaining = Math.floor((rule.toleranceUs - (next - nowUs)) / rule.emissionUs);
  return { allowed: true, tat: next, retryAfterUs: 0, remaining, resetAfterUs: next - nowUs };
}

/** Microseconds to whole milliseconds, rounded up: waiting `retryAfterMs` must be enough. */
export const usToMs = (us: number): number => Math.ceil(us / 1_000);

import type { RateLimiter, RateRule } from '../ports/rate-limiter';

/** Tokens reserved for one attempt on an endpoint, until the answer says what it used. */
export interface TokenReservation {
  readonly limiter: RateLimiter;
  readonly key: string;
  readonly rule: RateRule;
  /** What the request was estimated at. */
  readonly estimate: number;
  /** What was charged: the estimate, at most the endpoint's whole minute. */
  readonly reserved: number;
  readonly reservedUntil: number;
}

/** The outcome of {@link reserveTokens}: a reservation, or the time until the estimate would fit. */
export type TokenAdmission =
  | { readonly admitted: true; readonly reservation: TokenReservation | undefined }
  | { readonly admitted: false; readonly retryAfterMs: number };

/**
 * Reserves `estimate` tokens of an endpoint's `tokensPerMinute` (a reservation larger than the whole
 * minute reserves the minute; the rest is charged by the correction). A limiter that fails (Redis down)
 * does not stop routing: the attempt goes ahead uncounted, as for the request quota.
 */
export async function reserveTokens(
  limiter: RateLimiter,
  key: string,
  rule: RateRule,
  estimate: number,
): Promise<TokenAdmission> {
  const reserved = Math.min(estimate, rule.burst);
  const decision = await limiter.decide(key, rule, reserved).catch(() => undefined);
  if (decision === undefined) return { admitted: true, reservation: undefined };
  if (!decision.allowed) return { admitted: false, retryAfterMs: decision.retryAfterMs };
  return {
    admitted: true,
    reservation: { limiter, key, rule, estimate, reserved, reservedUntil: decision.reservedUntil },
  };
}

/**
 * Corrects a reservation once the attempt has ended: to `used` tokens (from the answer's usage), to
 * nothing when the attempt failed before any answer (`used` 0), or to the estimate when the answer
 * carried no usage (`used` undefined). Never throws: a correction that fails is lost, as a decision
 * that fails is.
 */
export async function settleTokens(reservation: TokenReservation | undefined, used: number | undefined): Promise<void> {
  if (reservation === undefined) return;
  const { limiter, key, rule, reserved, reservedUntil } = reservation;
  const delta = (used ?? reservation.estimate) - reserved;
  if (delta === 0) return;
  await limiter.adjust(key, rule, delta, reservedUntil).catch(() => undefined);
}

/** `usage.total_tokens` of an answer or of a stream chunk, when it carries a valid one. */
export function usedTokens(value: unknown): number | undefined {
  const usage = (value as { usage?: { total_tokens?: unknown } } | null | undefined)?.usage;
  const total = usage?.total_tokens;
  return typeof total === 'number' && Number.isFinite(total) && total >= 0 ? total : undefined;
}

import { parseDuration, type Duration } from '../core/duration';
import {
  assertKeyPart,
  assertKnownOptions,
  assertOneOf,
  assertOptionalFunction,
  assertPlainObject,
  assertPositiveInteger,
  optionError,
  withDefaults,
} from '../core/validate';
import { toRateRule } from './gcra';
import type { RateLimiter, RateRule } from '../ports/rate-limiter';
import { namedRateLimiter } from '../resources/named-resources';

/** What a rate-limited call does when the limiter's store (Redis) fails. */
export type RateLimitStoreErrorPolicy = 'local' | 'allow' | 'deny';

/** Options of `@RateLimited` and {@link rateLimited}. Only `limit` is required. */
export interface RateLimitedOptions<Args extends unknown[] = any[]> {
  /** Units admitted per `interval`, on average. A positive integer; required. */
  readonly limit: number;
  /** The period `limit` is counted over, e.g. `'1m'`. At least 1 ms. @default '1s' */
  readonly interval?: Duration;
  /**
   * Most units a rested key (idle for two slots, `2 * interval / limit`) admits at once. A slot that opens
   * unclaimed stays claimable until the next one opens, and a caller later than that loses only the time
   * beyond one slot, so callers that ask a little late still use the whole quota. What is guaranteed, on
   * a clock read to the microsecond (the Redis server's, for a `RedisRateLimiter`):
   * - in any window of length `interval`, wherever it starts, admissions add up to at most
   *   `limit + burst` units (with fractional costs, less than `limit + burst + 1`);
   * - under sustained demand (someone asks within `interval / limit` of each slot opening), `limit` units
   *   per `interval` in the long run.
   * The one unit over `limit + burst - 1` is the price of not losing late callers' slots. For a hard cap
   * of N in every window, set `limit` to N - `burst`. A positive integer.
   *
   * For a token budget (with `actualCost`) `burst` is in tokens too, and defaults to `limit`: a
   * provider's 90,000 tokens per minute is a bucket of 90,000 that refills continuously, which
   * `{ limit: 90_000, interval: '1m' }` then means.
   * @default 1; `limit` when `actualCost` is given
   */
  readonly burst?: number;
  /**
   * The limit's key, called with the method's `this` and arguments: scope the limit per user, per model.
   * Calls that return the same key through one limiter share one quota, even from different methods.
   * @default `name` (for a method, `Class.method`: one limit shared by every instance)
   */
  readonly key?: (this: any, ...args: Args) => string;
  /**
   * Units one call spends, e.g. estimated tokens; a number from 0 to `burst`. With `actualCost` it is
   * an estimate reserved before the call, and may exceed `burst`: the call then reserves the whole burst
   * and the rest is charged by the correction.
   * @default () => 1
   */
  readonly cost?: (...args: Args) => number;
  /**
   * What the call really spent, read from its result once it has answered, e.g.
   * `(completion) => completion.usage.total_tokens`: the limit becomes a budget of units (tokens) reserved
   * from the `cost` estimate and corrected after the call. The difference from the reservation is
   * charged to the same key at once, never waited for nor refused (the call has happened): an overdraft
   * makes later calls wait longer, a refund lets them in sooner (never beyond the rested state). The
   * call returns after the correction is recorded, so one caller's next call always sees it. Return
   * `undefined` to keep the estimate (a result with no usage). A call that throws refunds its
   * whole reservation. With N calls in flight, any window of `interval` admits at most
   * `limit + burst` units (plus less than one with fractional costs), plus the overdrafts of the calls
   * not yet corrected when the window's last call was admitted.
   * @default none: `cost` is final
   */
  readonly actualCost?: (result: any, ...args: Args) => number | undefined;
  /**
   * `'reject'` throws a `RateLimitError` at once, with `retryAfterMs`; `'wait'` queues the call, first
   * come first served, until it is admitted or `maxWait` has passed.
   * @default 'reject'
   */
  readonly mode?: 'reject' | 'wait';
  /**
   * In `'wait'` mode, the longest a call waits before it fails with a `RateLimitError`; at most 24 days.
   * @default '30s'
   */
  readonly maxWait?: Duration;
  /**
   * Where the limit's state lives: a `RedisRateLimiter` shares it across processes. A string names a limiter
   * registered with `registerResource('rateLimiter', name, limiter)`, looked up at each call.
   * @default a new MemoryRateLimiter
   */
  readonly limiter?: RateLimiter | string;
  /**
   * When the limiter's store fails: `'local'` decides in this process with the same settings until it
   * is back (each process then admits up to the limit on its own); `'allow'` lets the call through;
   * `'deny'` rejects it with a `RateLimitError`.
   * @default 'local'
   */
  readonly onStoreError?: RateLimitStoreErrorPolicy;
  /**
   * The key when there is no `key` option, as a name for the limit.
   * @default `Class.method` for `@RateLimited`; the function's name for {@link rateLimited}
   */
  readonly name?: string;
}

const DEFAULTS = {
  interval: '1s',
  mode: 'reject',
  maxWait: '30s',
  onStoreError: 'local',
} as const satisfies Partial<Required<RateLimitedOptions>>;

const KNOWN = [
  'limit',
  'interval',
  'burst',
  'key',
  'cost',
  'actualCost',
  'mode',
  'maxWait',
  'limiter',
  'onStoreError',
  'name',
] as const;
const MAX_TIMER_MS = 2_147_483_647;
const STORE_ERROR_POLICIES = ['local', 'allow', 'deny'] as const;

/** Options after validation, resolved once per decorated method. See {@link RateLimitedOptions}. */
export interface ResolvedRateLimitedOptions {
  readonly rule: RateRule;
  readonly key: ((this: unknown, ...args: unknown[]) => string) | undefined;
  readonly cost: ((...args: unknown[]) => number) | undefined;
  readonly actualCost: ((result: unknown, ...args: unknown[]) => number | undefined) | undefined;
  readonly mode: 'reject' | 'wait';
  readonly maxWaitMs: number;
  readonly limiter: RateLimiter | undefined;
  readonly onStoreError: RateLimitStoreErrorPolicy;
  readonly name: string | undefined;
}

/**
 * Validates options (a `TypeError` in the standard format on the first problem) and resolves defaults.
 * @example resolveRateLimitedOptions({ limit: 60, interval: '1m' }).rule.emissionUs // 1_000_000
 */
export function resolveRateLimitedOptions(options: RateLimitedOptions): ResolvedRateLimitedOptions {
  assertPlainObject('options', options);
  assertKnownOptions('@RateLimited', options, KNOWN);
  const merged = withDefaults(DEFAULTS, options);
  assertPositiveInteger('limit', merged.limit);
  const intervalMs = parseDuration('interval', merged.interval);
  if (intervalMs < 1) throw optionError('interval', 'a duration of at least 1 ms', merged.interval);
  const burst = merged.burst ?? (merged.actualCost === undefined ? 1 : merged.limit);
  assertPositiveInteger('burst', burst);
  assertOptionalFunction('key', merged.key);
  assertOptionalFunction('cost', merged.cost);
  assertOptionalFunction('actualCost', merged.actualCost);
  assertOneOf('mode', merged.mode, ['reject', 'wait'] as const);
  const maxWaitMs = parseDuration('maxWait', merged.maxWait);
  // setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days).
  if (maxWaitMs > MAX_TIMER_MS) throw optionError('maxWait', 'a duration of at most 24 days', merged.maxWait);
  const limiter = typeof merged.limiter === 'string' ? namedRateLimiter(merged.limiter) : merged.limiter;
  if (
    limiter !== undefined &&
    (typeof limiter !== 'object' ||
      limiter === null ||
      typeof limiter.decide !== 'function' ||
      typeof limiter.adjust !== 'function')
  ) {
    throw optionError('limiter', 'a RateLimiter (MemoryRateLimiter or RedisRateLimiter)', limiter);
  }
  assertOneOf('onStoreError', merged.onStoreError, STORE_ERROR_POLICIES);
  if (merged.name !== undefined) assertKeyPart('name', merged.name);
  return {
    rule: toRateRule(merged.limit, intervalMs, burst),
    key: merged.key as ResolvedRateLimitedOptions['key'],
    cost: merged.cost as ResolvedRateLimitedOptions['cost'],
    actualCost: merged.actualCost as ResolvedRateLimitedOptions['actualCost'],
    mode: merged.mode,
    maxWaitMs,
    limiter,
    onStoreError: merged.onStoreError,
    name: merged.name,
  };
}

import { systemClock, type Clock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import { StoreError } from '../core/errors';
import { Emitter } from '../core/events';
import { assertKeyPart, assertKnownOptions, assertPositiveInteger, withDefaults } from '../core/validate';
import { costUs, usToMs } from '../rate-limit/gcra';
import type { RateDecision, RateLimiter, RateRule } from '../ports/rate-limiter';
import type { RedisClientLike } from './connection';
import { GCRA_DECIDE } from './gcra-script';
import { runLua } from './lua';
import { StoreBreaker, type StoreCircuitState } from './store-breaker';
import { RedisConnection, toStoreError } from './redis-connection';

/** Options of {@link RedisRateLimiter}. Give exactly one of `url` and `client`. */
export interface RedisRateLimiterOptions {
  /** Connection URL, e.g. `redis://:password@host:6379/0`. The limiter creates, connects and closes its client. */
  readonly url?: string;
  /** An existing, connected node-redis client; the limiter uses it and leaves it open. */
  readonly client?: RedisClientLike;
  /**
   * Prepended to every key (`prefix:key`). Processes that share a limit must share the prefix. The
   * default lies outside every cache's prefix, so that `cache.clear()` leaves the limits alone.
   * @default 'cachet-rate'
   */
  readonly prefix?: string;
  /**
   * Longest wait for one decision; past it the decision fails and the caller's `onStoreError` applies.
   * @default '250ms'
   */
  readonly operationTimeout?: Duration;
  /** Consecutive failures after which decisions skip Redis for `breakerCooldown`. @default 3 */
  readonly breakerThreshold?: number;
  /** How long decisions skip Redis once the breaker opens; then one probe tries it. @default '1s' */
  readonly breakerCooldown?: Duration;
  /** Time source of the breaker, for tests. (Decisions use the Redis server's clock.) @default Date.now */
  readonly clock?: Clock;
}

const DEFAULTS = {
  prefix: 'cachet-rate',
  operationTimeout: '250ms',
  breakerThreshold: 3,
  breakerCooldown: '1s',
  clock: systemClock,
} as const satisfies Omit<Required<RedisRateLimiterOptions>, 'url' | 'client'>;

const KNOWN = ['url', 'client', ...Object.keys(DEFAULTS)];

/** Events of a {@link RedisRateLimiter}. */
export interface RedisRateLimiterEvents {
  /** A decision failed (timeout, connection, open circuit); the caller's `onStoreError` decided instead. */
  error: (error: StoreError) => void;
  /** The circuit in front of Redis changed state. */
  circuit: (state: StoreCircuitState) => void;
}

/**
 * A {@link RateLimiter} in Redis: each decision is one atomic GCRA script on the server's clock, so any
 * number of processes sharing a key together admit at most the limit. The script is called by SHA and
 * re-sent when Redis answers NOSCRIPT (after a restart or `SCRIPT FLUSH`). Every decision is bounded by
 * `operationTimeout`, and a breaker skips Redis during an outage, so a caller never hangs on it.
 *
 * @example
 * const limiter = new RedisRateLimiter({ url: process.env.REDIS_URL });
 * class Client {
 *   @RateLimited({ limit: 500, interval: '1m', burst: 20, limiter, key: (model) => `model:${model}` })
 *   async chat(model: string, prompt: string): Promise<string> { ... }
 * }
 */
export class RedisRateLimiter implements RateLimiter {
  readonly name = 'redis';
  readonly events = new Emitter<RedisRateLimiterEvents>();
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #breaker: StoreBreaker;
  #errors = 0;

  constructor(options: RedisRateLimiterOptions) {
    assertKnownOptions('RedisRateLimiter', options, KNOWN);
    const resolved = withDefaults(DEFAULTS, options);
    assertKeyPart('prefix', resolved.prefix);
    this.#prefix = `${resolved.prefix}:`;
    const timeoutMs = parseDuration('operationTimeout', resolved.operationTimeout);
    assertPositiveInteger('operationTimeout', timeoutMs);
    assertPositiveInteger('breakerThreshold', resolved.breakerThreshold);
    const cooldownMs = parseDuration('breakerCooldown', resolved.breakerCooldown);
    this.#breaker = new StoreBreaker(resolved.breakerThreshold, cooldownMs, resolved.clock, (state) =>
      this.events.emit('circuit', state),
    );
    this.#redis = new RedisConnection(resolved, timeoutMs);
  }

  /** State of the circuit in front of Redis. */
  get circuit(): StoreCircuitState {
    return this.#breaker.state;
  }

  /** Decisions that failed since the limiter was created. */
  get errors(): number {
    return this.#errors;
  }

  async decide(key: string, rule: RateRule, cost: number): Promise<RateDecision> {
    const redisKey = this.#prefix + key;
    try {
      this.#breaker.enter('rate', redisKey);
      const reply = await this.#redis.send('rate', redisKey, (client) =>
        runLua<number[]>(client, GCRA_DECIDE, [redisKey], [
          String(rule.emissionUs),
          String(rule.toleranceUs),
          String(costUs(rule, cost)),
          String(rule.creditUs),
          String(rule.restUs),
        ]),
      );
      this.#breaker.success();
      const [allowed, retryAfterUs, remaining, resetAfterUs, nowUs] = reply as [number, number, number, number, number];
      return {
        allowed: allowed === 1,
        retryAfterMs: usToMs(retryAfterUs),
        remaining,
        resetAfterMs: usToMs(resetAfterUs),
        at: nowUs / 1_000,
      };
    } catch (error) {
      // A skipped call (open circuit) is not a new failure; only real round trips move the breaker.
      if (!(error instanceof StoreError && error.code === 'ERR_CACHET_STORE_UNAVAILABLE')) this.#breaker.failure();
      const wrapped = toStoreError(error, 'rate', redisKey);
      this.#errors++;
      this.events.emit('error', wrapped);
      throw wrapped;
    }
  }

  /** Closes the connection the limiter opened (a client passed in is left open). Never waits on a Redis that is down. */
  async close(): Promise<void> {
    await this.#redis.close();
  }
}

import type { StoreError } from '../core/errors';
import { Emitter } from '../core/events';
import { assertKeyPart, assertKnownOptions } from '../core/validate';
import { adjustmentUs, costUs, usToMs } from '../rate-limit/gcra';
import type { RateAdjustment, RateDecision, RateLimiter, RateRule } from '../ports/rate-limiter';
import { GCRA_ADJUST, GCRA_DECIDE } from './gcra-script';
import { runLua } from './lua';
import {
  CONNECTION_OPTIONS,
  RedisExecutor,
  toStoreError,
  type RedisConnectionOptions,
  type StoreCircuitState,
} from './redis-executor';

/** Options of {@link RedisRateLimiter}. Give exactly one of `url` and `client`. */
export interface RedisRateLimiterOptions extends RedisConnectionOptions {
  /**
   * Prepended to every key (`prefix:key`). Processes that share a limit must share the prefix. The
   * default lies outside every cache's prefix, so that `cache.clear()` leaves the limits alone.
   * @default 'cachet-rate'
   */
  readonly prefix?: string;
}

const KNOWN = [...CONNECTION_OPTIONS, 'prefix'];

/** Events of a {@link RedisRateLimiter}. */
export interface RedisRateLimiterEvents {
  /** A decision failed (timeout, connection, open circuit); the caller's `onStoreError` decided instead. */
  error: (error: StoreError) => void;
  /**
   * The circuit in front of Redis changed state. On a cluster each master has its own breaker; this is
   * the worst of them (`open` when any master's is), and `circuits` has each.
   */
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
  readonly events: Emitter<RedisRateLimiterEvents>;
  readonly #redis: RedisExecutor;
  readonly #prefix: string;
  #errors = 0;

  constructor(options: RedisRateLimiterOptions) {
    assertKnownOptions('RedisRateLimiter', options, KNOWN);
    const prefix = options.prefix ?? 'cachet-rate';
    assertKeyPart('prefix', prefix);
    this.#prefix = `${prefix}:`;
    this.#redis = new RedisExecutor(options, { owner: 'RedisRateLimiter' }, (state) =>
      this.events.emit('circuit', state),
    );
    this.events = new Emitter(this.#redis.logger);
  }

  /** State of the circuit in front of Redis. */
  get circuit(): StoreCircuitState {
    return this.#redis.circuit;
  }

  /** On a cluster, the state of each master's breaker, by address (`host:port`). */
  get circuits(): ReadonlyMap<string, StoreCircuitState> {
    return this.#redis.circuits;
  }

  /** Decisions and corrections that failed since the limiter was created. */
  get errors(): number {
    return this.#errors;
  }

  async decide(key: string, rule: RateRule, cost: number): Promise<RateDecision> {
    const redisKey = this.#prefix + key;
    try {
      const reply = await this.#redis.run('rate', redisKey, (client) =>
        runLua<number[]>(
          client,
          GCRA_DECIDE,
          [redisKey],
          [
            String(rule.emissionUs),
            String(rule.toleranceUs),
            String(costUs(rule, cost)),
            String(rule.creditUs),
            String(rule.restUs),
          ],
        ),
      );
      const [allowed, retryAfterUs, remaining, resetAfterUs, nowUs] = reply as [number, number, number, number, number];
      return {
        allowed: allowed === 1,
        retryAfterMs: usToMs(retryAfterUs),
        remaining,
        resetAfterMs: usToMs(resetAfterUs),
        at: nowUs / 1_000,
        reservedUntil: (allowed === 1 ? nowUs + resetAfterUs : nowUs) / 1_000,
      };
    } catch (error) {
      throw this.#failed(error, redisKey);
    }
  }

  async adjust(key: string, rule: RateRule, delta: number, reservedUntil?: number): Promise<RateAdjustment> {
    const redisKey = this.#prefix + key;
    try {
      const reply = await this.#redis.run('rate', redisKey, (client) =>
        runLua<number[]>(
          client,
          GCRA_ADJUST,
          [redisKey],
          [
            String(adjustmentUs(rule, delta)),
            String(rule.creditUs),
            String(rule.restUs),
            reservedUntil === undefined ? '-1' : String(Math.round(reservedUntil * 1_000)),
          ],
        ),
      );
      return { at: (reply[1] as number) / 1_000 };
    } catch (error) {
      throw this.#failed(error, redisKey);
    }
  }

  #failed(error: unknown, redisKey: string): StoreError {
    const wrapped = toStoreError(error, 'rate', redisKey);
    this.#errors++;
    this.events.emit('error', wrapped);
    return wrapped;
  }

  /** Closes the connection the limiter opened (a client passed in is left open). Never waits on a Redis that is down. */
  async close(): Promise<void> {
    await this.#redis.close();
  }
}

import { systemClock, type Clock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import { StoreError, StoreUnavailableError } from '../core/errors';
import { assertPositiveInteger, optionError, withDefaults } from '../core/validate';
import { closeClient } from './close-client';
import { ClusterClientAdapter, isClusterClient, type RedisClusterLike } from './cluster';
import { createOwnedClient, type RedisClientLike } from './connection';
import { StoreBreaker, type StoreCircuitState } from './store-breaker';
import { TimeoutSweeper } from './timeout-sweeper';

export type { StoreCircuitState } from './store-breaker';

/**
 * How every Redis class connects and fails: the same options, the same defaults, in `RedisStore`,
 * `RedisRateLimiter`, `RedisSemaphore`, `RedisCircuitState`, `RedisCostLedger` and `RedisBlobStore`.
 * Give exactly one of `url` and `client`.
 */
export interface RedisConnectionOptions {
  /** Connection URL, e.g. `redis://:password@host:6379/0`. The class creates, connects and closes its client. */
  readonly url?: string;
  /**
   * An existing node-redis client (`createClient()` from `redis`) or cluster client (`createCluster()`),
   * used as it is and not closed. Connect it yourself and give it an `error` listener.
   */
  readonly client?: RedisClientLike | RedisClusterLike;
  /**
   * Longest wait for one Redis operation while the connection answers nothing; past it the operation
   * fails and the caller goes on without Redis. However replies trickle in, no operation waits longer
   * than 10 times this.
   * @default '250ms' ('2s' for RedisCostLedger and RedisBlobStore, whose operations carry more data)
   */
  readonly operationTimeout?: Duration;
  /** Consecutive failures after which operations skip Redis for `breakerCooldown`. @default 3 */
  readonly breakerThreshold?: number;
  /** How long operations skip Redis once the breaker opens; then one probe decides whether it is back. @default '1s' */
  readonly breakerCooldown?: Duration;
  /** Time source of the breaker, for tests. @default Date.now */
  readonly clock?: Clock;
}

/** The option names of {@link RedisConnectionOptions}, for the classes' own `assertKnownOptions`. */
export const CONNECTION_OPTIONS = [
  'url',
  'client',
  'operationTimeout',
  'breakerThreshold',
  'breakerCooldown',
  'clock',
] as const;

const DEFAULTS = {
  operationTimeout: '250ms',
  breakerThreshold: 3,
  breakerCooldown: '1s',
  clock: systemClock,
} as const satisfies Omit<Required<RedisConnectionOptions>, 'url' | 'client'>;

/**
 * The one way cachet sends commands to Redis: the client (a URL it connects, or one the caller owns; a
 * cluster client goes through the {@link ClusterClientAdapter}), the operation timeout, the breaker and
 * the mapping of failures to {@link StoreError}s. Every Redis class holds one.
 *
 * The breaker ({@link StoreBreaker}, the same state machine as `@CircuitBreaker`) opens after
 * `breakerThreshold` consecutive failures for `breakerCooldown`, then lets one probe through, whose
 * outcome closes or reopens it. Without it, every call during an outage would wait out the timeout.
 */
export class RedisExecutor {
  readonly client: RedisClientLike;
  readonly timeoutMs: number;
  readonly #owned: boolean;
  readonly #timeouts: TimeoutSweeper;
  readonly #breaker: StoreBreaker;
  #connecting: Promise<unknown> | undefined;
  #closed = false;

  /**
   * Validates and resolves the connection options (the class has checked that no unknown option is
   * present). `defaults` overrides the common defaults for one class.
   * @throws TypeError unless exactly one of `url` (a redis:// or rediss:// URL) and `client` is given, or
   * for an invalid timeout or breaker setting.
   */
  constructor(
    options: RedisConnectionOptions,
    defaults: Partial<Omit<RedisConnectionOptions, 'url' | 'client'>> = {},
    onCircuit: (state: StoreCircuitState) => void = () => {},
  ) {
    const o = withDefaults(withDefaults(DEFAULTS, defaults), options);
    const { url, client } = o;
    if ((url === undefined) === (client === undefined)) {
      throw optionError('url or client', 'exactly one of a Redis URL or a node-redis client', { url, client });
    }
    this.timeoutMs = parseDuration('operationTimeout', o.operationTimeout);
    assertPositiveInteger('operationTimeout', this.timeoutMs);
    assertPositiveInteger('breakerThreshold', o.breakerThreshold);
    const cooldownMs = parseDuration('breakerCooldown', o.breakerCooldown);
    if (typeof o.clock?.now !== 'function') throw optionError('clock', 'an object with a now() method', o.clock);
    this.#breaker = new StoreBreaker(o.breakerThreshold, cooldownMs, o.clock, onCircuit);
    this.#timeouts = new TimeoutSweeper(this.timeoutMs);
    if (url === undefined) {
      this.client = isClusterClient(client) ? new ClusterClientAdapter(client) : (client as RedisClientLike);
      this.#owned = false;
      return;
    }
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url))
      throw optionError('url', 'a redis:// or rediss:// URL', url);
    this.client = createOwnedClient(url, this.timeoutMs * 4);
    this.#owned = true;
    // Without a listener node-redis would crash the process on a connection error.
    this.client.on('error', () => {});
    this.#connecting = this.client.connect().finally(() => (this.#connecting = undefined));
    this.#connecting.catch(() => {});
  }

  /** The breaker's state. */
  get circuit(): StoreCircuitState {
    return this.#breaker.state;
  }

  /** Throws {@link StoreUnavailableError} when the breaker skips Redis now; costs one comparison when closed. */
  enter(operation: string, key?: string): void {
    this.#breaker.enter(operation, key);
  }

  /** One round trip behind the breaker, under the operation timeout; failures reject as {@link StoreError}s. */
  run<T>(operation: string, key: string | undefined, command: (client: RedisClientLike) => Promise<T>): Promise<T> {
    try {
      this.enter(operation, key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(operation, key, command);
  }

  /** {@link run} for a caller that has already called {@link enter} (the batched read path). */
  async send<T>(
    operation: string,
    key: string | undefined,
    command: (client: RedisClientLike) => Promise<T>,
  ): Promise<T> {
    try {
      const result = await this.always(operation, key, command);
      this.#breaker.success();
      return result;
    } catch (error) {
      // An operation the breaker skipped is not a new failure.
      if (!(error instanceof StoreUnavailableError)) this.#breaker.failure();
      throw error;
    }
  }

  /**
   * A round trip that goes out even while the breaker is open, and does not move it: giving back a
   * lease or a slot, which must not be skipped. Bounded by the timeout, failures mapped.
   *
   * An operation that times out while the first connection is still being made is never sent
   * afterwards: its caller was told it failed, and a late write could overwrite a newer value or charge
   * a quota twice. After {@link close} every operation fails, also on a client passed in.
   */
  async always<T>(
    operation: string,
    key: string | undefined,
    command: (client: RedisClientLike) => Promise<T>,
  ): Promise<T> {
    let abandoned = false;
    try {
      if (this.#closed) throw new Error('the connection was closed');
      const sent =
        this.#connecting === undefined
          ? command(this.client)
          : this.#connecting.then(() =>
              abandoned ? Promise.reject(new Error('abandoned after timeout')) : command(this.client),
            );
      return await this.#timeouts.guard(sent, operation, key);
    } catch (error) {
      abandoned = true;
      throw toStoreError(error, operation, key);
    }
  }

  /** Closes the client if this executor opened it (a client passed in is left open). Never waits on a Redis that is down. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#timeouts.stop();
    if (this.#owned) await closeClient(this.client);
  }
}

/** Wraps a driver error as a {@link StoreError} (one already is passes through). */
export function toStoreError(error: unknown, operation: string, key: string | undefined): StoreError {
  if (error instanceof StoreError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError(operation, key, `Redis \`${operation}\` failed: ${detail}`, { cause: error });
}

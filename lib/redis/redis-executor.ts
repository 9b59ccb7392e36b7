import { systemClock, type Clock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import { StoreError, StoreUnavailableError } from '../core/errors';
import { assertLogger, logEvent, type CachetLogger } from '../core/logger';
import { assertPositiveInteger, optionError, withDefaults } from '../core/validate';
import { closeClient } from './close-client';
import { ClusterClientAdapter, isClusterClient, type RedisClusterLike } from './cluster';
import { createOwnedClient, type RedisClientLike } from './connection';
import { BreakerLog } from './breaker-log';
import { StoreBreaker, type StoreCircuitState } from './store-breaker';
import { TimeoutSweeper } from './timeout-sweeper';

export type { StoreCircuitState } from './store-breaker';

/**
 * How every Redis class connects and fails: the same options, the same defaults, in `RedisStore`,
 * `RedisRateLimiter`, `RedisSemaphore`, `RedisCircuitState`, `RedisCostLedger`, `RedisBlobStore` and
 * `RedisRouterHealth`.
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
  /**
   * Where the breaker opening and closing is logged (and, for a `RedisStore`, its notice channel being
   * lost and restored): `console`, a pino or NestJS logger. @default the one `setLogger` set, else none
   */
  readonly logger?: CachetLogger;
}

/** The option names of {@link RedisConnectionOptions}, for the classes' own `assertKnownOptions`. */
export const CONNECTION_OPTIONS = [
  'url',
  'client',
  'operationTimeout',
  'breakerThreshold',
  'breakerCooldown',
  'clock',
  'logger',
] as const;

const DEFAULTS = {
  operationTimeout: '250ms',
  breakerThreshold: 3,
  breakerCooldown: '1s',
  clock: systemClock,
} as const satisfies Omit<Required<RedisConnectionOptions>, 'url' | 'client' | 'logger'>;

/** Per-class settings of an executor: defaults that differ from the common ones, and the class's name in logs. */
export type ExecutorSetup = Partial<Omit<RedisConnectionOptions, 'url' | 'client' | 'logger'>> & {
  /** The Redis class, as the `backend` field of its log messages. @default 'Redis' */
  readonly owner?: string;
};

/**
 * The most time one call spends on Redis operations that fail, however Redis fails (a node down, hung,
 * or failing over): `(breakerThreshold + 1) × 1.25 × operationTimeout`. A failed operation rejects after
 * at most 1.25 × `operationTimeout` (the timeout sweeps four times per timeout); after `breakerThreshold`
 * consecutive failures on a node its breaker skips it at once, and after each cooldown one more operation
 * probes it. Waiting for another process's fill comes on top, bounded by `lock.wait` and ended at once
 * when that fill's lease is abandoned or its node's breaker opens. With the defaults: 1,250 ms.
 */
export function redisFailureBoundMs(
  options: Pick<RedisConnectionOptions, 'operationTimeout' | 'breakerThreshold'> = {},
): number {
  const timeoutMs = parseDuration('operationTimeout', options.operationTimeout ?? DEFAULTS.operationTimeout);
  const threshold = options.breakerThreshold ?? DEFAULTS.breakerThreshold;
  assertPositiveInteger('breakerThreshold', threshold);
  return (threshold + 1) * timeoutMs * 1.25;
}

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
  /** On a cluster, the adapter that tells which master serves a key; one lane per master then. */
  readonly #cluster: ClusterClientAdapter | undefined;
  /** A single Redis's one lane; on a cluster, one per master in {@link #lanes}. */
  readonly #single: Lane | undefined;
  readonly #lanes = new Map<string, Lane>();
  readonly #newLane: (node: string) => Lane;
  readonly #onCircuit: (state: StoreCircuitState) => void;
  readonly #owner: string;
  readonly logger: CachetLogger | undefined;
  #reported: StoreCircuitState = 'closed';
  /** Which master {@link runAnywhere} tries first next. */
  #turn = 0;
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
    setup: ExecutorSetup = {},
    onCircuit: (state: StoreCircuitState) => void = () => {},
  ) {
    const { owner = 'Redis', ...defaults } = setup;
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
    if (o.logger !== undefined) assertLogger('logger', o.logger);
    this.logger = o.logger;
    this.#owner = owner;
    this.#onCircuit = onCircuit;
    const clock = o.clock;
    this.#newLane = (node) => {
      // `node` is '' for a single Redis, a master's address on a cluster, '*' for commands without a key.
      const where = node ? { backend: this.#owner, node } : { backend: this.#owner };
      const label = !node ? '' : node === '*' ? ' (commands without a key)' : ` (master ${node})`;
      const log = new BreakerLog(o.breakerThreshold, cooldownMs, clock, (level, fields, message) =>
        logEvent(this.logger, level, { ...fields, ...where }, `${this.#owner}${label}: ${message}`),
      );
      return {
        breaker: new StoreBreaker(o.breakerThreshold, cooldownMs, clock, (state) => {
          log.changed(state);
          this.#laneChanged();
        }),
        timeouts: new TimeoutSweeper(this.timeoutMs),
      };
    };
    if (url === undefined) {
      this.#cluster = isClusterClient(client) ? new ClusterClientAdapter(client) : undefined;
      this.#single = this.#cluster === undefined ? this.#newLane('') : undefined;
      this.client = this.#cluster ?? (client as RedisClientLike);
      this.#owned = false;
      return;
    }
    this.#cluster = undefined;
    this.#single = this.#newLane('');
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url))
      throw optionError('url', 'a redis:// or rediss:// URL', url);
    this.client = createOwnedClient(url, this.timeoutMs * 4);
    this.#owned = true;
    // Without a listener node-redis would crash the process on a connection error.
    this.client.on('error', () => {});
    this.#connecting = this.client.connect().finally(() => (this.#connecting = undefined));
    this.#connecting.catch(() => {});
  }

  /**
   * The breaker's state; on a cluster, the worst of the masters' (`open` if any master's breaker is open),
   * see {@link circuits} for each.
   */
  get circuit(): StoreCircuitState {
    if (this.#single !== undefined) return this.#single.breaker.state;
    const masters = new Set((this.#cluster as ClusterClientAdapter).masterAddresses());
    let worst: StoreCircuitState = 'closed';
    for (const [node, lane] of this.#lanes) {
      // A master that failed over serves nothing any more: its breaker no longer matters.
      if (node !== '*' && !masters.has(node)) continue;
      const state = lane.breaker.state;
      if (state === 'open') return 'open';
      if (state === 'half-open') worst = 'half-open';
    }
    return worst;
  }

  /** Each breaker's state, by the master it guards (`''` for a single Redis, `*` for commands without a key). */
  get circuits(): ReadonlyMap<string, StoreCircuitState> {
    if (this.#single !== undefined) return new Map([['', this.#single.breaker.state]]);
    return new Map([...this.#lanes].map(([node, lane]) => [node, lane.breaker.state]));
  }

  /**
   * Throws {@link StoreUnavailableError} when the breaker of the node that serves `key` skips Redis now.
   * Costs one comparison when closed (and, on a cluster, finding the key's master).
   */
  enter(operation: string, key?: string): void {
    this.#laneOf(key).breaker.enter(operation, key);
  }

  /** Whether the node that serves `key` is skipped by its breaker now (a waiter stops polling it). */
  skips(key: string): boolean {
    return this.#laneOf(key).breaker.state === 'open';
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

  /**
   * A command that any node can run (`PUBLISH`: on a cluster any node carries it to every subscriber).
   * On a cluster it goes to a master whose breaker lets it through, taking the masters in turn, so a dead
   * master neither delays nor loses it; on one Redis it is {@link run}.
   */
  runAnywhere<T>(operation: string, command: (client: RedisClientLike) => Promise<T>): Promise<T> {
    const cluster = this.#cluster;
    if (cluster === undefined) return this.run(operation, undefined, command);
    const masters = cluster.masterAddresses();
    const start = this.#turn++ % Math.max(1, masters.length);
    let refusal: unknown = new StoreUnavailableError(operation, undefined, 0);
    for (let i = 0; i < masters.length; i++) {
      const address = masters[(start + i) % masters.length] as string;
      const lane = this.#laneAt(address);
      try {
        lane.breaker.enter(operation);
      } catch (error) {
        refusal = error;
        continue;
      }
      return this.#sendCounted(lane, operation, undefined, async () => command(await cluster.masterClient(address)));
    }
    return Promise.reject(refusal);
  }

  /** {@link run} for a caller that has already called {@link enter} (the batched read path). */
  send<T>(operation: string, key: string | undefined, command: (client: RedisClientLike) => Promise<T>): Promise<T> {
    return this.#sendCounted(this.#laneOf(key), operation, key, command);
  }

  /** Sends on `lane`, and tells its breaker how it went. */
  async #sendCounted<T>(
    lane: Lane,
    operation: string,
    key: string | undefined,
    command: (client: RedisClientLike) => Promise<T>,
  ): Promise<T> {
    try {
      const result = await this.#sendOn(lane, operation, key, command);
      lane.breaker.success();
      return result;
    } catch (error) {
      // An operation the breaker skipped is not a new failure.
      if (!(error instanceof StoreUnavailableError)) lane.breaker.failure();
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
  always<T>(operation: string, key: string | undefined, command: (client: RedisClientLike) => Promise<T>): Promise<T> {
    return this.#sendOn(this.#laneOf(key), operation, key, command);
  }

  async #sendOn<T>(
    lane: Lane,
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
      return await lane.timeouts.guard(sent, operation, key);
    } catch (error) {
      abandoned = true;
      throw toStoreError(error, operation, key);
    }
  }

  /** Closes the client if this executor opened it (a client passed in is left open). Never waits on a Redis that is down. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#single?.timeouts.stop();
    for (const lane of this.#lanes.values()) lane.timeouts.stop();
    if (this.#owned) await closeClient(this.client);
  }

  /**
   * The lane (breaker and timeouts) of the node that serves `key`. A single Redis has one. On a cluster,
   * each master has its own, so a failed master costs only the keys it serves, and a replica promoted in
   * its place starts with a lane of its own; commands without a key share one more.
   */
  #laneOf(key: string | undefined): Lane {
    if (this.#single !== undefined) return this.#single;
    return this.#laneAt(key === undefined ? '*' : ((this.#cluster as ClusterClientAdapter).nodeOf(key) ?? '*'));
  }

  #laneAt(node: string): Lane {
    let lane = this.#lanes.get(node);
    if (lane === undefined) this.#lanes.set(node, (lane = this.#newLane(node)));
    return lane;
  }

  /** Reports the state of {@link circuit} when a breaker's change changes it. */
  #laneChanged(): void {
    const state = this.circuit;
    if (state === this.#reported) return;
    this.#reported = state;
    this.#onCircuit(state);
  }
}

/** One node's breaker and timeouts. */
interface Lane {
  readonly breaker: StoreBreaker;
  readonly timeouts: TimeoutSweeper;
}

/** Wraps a driver error as a {@link StoreError} (one already is passes through). */
export function toStoreError(error: unknown, operation: string, key: string | undefined): StoreError {
  if (error instanceof StoreError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError(operation, key, `Redis \`${operation}\` failed: ${detail}`, { cause: error });
}

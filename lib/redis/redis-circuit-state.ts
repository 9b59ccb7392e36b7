import { randomUUID } from 'node:crypto';
import type { StoreError } from '../core/errors';
import { Emitter } from '../core/events';
import { assertKnownOptions, optionError, withDefaults } from '../core/validate';
import { MemoryCircuitState } from '../resilience/memory-circuit-state';
import {
  type CircuitAdmission,
  type CircuitOutcome,
  type CircuitPolicy,
  type CircuitStateName,
  type CircuitStateStore,
} from '../ports/circuit-state';
import { CIRCUIT_ENTER, CIRCUIT_REPORT } from './circuit-scripts';
import { assertAnchorKeyPart, canAnchor, companionKey } from './hash-tag';
import { runLua, type LuaScript } from './lua';
import { CONNECTION_OPTIONS, RedisExecutor, toStoreError, type RedisConnectionOptions } from './redis-executor';

/** Options of {@link RedisCircuitState}. Give exactly one of `url` and `client`. */
export interface RedisCircuitStateOptions extends RedisConnectionOptions {
  /**
   * Start of each circuit's state key, `<prefix>:<circuit name>`; its probe slot is
   * `{<prefix>:<circuit name>}:probe`, which a Redis Cluster keeps in the same hash slot. Processes that
   * share circuits must share the prefix. No `}`, unless the prefix holds a hash tag. The default lies
   * outside every cache's prefix, so that `cache.clear()` leaves the circuits alone.
   * @default 'cachet-circuit'
   */
  readonly prefix?: string;
  /**
   * Whose clock times the circuits. `true`: the Redis server's `TIME`, which every process shares
   * whatever its own clock says. `false`: each breaker's `clock` option, for tests with a manual clock or
   * when all hosts' clocks are synchronised. The probe slot's expiry is always in server time.
   * @default true
   */
  readonly serverTime?: boolean;
}

const DEFAULTS = { prefix: 'cachet-circuit', serverTime: true } as const satisfies Pick<
  Required<RedisCircuitStateOptions>,
  'prefix' | 'serverTime'
>;

const KNOWN = [...CONNECTION_OPTIONS, ...Object.keys(DEFAULTS)] as const;

/** Events of a {@link RedisCircuitState}. */
export interface RedisCircuitStateEvents {
  /** A Redis operation failed or timed out; that decision was taken by the local fallback instead. */
  error: (error: StoreError) => void;
}

/**
 * Circuit breaker state in Redis, so that every process sees one circuit per name and only one process
 * at a time sends the half-open probe. Each decision is one atomic Lua script ({@link CIRCUIT_ENTER},
 * {@link CIRCUIT_REPORT}).
 *
 * Redis faults never break calls: a decision that fails or times out is taken by an in-process
 * {@link MemoryCircuitState} instead (reported as an `error` event), so during an outage each process
 * runs its own local circuit, and goes back to the shared one when Redis answers again. Local and shared
 * state are not merged: failures counted locally do not reach Redis.
 *
 * On a Redis Cluster (a `createCluster()` client) a circuit's two keys share one hash slot, and different
 * circuits spread over the masters. Server time is then the clock of the master that holds the circuit.
 *
 * @example
 * const state = new RedisCircuitState({ url: process.env.REDIS_URL });
 * const openai = new Circuit({ name: 'openai', store: state, threshold: 5 });
 */
export class RedisCircuitState implements CircuitStateStore {
  readonly events = new Emitter<RedisCircuitStateEvents>();
  readonly #redis: RedisExecutor;
  readonly #prefix: string;
  readonly #serverTime: boolean;
  readonly #local = new MemoryCircuitState();

  constructor(options: RedisCircuitStateOptions) {
    assertKnownOptions('RedisCircuitState', options, KNOWN);
    const o = withDefaults(DEFAULTS, options);
    assertAnchorKeyPart('prefix', o.prefix);
    if (typeof o.serverTime !== 'boolean') throw optionError('serverTime', 'a boolean', o.serverTime);
    this.#prefix = o.prefix;
    this.#serverTime = o.serverTime;
    this.#redis = new RedisExecutor(o, { owner: 'RedisCircuitState' });
  }

  async enter(name: string, policy: CircuitPolicy, now: number): Promise<CircuitAdmission> {
    // Redis tokens are marked so that report() knows which store admitted a probe.
    const token = `r-${randomUUID()}`;
    try {
      const [admitted, state, extra] = await this.#run<[number, CircuitStateName, number]>(
        'circuit-enter',
        name,
        CIRCUIT_ENTER,
        [this.#time(now), token, String(policy.probeTimeoutMs), String(ttlMs(policy))],
      );
      if (admitted === 1) return { admitted: true, state, probe: extra === 1 ? token : undefined };
      return { admitted: false, state, retryAfterMs: Number(extra) };
    } catch {
      return this.#local.enterNow(name, policy, now);
    }
  }

  async report(name: string, policy: CircuitPolicy, outcome: CircuitOutcome, now: number): Promise<CircuitStateName> {
    if (outcome.probe !== undefined && !outcome.probe.startsWith('r-'))
      return this.#local.reportNow(name, policy, outcome, now);
    try {
      return await this.#run<CircuitStateName>('circuit-report', name, CIRCUIT_REPORT, [
        this.#time(now),
        outcome.failed ? '1' : '0',
        outcome.probe ?? '',
        String(policy.threshold),
        String(policy.failureRate),
        String(policy.minimumCalls),
        String(policy.windowMs),
        String(policy.halfOpenAfterMs),
        String(ttlMs(policy)),
      ]);
    } catch {
      // A Redis probe whose report is lost leaves the shared circuit half-open until its slot expires.
      return this.#local.reportNow(name, policy, { failed: outcome.failed, probe: undefined }, now);
    }
  }

  /** Closes the client if this store created it (from `url`). */
  async close(): Promise<void> {
    await this.#redis.close();
  }

  #time(now: number): string {
    return this.#serverTime ? '-1' : String(Math.floor(now));
  }

  async #run<T>(operation: string, name: string, script: LuaScript, args: string[]): Promise<T> {
    const key = stateKey(this.#prefix, name);
    try {
      return await this.#redis.run(operation, key, (client) =>
        runLua<T>(client, script, [key, companionKey(key, ':probe')], args),
      );
    } catch (error) {
      const storeError = toStoreError(error, operation, key);
      this.events.emit('error', storeError);
      throw storeError;
    }
  }
}

/**
 * The circuit's state hash, `<prefix>:<name>`. A name with a `}` outside a hash tag could not anchor its
 * probe slot on a cluster, so its key is braced whole (`{<prefix>:<name>}`); the prefix has no `}` then
 * (it passed `assertAnchorKeyPart`), so the tag is never empty.
 */
function stateKey(prefix: string, name: string): string {
  const key = `${prefix}:${name}`;
  return canAnchor(key) ? key : `{${key}}`;
}

/** Keys outlive every span the circuit needs (an open period, a window, a probe), then expire unused. */
function ttlMs(policy: CircuitPolicy): number {
  return policy.windowMs + policy.halfOpenAfterMs + policy.probeTimeoutMs;
}

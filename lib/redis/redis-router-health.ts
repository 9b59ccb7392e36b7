import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { StoreError } from '../core/errors';
import { Emitter } from '../core/events';
import { assertKeyPart, assertKnownOptions, withDefaults } from '../core/validate';
import type {
  EndpointHealthStore,
  FailureOutcome,
  HealthFailure,
  HealthPolicy,
  ProbeClaim,
  SharedEndpointView,
} from '../ports/endpoint-health';
import { COMMAND_OPTIONS } from './connection';
import { assertAnchorKeyPart, canAnchor, companionKey } from './hash-tag';
import { runLua, type LuaScript } from './lua';
import { RedisNoticeBus } from './notice-bus';
import {
  CONNECTION_OPTIONS,
  RedisExecutor,
  toStoreError,
  type RedisConnectionOptions,
  type StoreCircuitState,
} from './redis-executor';
import { HEALTH_ABANDONED, HEALTH_CLAIM, HEALTH_FAILED, HEALTH_READ, HEALTH_SUCCEEDED } from './router-health-scripts';

/** Options of {@link RedisRouterHealth}. Give exactly one of `url` and `client`. */
export interface RedisRouterHealthOptions extends RedisConnectionOptions {
  /**
   * Start of each endpoint's keys (`<prefix>:<endpoint>` and its companions in the same cluster hash
   * slot) and of the channel of change notices. Routers that share health must share the prefix; no `}`
   * unless it holds a hash tag. @default 'cachet-router'
   */
  readonly prefix?: string;
  /** Names this instance in `health()`'s `prober`. @default `<hostname>:<pid>:<random>` */
  readonly instance?: string;
}

const DEFAULTS = { prefix: 'cachet-router' } as const;
const KNOWN = [...CONNECTION_OPTIONS, 'prefix', 'instance'] as const;

/** Events of a {@link RedisRouterHealth}. */
export interface RedisRouterHealthEvents {
  /** A Redis operation failed or timed out; the router decided alone instead (its `healthError` event). */
  error: (error: StoreError) => void;
  /** The circuit in front of Redis changed state. */
  circuit: (state: StoreCircuitState) => void;
}

/** A script's answer: {flag, {state, remaining ms, lease token or '', failures in a row}}. */
type Reply = [number, [SharedEndpointView['state'], number, string, number]];

/**
 * Router endpoints' health in Redis, shared by every router that names it as `health`: a cooldown set by
 * one instance (a 429's `Retry-After`, or failures counted across instances) is timed by Redis (`PX`) and
 * honoured by all for exactly its length, whatever their clocks; when it ends, one probe lease (`SET NX
 * PX`) lets exactly one request of one instance probe. Each decision is one atomic Lua script
 * ({@link HEALTH_FAILED}, {@link HEALTH_CLAIM}, {@link HEALTH_SUCCEEDED}, {@link HEALTH_ABANDONED}).
 *
 * Routers keep a mirror of the shared view, kept current by change notices on this store's own
 * subscriber connection, so the healthy path costs no round trip. Redis faults never stop routing:
 * operations fail fast behind the executor's timeout and breaker, and the router decides alone meanwhile.
 *
 * @example
 * const health = new RedisRouterHealth({ url: process.env.REDIS_URL });
 * const router = new ConcurrentRouter({ endpoints, health, failures: { threshold: 5, window: '30s' } });
 */
export class RedisRouterHealth implements EndpointHealthStore {
  readonly instance: string;
  readonly events = new Emitter<RedisRouterHealthEvents>();
  readonly #redis: RedisExecutor;
  readonly #notices: RedisNoticeBus;
  readonly #prefix: string;
  readonly #channel: string;

  constructor(options: RedisRouterHealthOptions) {
    assertKnownOptions('RedisRouterHealth', options, KNOWN);
    const o = withDefaults(DEFAULTS, options);
    assertAnchorKeyPart('prefix', o.prefix);
    const instance = o.instance ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    assertKeyPart('instance', instance);
    this.instance = instance;
    this.#prefix = o.prefix;
    this.#channel = `cachet:router-health:${o.prefix}`;
    this.#redis = new RedisExecutor(o, { owner: 'RedisRouterHealth' }, (state) => this.events.emit('circuit', state));
    this.#notices = new RedisNoticeBus(
      this.#redis.client,
      (channel, message) =>
        this.#redis
          .runAnywhere('publish', (client) => client.sendCommand(['PUBLISH', channel, message], COMMAND_OPTIONS))
          .then(() => undefined),
      (error) => this.events.emit('error', toStoreError(error, 'subscribe', undefined)),
    );
  }

  /** State of the circuit in front of Redis. */
  get circuit(): StoreCircuitState {
    return this.#redis.circuit;
  }

  /**
   * Whether change notices are being received now. While false (before a router watches, or while the
   * subscriber connection is down), routers may not hear of other instances' changes; they read every
   * endpoint again once it is back.
   */
  get live(): boolean {
    return this.#notices.live;
  }

  async claimProbe(endpoint: string, policy: HealthPolicy): Promise<ProbeClaim> {
    const token = `${this.instance}/${randomUUID()}`;
    const [claimed, view] = await this.#run('router-health-claim', endpoint, HEALTH_CLAIM, [
      token,
      String(policy.probeLeaseMs),
    ]);
    if (claimed !== 1) return { claimed: false, view };
    this.#announce(endpoint, view);
    return { claimed: true, token };
  }

  async failed(endpoint: string, policy: HealthPolicy, failure: HealthFailure): Promise<FailureOutcome> {
    const [forMs, view] = await this.#run('router-health-failed', endpoint, HEALTH_FAILED, [
      failure.probe ?? '',
      String(failure.retryAfterMs === undefined ? -1 : Math.max(0, Math.ceil(failure.retryAfterMs))),
      String(policy.threshold),
      String(policy.windowFailures),
      String(policy.windowMs),
      String(policy.cooldownMs),
      String(policy.probeLeaseMs),
    ]);
    // Every failure is announced: the others learn of a run of failures, which their next success ends.
    this.#announce(endpoint, view);
    return { forMs, view };
  }

  async succeeded(endpoint: string, _policy: HealthPolicy, probe: string | undefined): Promise<boolean> {
    const [changed, view] = await this.#run('router-health-succeeded', endpoint, HEALTH_SUCCEEDED, [probe ?? '']);
    if (changed !== 0) this.#announce(endpoint, view);
    return changed === 1;
  }

  async abandoned(endpoint: string, _policy: HealthPolicy, probe: string): Promise<void> {
    const [released, view] = await this.#run('router-health-abandoned', endpoint, HEALTH_ABANDONED, [probe]);
    if (released === 1) this.#announce(endpoint, view);
  }

  async read(endpoint: string): Promise<SharedEndpointView> {
    return (await this.#run('router-health-read', endpoint, HEALTH_READ, []))[1];
  }

  async watch(
    endpoints: readonly string[],
    _policy: (endpoint: string) => HealthPolicy,
    listener: (endpoint: string, view: SharedEndpointView) => void,
  ): Promise<() => void> {
    const watched = new Set(endpoints);
    const stopNotices = await this.#notices.subscribe(this.#channel, (message) => {
      const change = parseNotice(message);
      if (change !== undefined && watched.has(change.endpoint)) listener(change.endpoint, change.view);
    });
    // Notices sent while the subscriber was away are lost: read every endpoint again when it is back.
    const readAll = (): void => {
      for (const endpoint of endpoints) {
        this.read(endpoint).then(
          (view) => listener(endpoint, view),
          () => undefined, // reported as an `error` event; the mirror keeps what it knew
        );
      }
    };
    const stopLive = this.#notices.onLiveChange((live) => live && readAll());
    readAll();
    return () => {
      stopNotices();
      stopLive();
    };
  }

  /** Closes the subscriber connection, and the client if this store created it (from `url`). */
  async close(): Promise<void> {
    await this.#notices.close();
    await this.#redis.close();
  }

  #announce(endpoint: string, view: SharedEndpointView): void {
    const message = JSON.stringify([endpoint, view.state, view.remainingMs, view.prober ?? '', view.failing]);
    this.#notices.publish(this.#channel, message).catch((error: unknown) => {
      this.events.emit('error', toStoreError(error, 'publish', this.#channel));
    });
  }

  async #run(
    operation: string,
    endpoint: string,
    script: LuaScript,
    args: string[],
  ): Promise<[number, SharedEndpointView]> {
    const key = stateKey(this.#prefix, endpoint);
    const keys = [key, companionKey(key, ':cooldown'), companionKey(key, ':probe'), companionKey(key, ':failures')];
    try {
      const [flag, [state, remainingMs, holder, failing]] = await this.#redis.run(operation, key, (client) =>
        runLua<Reply>(client, script, keys, args),
      );
      const prober = holder === '' ? undefined : holder.slice(0, holder.lastIndexOf('/'));
      return [Number(flag), { state, remainingMs: Number(remainingMs), prober, failing: Number(failing) }];
    } catch (error) {
      const storeError = toStoreError(error, operation, key);
      this.events.emit('error', storeError);
      throw storeError;
    }
  }
}

/** An endpoint's state hash, `<prefix>:<endpoint>`, braced whole when the name could not anchor companions. */
function stateKey(prefix: string, endpoint: string): string {
  const key = `${prefix}:${endpoint}`;
  return canAnchor(key) ? key : `{${key}}`;
}

const STATES: readonly string[] = ['healthy', 'cooling', 'probing'];

/** A change notice, `[endpoint, state, remainingMs, prober, failing]`; `undefined` when malformed. */
function parseNotice(message: string): { endpoint: string; view: SharedEndpointView } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 5) return undefined;
  const [endpoint, state, remainingMs, prober, failing] = parsed as unknown[];
  if (typeof endpoint !== 'string' || typeof state !== 'string' || !STATES.includes(state)) return undefined;
  if (typeof remainingMs !== 'number' || typeof prober !== 'string' || typeof failing !== 'number') return undefined;
  return {
    endpoint,
    view: {
      state: state as SharedEndpointView['state'],
      remainingMs,
      prober: prober === '' ? undefined : prober,
      failing,
    },
  };
}

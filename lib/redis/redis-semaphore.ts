import { randomUUID } from 'node:crypto';
import { parseDuration, type Duration } from '../core/duration';
import { Emitter } from '../core/events';
import { assertKeyPart, assertKnownOptions, optionError, withDefaults } from '../core/validate';
import { raceAbort, sleep } from '../core/abortable';
import { QueueFullError, QueueTimeoutError } from '../concurrency/concurrency-errors';
import { LocalSemaphore } from '../concurrency/local-semaphore';
import { UsageCounter } from '../concurrency/usage-counter';
import { resolveQueueOptions, type QueueOptions } from '../concurrency/queue-options';
import { type AcquireOptions, type Permit, type Semaphore } from '../ports/semaphore';
import { COMMAND_OPTIONS } from './connection';
import { runLua } from './lua';
import { CONNECTION_OPTIONS, RedisExecutor, type RedisConnectionOptions } from './redis-executor';
import { ACQUIRE_SLOT, RENEW_SLOT } from './semaphore-scripts';

/**
 * Options of {@link RedisSemaphore}. Exactly one of `url` and `client`, and `name` and `max`, are
 * required; `maxQueue` and `queueTimeout` bound the waiters of each process.
 * @example { url: process.env.REDIS_URL, name: 'openai', max: 8, leaseTtl: '30s', queueTimeout: '1m' }
 */
export interface RedisSemaphoreOptions extends QueueOptions, RedisConnectionOptions {
  /** Names the semaphore: every process using the same `prefix` and `name` shares its `max` slots. */
  readonly name?: string;
  /**
   * First part of the Redis key, `<prefix>:<name>[:<key>]`. Outside every cache's prefix, so that
   * `cache.clear()` never frees the slots of running calls.
   * @default 'cachet-semaphore'
   */
  readonly prefix?: string;
  /** How long a holder's lease lasts without renewal; a process that dies frees its slot after this. @default '10s' */
  readonly leaseTtl?: Duration;
  /** How often a held lease is renewed; less than `leaseTtl`. @default a third of `leaseTtl` */
  readonly renewInterval?: Duration;
  /** First wait between attempts while the semaphore is full; doubles (with jitter) up to `maxPollInterval`. @default '10ms' */
  readonly pollInterval?: Duration;
  /** Longest wait between attempts. @default '200ms' */
  readonly maxPollInterval?: Duration;
}

const DEFAULTS = {
  prefix: 'cachet-semaphore',
  leaseTtl: '10s',
  pollInterval: '10ms',
  maxPollInterval: '200ms',
} as const satisfies Partial<RedisSemaphoreOptions>;

const KNOWN = [
  ...CONNECTION_OPTIONS,
  'name',
  'max',
  'maxQueue',
  'queueTimeout',
  'renewInterval',
  ...Object.keys(DEFAULTS),
];

/** Events of a {@link RedisSemaphore}. @example semaphore.events.on('fallback', ({ error }) => log.warn(error)) */
export interface RedisSemaphoreEvents {
  /** Redis failed during an acquire; the caller was served by the in-process fallback semaphore. */
  fallback(event: { readonly key: string; readonly error: unknown }): void;
  /** A held lease expired before it could be renewed (a long pause, or Redis unreachable): the slot may be reused. */
  leaseLost(event: { readonly key: string }): void;
}

/**
 * A {@link Semaphore} shared by every process on one Redis: at most `max` holders per key, each holding
 * an expiring lease that is renewed while it runs, so a crashed process frees its slot after `leaseTtl`.
 * Acquiring is one Lua script on the server's clock; waiters poll with exponential backoff and jitter
 * (no ordering across processes), bounded by `maxQueue` and `queueTimeout` in each process.
 *
 * Redis faults never hang a caller: a failed or slow (`operationTimeout`) command sends that caller to
 * an in-process {@link LocalSemaphore} with the same `max`, and emits `fallback`. After `breakerThreshold`
 * failed acquires in a row, acquires skip Redis for `breakerCooldown`, then one of them checks whether it
 * is back. During an outage
 * each process therefore admits up to `max` on its own, so N processes admit up to N × `max` together.
 *
 * @example
 * const gpu = new RedisSemaphore({ url: process.env.REDIS_URL, name: 'gpu', max: 2, queueTimeout: '30s' });
 * class Model { @Concurrency({ semaphore: gpu }) async generate(prompt: string) { ... } }
 */
export class RedisSemaphore implements Semaphore {
  readonly events = new Emitter<RedisSemaphoreEvents>();
  /** The `name` option: what every process sharing these slots calls them. */
  readonly name: string;
  readonly max: number;
  readonly #redis: RedisExecutor;
  readonly #base: string;
  readonly #maxQueue: number;
  readonly #queueTimeoutMs: number;
  readonly #ms: { ttl: number; renew: number; poll: number; maxPoll: number };
  readonly #fallback: LocalSemaphore;
  readonly #usage = new UsageCounter();
  /** Renewal timers of the leases held now, stopped by {@link close}. */
  readonly #renewals = new Set<NodeJS.Timeout>();

  constructor(options: RedisSemaphoreOptions) {
    assertKnownOptions('RedisSemaphore', options, KNOWN);
    const o = withDefaults(DEFAULTS, options);
    if (o.client !== undefined && typeof o.client.sendCommand !== 'function')
      throw optionError('client', 'a node-redis client', o.client);
    assertKeyPart('name', o.name);
    assertKeyPart('prefix', o.prefix);
    const queue = resolveQueueOptions(o);
    const ttl = parseDuration('leaseTtl', o.leaseTtl);
    const renew = o.renewInterval === undefined ? Math.floor(ttl / 3) : parseDuration('renewInterval', o.renewInterval);
    if (ttl < 3) throw optionError('leaseTtl', 'a duration of at least 3 ms', o.leaseTtl);
    if (renew <= 0 || renew >= ttl)
      throw optionError('renewInterval', `between 1 ms and \`leaseTtl\` (${ttl} ms)`, o.renewInterval);
    this.#ms = {
      ttl,
      renew,
      poll: Math.max(1, parseDuration('pollInterval', o.pollInterval)),
      maxPoll: Math.max(1, parseDuration('maxPollInterval', o.maxPollInterval)),
    };
    this.name = o.name;
    this.#base = `${o.prefix}:${o.name}`;
    this.max = queue.max;
    this.#maxQueue = queue.maxQueue;
    this.#queueTimeoutMs = queue.queueTimeoutMs;
    // Its own queue timeout stays infinite: a caller that falls back brings its remaining deadline along.
    this.#fallback = new LocalSemaphore({ max: queue.max, maxQueue: queue.maxQueue });
    // Last, once every option is valid: with a `url` this opens a connection.
    this.#redis = new RedisExecutor(o, { owner: 'RedisSemaphore' });
  }

  /**
   * Stops renewing the leases held now (they expire after `leaseTtl`) and closes the client if the
   * semaphore created it (from `url`); a client passed in stays open. Acquiring afterwards uses the
   * in-process fallback.
   */
  async close(): Promise<void> {
    for (const renewal of this.#renewals) clearInterval(renewal);
    this.#renewals.clear();
    await this.#redis.close();
  }

  get inFlight(): number {
    return this.#usage.total('inFlight') + this.#fallback.inFlight;
  }
  get queued(): number {
    return this.#usage.total('queued') + this.#fallback.queued;
  }

  usage(key = ''): { inFlight: number; queued: number } {
    const own = this.#usage.of(key);
    const local = this.#fallback.usage(key);
    return { inFlight: own.inFlight + local.inFlight, queued: own.queued + local.queued };
  }

  async acquire(options: AcquireOptions = {}): Promise<Permit> {
    const { key = '', signal } = options;
    if (signal?.aborted) throw signal.reason;
    const redisKey = key === '' ? this.#base : `${this.#base}:${key}`;
    const token = randomUUID();
    // One signal for "stop waiting": the queue timeout or the caller's own signal, whichever comes first.
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let queued = false;
    try {
      let delay = this.#ms.poll;
      for (let attempt = 0; ; attempt++) {
        let granted: boolean;
        try {
          granted = await raceAbort(this.#tryAcquire(redisKey, token), stop.signal, (late) => {
            if (late) void this.#remove(redisKey, token);
          });
        } catch (error) {
          // A timed-out script may still run and grant the slot; take it back (the token is ours alone).
          void this.#remove(redisKey, token);
          if (stop.signal.aborted) throw stop.signal.reason;
          this.events.emit('fallback', { key, error });
          // The fallback queue counts this caller from now on; counting it here too would show it twice.
          if (queued) this.#usage.adjust(key, 'queued', -1);
          queued = false;
          return await this.#fallback.acquire({ key, signal: stop.signal });
        }
        if (granted) return this.#held(key, redisKey, token);
        if (attempt === 0) {
          if (this.#usage.of(key).queued >= this.#maxQueue)
            throw new QueueFullError(key || undefined, this.max, this.#maxQueue);
          queued = true;
          this.#usage.adjust(key, 'queued', 1);
          if (this.#queueTimeoutMs !== Infinity) {
            const error = new QueueTimeoutError(key || undefined, this.#queueTimeoutMs);
            timer = setTimeout(() => stop.abort(error), this.#queueTimeoutMs);
            timer.unref();
          }
        }
        // Jitter (half to all of the backoff) spreads the pollers of many processes apart.
        await sleep(delay / 2 + Math.random() * (delay / 2), stop.signal);
        delay = Math.min(delay * 2, this.#ms.maxPoll);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (queued) this.#usage.adjust(key, 'queued', -1);
    }
  }

  #held(key: string, redisKey: string, token: string): Permit {
    this.#usage.adjust(key, 'inFlight', 1);
    const stop = (): void => {
      clearInterval(renewal);
      this.#renewals.delete(renewal);
    };
    const renewal = setInterval(() => {
      this.#redis
        .always('semaphore-renew', redisKey, (client) =>
          runLua<number>(client, RENEW_SLOT, [redisKey], [token, String(this.#ms.ttl)]),
        )
        .then(
          (renewed) => {
            if (renewed !== 1 && releasing === undefined) {
              stop();
              this.events.emit('leaseLost', { key });
            }
          },
          // A failed renewal is retried at the next interval; the lease survives until its TTL.
          () => {},
        );
    }, this.#ms.renew);
    renewal.unref();
    this.#renewals.add(renewal);
    let releasing: Promise<void> | undefined;
    return {
      get released() {
        return releasing !== undefined;
      },
      release: () =>
        (releasing ??= (() => {
          stop();
          this.#usage.adjust(key, 'inFlight', -1);
          return this.#remove(redisKey, token);
        })()),
    };
  }

  #tryAcquire(redisKey: string, token: string): Promise<boolean> {
    const args = [token, String(this.max), String(this.#ms.ttl)];
    return this.#redis
      .run('semaphore-acquire', redisKey, (client) => runLua<number>(client, ACQUIRE_SLOT, [redisKey], args))
      .then((reply) => reply === 1);
  }

  /**
   * Gives a slot back, or takes back one an abandoned acquire may still be granted. Never skipped by the
   * breaker: sent on the same connection, it runs right after that acquire once Redis answers,
   * where a skipped one would leave the slot taken until `leaseTtl`. If Redis is unreachable the lease
   * simply expires after `leaseTtl`.
   */
  #remove(redisKey: string, token: string): Promise<void> {
    return this.#redis
      .always('semaphore-release', redisKey, (client) => client.sendCommand(['ZREM', redisKey, token], COMMAND_OPTIONS))
      .then(
        () => undefined,
        () => undefined,
      );
  }
}

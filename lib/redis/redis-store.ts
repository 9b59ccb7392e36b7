import { systemClock, type Clock } from '../core/clock';
import { Emitter } from '../core/events';
import { type StoreError } from '../core/errors';
import type { CachetLogger } from '../core/logger';
import { assertKeyPart, assertKnownOptions } from '../core/validate';
import type {
  CacheCounters,
  CacheEntry,
  CacheStore,
  CurrencyCheck,
  SharedCounters,
  StoredEntry,
  StoreInfo,
} from '../ports/cache-store';
import { scanKeys } from './key-scan';
import { readRedisInfo, RedisStatsRecorder } from './shared-stats';
import { COMMAND_OPTIONS, type RedisClientLike } from './connection';
import {
  CONNECTION_OPTIONS,
  RedisExecutor,
  toStoreError,
  type RedisConnectionOptions,
  type StoreCircuitState,
} from './redis-executor';
import { formatEntry, parseEntry } from './entry-format';
import { ValueDecodeError } from '../codec/value-codec';
import { RedisFillCoordinator } from './fill-coordinator';
import { RedisNoticeBus } from './notice-bus';
import { LargeValueSizes, ReadBatcher } from './read-batcher';
import { clearPrefix, RedisTagIndex, stampKey, STORE_IF_CURRENT } from './tag-index';
import { ClusterClientAdapter, groupBySlot } from './cluster';
import { runLua } from './lua';
import { RedisVectors } from './redis-vectors';

/**
 * Options of {@link RedisStore}: the connection options every Redis class shares (give exactly one of
 * `url` and `client`; on a cluster, reads batched into one `MGET` are sent as one `MGET` per hash slot),
 * and the store's own.
 */
export interface RedisStoreOptions extends RedisConnectionOptions {
  /**
   * Pub/sub channel on which fill notices are published. Instances that share fills must share it.
   * @default 'cachet:fills'
   */
  readonly channel?: string;
}

const KNOWN = [...CONNECTION_OPTIONS, 'channel'] as const;

/** Most keys in one MGET. */
const MAX_BATCH_KEYS = 256;
/** Most bytes of known-large values in one MGET (a value read alone may be larger). */
const MAX_BATCH_BYTES = 1 << 20;
/**
 * Characters decoded between two turns of the event loop. Decoding is synchronous; between slices the
 * readers already answered run, and their next reads go out while the rest of the batch decodes, so
 * Redis and the client work at the same time, and no other call waits behind a whole batch (64 values of
 * 1 MB decoded in one pass blocked every other call for 0.5-0.8 s). 64 KB is about a millisecond of
 * structured JSON here; 16 KB and 256 KB slices measured the same within this VM's noise.
 */
const DECODE_SLICE_CHARS = 64 * 1024;

/** What `peek` reads from a key that holds a hash, a set... rather than a string. */
const OTHER_TYPE: unique symbol = Symbol('other type');

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Events of a {@link RedisStore}. */
export interface RedisStoreEvents {
  /**
   * The circuit in front of Redis changed state. On a cluster each master has its own breaker; this is
   * the worst of them (`open` when any master's is), and `circuits` has each.
   */
  circuit: (state: StoreCircuitState) => void;
  /** A background operation (lease renewal, subscriber) failed; no caller saw it. */
  error: (error: StoreError) => void;
}

/**
 * A {@link CacheStore} in Redis, shared by every process that points at the same server. Reads issued
 * together go out as one `MGET`, and concurrent reads of one key share one round trip. Every operation is
 * bounded by `operationTimeout`, and a circuit breaker skips Redis during an outage. It also coordinates
 * fills between processes, so a burst of identical misses runs the method once in total.
 *
 * @example
 * const cache = new Cache({ store: new RedisStore({ url: process.env.REDIS_URL }) });
 */
export class RedisStore implements CacheStore {
  readonly name = 'redis';
  readonly coordinator: RedisFillCoordinator;
  /** Pub/sub between instances on one subscriber connection: fill notices, and a `TieredStore`'s. */
  readonly notices: RedisNoticeBus;
  readonly events: Emitter<RedisStoreEvents>;
  /** Entries Redis still held past the expiry written in them, read as misses. */
  readonly counts = { expired: 0 };
  readonly #redis: RedisExecutor;
  readonly #clock: Clock;
  readonly #reads: ReadBatcher<CacheEntry | undefined>;
  /** Sizes of the large values seen, so that reads of them are not batched together. */
  readonly #sizes = new LargeValueSizes();
  /** Tags of entries, as one Redis set per tag. */
  readonly tags: RedisTagIndex;
  /** The semantic cache's questions, one hash per partition, shared by every instance. */
  readonly vectors: RedisVectors;

  constructor(options: RedisStoreOptions) {
    assertKnownOptions('RedisStore', options, KNOWN);
    const channel = options.channel ?? 'cachet:fills';
    assertKeyPart('channel', channel);
    this.#redis = new RedisExecutor(options, { owner: 'RedisStore' }, (state) => this.events.emit('circuit', state));
    this.events = new Emitter(this.#redis.logger);
    this.tags = new RedisTagIndex((operation, key, run) => this.#removing(operation, key, run));
    this.#clock = options.clock ?? systemClock;

    this.#reads = new ReadBatcher((keys, deliver) => this.#fetch(keys, deliver), {
      maxKeys: MAX_BATCH_KEYS,
      maxBytes: MAX_BATCH_BYTES,
      sizeOf: (key) => this.#sizes.get(key),
    });
    this.notices = new RedisNoticeBus(
      this.#redis.client,
      (noticeChannel, message) => this.publish(noticeChannel, message),
      (error) => this.events.emit('error', toStoreError(error, 'subscribe', undefined)),
      this.#redis.logger,
    );
    this.vectors = new RedisVectors(
      (operation, key, run) => this.#redis.run(operation, key, run),
      this.notices,
      this.#clock,
    );
    this.coordinator = new RedisFillCoordinator({
      client: this.#redis.client,
      channel,
      notices: this.notices,
      guard: (operation, key, run) => this.#redis.run(operation, key, run),
      always: (operation, key, run) => this.#redis.always(operation, key, run),
      skips: (key) => this.#redis.skips(key),
      read: (key) => this.get(key),
      onBackgroundError: (error, operation, key) => this.events.emit('error', toStoreError(error, operation, key)),
    });
  }

  /** State of the circuit in front of Redis. */
  get circuit(): StoreCircuitState {
    return this.#redis.circuit;
  }

  /** On a cluster, the state of each master's breaker, by address (`host:port`). */
  get circuits(): ReadonlyMap<string, StoreCircuitState> {
    return this.#redis.circuits;
  }

  /** The logger given in the options, if any (a `TieredStore` over this store logs there too). */
  get logger(): CachetLogger | undefined {
    return this.#redis.logger;
  }

  /** The client the store sends its commands through (for extensions such as `TieredStore`). */
  get client(): RedisClientLike {
    return this.#redis.client;
  }

  /**
   * Publishes `message` on `channel`, behind the breaker and under the operation timeout. Not routed by
   * the channel's slot: on a cluster any node carries it to every subscriber.
   */
  publish(channel: string, message: string): Promise<void> {
    return this.#redis
      .runAnywhere('publish', (client) => client.sendCommand(['PUBLISH', channel, message], COMMAND_OPTIONS))
      .then(() => undefined);
  }

  get(key: string): Promise<CacheEntry | undefined> {
    try {
      this.#redis.enter('get', key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#reads.read(key);
  }

  async set(key: string, value: unknown, ttlMs: number, freshMs?: number): Promise<void> {
    // Encoding first: a value that cannot be stored is the caller's problem, not a Redis failure.
    const now = this.#clock.now();
    const text = formatEntry(value, now + ttlMs, freshMs === undefined ? undefined : now + freshMs);
    this.#redis.enter('set', key);
    this.#sizes.observe(key, text.length);
    this.#reads.forget(key);
    await this.#redis.send('set', key, (client) =>
      client.sendCommand(['SET', key, text, 'PX', String(Math.max(1, Math.ceil(ttlMs)))], COMMAND_OPTIONS),
    );
  }

  /**
   * {@link CacheStore.setIfCurrent}: on one Redis, a single script checks the stamps, writes the entry and
   * tags it, atomically. On a cluster those keys lie on several masters, so the stamps are checked just
   * before the write (the cache checks them again after it).
   */
  async setIfCurrent(
    key: string,
    value: unknown,
    ttlMs: number,
    freshMs: number | undefined,
    tagKeys: readonly string[],
    check: CurrencyCheck,
  ): Promise<boolean> {
    if (this.#redis.client instanceof ClusterClientAdapter) {
      if (await this.tags.stampedSince(check.clockKey, check.names, check.mark)) return false;
      await this.set(key, value, ttlMs, freshMs);
      if (tagKeys.length > 0) await this.tags.tag(key, tagKeys, ttlMs);
      return true;
    }
    const now = this.#clock.now();
    const text = formatEntry(value, now + ttlMs, freshMs === undefined ? undefined : now + freshMs);
    this.#redis.enter('set', key);
    this.#reads.forget(key);
    this.#sizes.observe(key, text.length);
    const stamps = check.names.map((name) => stampKey(check.clockKey, name));
    const px = String(Math.max(1, Math.ceil(ttlMs)));
    const stored = await this.#redis.send('set', key, (client) =>
      runLua<number>(
        client,
        STORE_IF_CURRENT,
        [key, ...stamps, ...tagKeys],
        [text, px, String(check.mark), String(stamps.length), px],
      ),
    );
    return stored === 1;
  }

  async delete(key: string): Promise<boolean> {
    this.#redis.enter('delete', key);
    this.#reads.forget(key);
    const removed = await this.#redis.send('delete', key, (client) =>
      client.sendCommand<number>(['UNLINK', key], COMMAND_OPTIONS),
    );
    return removed > 0;
  }

  /** Deletes every entry whose key starts with `prefix`, with `SCAN` and `UNLINK` in batches. */
  clear(prefix: string): Promise<number> {
    return clearPrefix((operation, key, run) => this.#removing(operation, key, run), prefix);
  }

  /**
   * {@link CacheStore.peek}: one `GET`, outside the read batcher. Redis 7.0's `GET` refreshes the key's
   * idle time, which its LRU eviction reads; `CLIENT NO-TOUCH` (7.2) would avoid it on a connection of
   * its own, not worth one here.
   */
  async peek(key: string): Promise<StoredEntry | undefined> {
    const text = await this.#redis.run('peek', key, (client) =>
      // A key of another type is an answer, not a failure of Redis: it must not count against the breaker.
      client.sendCommand<string | null>(['GET', key], COMMAND_OPTIONS).catch((error: unknown): typeof OTHER_TYPE => {
        if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return OTHER_TYPE;
        throw error;
      }),
    );
    if (text === null) return undefined;
    if (text === OTHER_TYPE) throw new ValueDecodeError('Expected a cachet entry (a Redis string), got another type');
    const entry = parseEntry(text);
    if (entry.expiresAt <= this.#clock.now()) return undefined;
    // The header (`<expiresAt>[/<freshUntil>]|`) is ASCII and ends at the first `|`.
    const size = Buffer.byteLength(text) - text.indexOf('|') - 1;
    return { ...entry, size, store: this.name };
  }

  /** {@link CacheStore.scan}: `SCAN ... MATCH` on every master, never `KEYS`. */
  scan(pattern: string, count: number): AsyncGenerator<string[]> {
    return scanKeys((operation, key, run) => this.#redis.run(operation, key, run), pattern, count);
  }

  /** Keeps a cache's counters summed in Redis (`<prefix>:stats`), for `sharedStats`. */
  shareCounters(
    prefix: string,
    snapshot: () => ReadonlyMap<string, Readonly<CacheCounters>>,
    intervalMs: number,
  ): SharedCounters {
    return new RedisStatsRecorder(
      (operation, key, command) => this.#redis.run(operation, key, command),
      prefix,
      snapshot,
      intervalMs,
    );
  }

  /** Redis's own figures from `INFO`. */
  info(): Promise<StoreInfo> {
    return readRedisInfo((operation, key, command) => this.#redis.run(operation, key, command));
  }

  /** Closes the connections the store opened (a client passed in is left open). Never waits on a Redis that is down. */
  async close(): Promise<void> {
    this.coordinator.close();
    await this.notices.close();
    await this.#redis.close();
  }

  /**
   * Reads `keys` in one round trip (on a cluster, one per hash slot) and hands each decoded entry to its
   * readers as soon as it is decoded, letting the event loop turn between slices of
   * {@link DECODE_SLICE_CHARS}. On a cluster a slot group that fails (its master is down, or its breaker
   * skips it) fails only its own keys; the other groups' readers get their entries.
   */
  async #fetch(keys: string[], deliver: (index: number, entry: CacheEntry | undefined | Error) => void): Promise<void> {
    const groups =
      keys.length > 1 && this.#redis.client instanceof ClusterClientAdapter ? groupBySlot(keys) : undefined;
    if (groups === undefined || groups.length === 1) {
      // On a cluster, a batch of one slot goes under the breaker of its master.
      const key = keys.length === 1 || groups !== undefined ? keys[0] : undefined;
      return this.#fetchGroup(keys, key, keys.length === 1, deliver);
    }
    await Promise.all(
      groups.map((positions) =>
        this.#fetchGroup(
          positions.map((i) => keys[i] as string),
          keys[positions[0] as number],
          false,
          (j, entry) => deliver(positions[j] as number, entry),
        ).catch((error: unknown) => {
          for (const i of positions) deliver(i, toStoreError(error, 'get', keys[i]));
        }),
      ),
    );
  }

  /**
   * {@link #fetch} of keys that one node serves, sent under the breaker of the node that serves `key`: a
   * read on its own (`alone`) as a `GET`, a batch or a slot group of one as an `MGET`.
   */
  async #fetchGroup(
    keys: string[],
    key: string | undefined,
    alone: boolean,
    deliver: (index: number, entry: CacheEntry | undefined | Error) => void,
  ): Promise<void> {
    const replies = await this.#redis.send('get', key, (client) =>
      alone
        ? client.sendCommand<string | null>(['GET', keys[0] as string], COMMAND_OPTIONS).then((r) => [r])
        : client.sendCommand<(string | null)[]>(['MGET', ...keys], COMMAND_OPTIONS),
    );
    let budget = DECODE_SLICE_CHARS;
    for (let i = 0; i < replies.length; i++) {
      const text = replies[i] as string | null;
      if (text === null) {
        deliver(i, undefined);
        continue;
      }
      // Decoding is synchronous: past a slice's worth, let other replies and timers in before going on.
      if (budget <= 0) {
        await yieldToEventLoop();
        budget = DECODE_SLICE_CHARS;
      }
      budget -= text.length;
      this.#sizes.observe(keys[i] as string, text.length);
      deliver(i, this.#decode(text));
    }
  }

  #decode(text: string): CacheEntry | undefined | Error {
    let entry: CacheEntry;
    try {
      entry = parseEntry(text);
    } catch (error) {
      return error as Error;
    }
    // Redis expires entries itself; one it still holds past its own expiry had its TTL removed or
    // replaced (PERSIST, a manual SET): it is a miss, never a hit.
    if (entry.expiresAt > this.#clock.now()) return entry;
    this.counts.expired++;
    return undefined;
  }

  /**
   * A command of an operation that may remove `key` (tag invalidation, clear): like a delete, it first
   * stops later reads of the key from sharing a read sent before it, which could answer with the
   * removed value after the removal resolved.
   */
  #removing<T>(operation: string, key: string | undefined, run: (client: RedisClientLike) => Promise<T>): Promise<T> {
    if (key !== undefined) this.#reads.forget(key);
    return this.#redis.run(operation, key, run);
  }
}

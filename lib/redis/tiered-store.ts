import { randomUUID } from 'node:crypto';
import { assertKeyPart, assertKnownOptions, optionError } from '../core/validate';
import { systemClock, type Clock } from '../core/clock';
import { parseDuration, type Duration } from '../core/duration';
import { Emitter } from '../core/events';
import type {
  CacheCounters,
  CacheEntry,
  CacheStore,
  CurrencyCheck,
  FillCoordinator,
  MaybePromise,
  SharedCounters,
  StoredEntry,
  StoreInfo,
  TagIndex,
} from '../ports/cache-store';
import { MemoryStore } from '../cache/memory-store';
import type { RedisStore } from './redis-store';

/** Options of {@link TieredStore}. */
export interface TieredStoreOptions {
  /** The shared tier. */
  readonly redis: RedisStore;
  /** The local tier. @default a new MemoryStore (10,000 entries, 64 MiB) */
  readonly memory?: MemoryStore;
  /** Pub/sub channel of invalidation notices; every instance sharing the Redis must use the same. @default 'cachet:tier' */
  readonly channel?: string;
  /** Longest time an entry stays in the memory tier, whatever its TTL: a bound on trust. @default none (its remaining TTL) */
  readonly memoryTtl?: Duration;
  /** Time source for the remaining TTL of promoted entries; give the same one to both stores. @default Date.now */
  readonly clock?: Clock;
}

/** Events of a {@link TieredStore}. */
export interface TieredStoreEvents {
  /** The invalidation channel was lost (the memory tier was cleared and is bypassed) or is live again. */
  coherence: (state: { readonly live: boolean }) => void;
}

/** Keys whose last notice is remembered, to decide whether a read may be promoted. */
const NOTICED_KEYS = 10_000;

/** What one instance tells the others: drop these keys, or everything under a prefix. */
interface Notice {
  readonly origin: string;
  readonly keys?: readonly string[];
  readonly prefix?: string;
}

/**
 * A memory tier in front of Redis, kept coherent across instances. A memory hit costs microseconds and
 * no round trip; a Redis hit is promoted to memory for the entry's remaining TTL (capped by
 * `memoryTtl`). Every write, delete, tag invalidation and clear goes to both tiers and is published on
 * `channel`, so the other instances drop their memory copies. An instance that loses the channel
 * cannot know what changed meanwhile: it clears its memory tier and reads Redis only, until the channel
 * is live again.
 *
 * @example
 * const store = new TieredStore({ redis: new RedisStore({ url: process.env.REDIS_URL }) });
 * const cache = new Cache({ store });
 */
export class TieredStore implements CacheStore {
  readonly name = 'tiered';
  readonly coordinator: FillCoordinator;
  readonly events: Emitter<TieredStoreEvents>;
  readonly memory: MemoryStore;
  readonly redis: RedisStore;
  readonly #channel: string;
  readonly #memoryTtlMs: number;
  readonly #origin = randomUUID();
  readonly #clock: Clock;
  #live = false;
  #closed = false;
  /** Whether this tier's channel is subscribed on the store's notice bus. */
  #subscribed = false;
  #unsubscribe: (() => void) | undefined;
  #stopWatching: (() => void) | undefined;
  /** Counts notices applied, so a read can tell whether one arrived while it was on the wire. */
  #epoch = 0;
  /** Epoch of the last notice per key, and of the last notice that concerned every key (a clear, a lost channel). */
  readonly #noticed = new Map<string, number>();
  #wideEpoch = 0;

  /** Hits answered by each tier, and notices applied. */
  readonly counts = { memoryHits: 0, redisHits: 0, noticesApplied: 0, channelLost: 0 };

  readonly tags: TagIndex = {
    tag: (key, tagKeys, ttlMs) => this.redis.tags.tag(key, tagKeys, ttlMs),
    mark: (clockKey) => this.redis.tags.mark(clockKey),
    stamp: (clockKey, names) => this.redis.tags.stamp(clockKey, names),
    stampedSince: (clockKey, names, mark) => this.redis.tags.stampedSince(clockKey, names, mark),
    tagsOf: (key, tagPrefix, candidates) => this.redis.tags.tagsOf(key, tagPrefix, candidates),
    invalidate: async (tagKeys) => {
      let found: { keys: string[]; removed: number };
      try {
        found = await this.redis.tags.invalidateKeys(tagKeys);
      } catch (error) {
        // Which keys carry the tags is known only to Redis: drop every memory copy rather than keep one
        // the invalidation meant to remove. The cache replays the invalidation once Redis answers.
        this.memory.clear('');
        throw error;
      }
      const { keys, removed } = found;
      for (const key of keys) this.memory.delete(key);
      await this.#publish({ origin: this.#origin, keys });
      return removed;
    },
  };

  /** The semantic cache's questions: the Redis store's (they are small, and every instance shares them). */
  get vectors(): RedisStore['vectors'] {
    return this.redis.vectors;
  }

  constructor(options: TieredStoreOptions) {
    assertKnownOptions('TieredStore', options, ['redis', 'memory', 'channel', 'memoryTtl', 'clock']);
    if (typeof options.redis?.get !== 'function' || typeof options.redis.publish !== 'function') {
      throw optionError('redis', 'a RedisStore', options.redis);
    }
    if (options.memory !== undefined && !(options.memory instanceof MemoryStore))
      throw optionError('memory', 'a MemoryStore', options.memory);
    const channel = options.channel ?? 'cachet:tier';
    assertKeyPart('channel', channel);
    this.redis = options.redis;
    // Listeners' exceptions go where the Redis store logs: the tier has no logger of its own.
    this.events = new Emitter(this.redis.logger);
    this.memory = options.memory ?? new MemoryStore();
    this.coordinator = this.redis.coordinator;
    this.#channel = channel;
    this.#memoryTtlMs = options.memoryTtl === undefined ? Infinity : parseDuration('memoryTtl', options.memoryTtl);
    this.#clock = options.clock ?? systemClock;
    this.#listen();
  }

  /** Whether the invalidation channel is live, so the memory tier is in use. */
  get coherent(): boolean {
    return this.#live;
  }

  get(key: string): MaybePromise<CacheEntry | undefined> {
    if (this.#live) {
      const local = this.memory.get(key);
      if (local !== undefined) {
        this.counts.memoryHits++;
        return local;
      }
    }
    // A notice that arrives while this read is on the wire may concern what it returns: then it is
    // served but not promoted, or the memory tier could keep a value older than the notice.
    const epoch = this.#epoch;
    return this.redis.get(key).then((entry) => {
      if (entry !== undefined) {
        this.counts.redisHits++;
        if (this.#unchangedSince(key, epoch)) this.#promote(key, entry);
      }
      return entry;
    });
  }

  async set(key: string, value: unknown, ttlMs: number, freshMs?: number): Promise<void> {
    await this.redis.set(key, value, ttlMs, freshMs);
    this.#keepCopy(key, value, ttlMs, freshMs);
    await this.#publish({ origin: this.#origin, keys: [key] });
  }

  /** {@link CacheStore.setIfCurrent} on the Redis tier; a stored entry is copied and announced as by `set`. */
  async setIfCurrent(
    key: string,
    value: unknown,
    ttlMs: number,
    freshMs: number | undefined,
    tagKeys: readonly string[],
    check: CurrencyCheck,
  ): Promise<boolean> {
    const stored = await this.redis.setIfCurrent(key, value, ttlMs, freshMs, tagKeys, check);
    if (!stored) return false;
    this.#keepCopy(key, value, ttlMs, freshMs);
    await this.#publish({ origin: this.#origin, keys: [key] });
    return true;
  }

  async delete(key: string): Promise<boolean> {
    this.memory.delete(key);
    const removed = await this.redis.delete(key);
    await this.#publish({ origin: this.#origin, keys: [key] });
    return removed;
  }

  async clear(prefix: string): Promise<number> {
    this.memory.clear(prefix);
    const removed = await this.redis.clear(prefix);
    await this.#publish({ origin: this.#origin, prefix });
    return removed;
  }

  /**
   * {@link CacheStore.peek} of the Redis tier, the one every instance shares; `memoryCopy` says whether
   * this instance's memory tier would answer a lookup first.
   */
  async peek(key: string): Promise<StoredEntry | undefined> {
    const entry = await this.redis.peek(key);
    if (entry === undefined) return undefined;
    const memoryCopy = this.#live && (await this.memory.peek(key)) !== undefined;
    return { ...entry, memoryCopy };
  }

  /** {@link CacheStore.scan} of the Redis tier, which holds every key the memory tier does. */
  scan(pattern: string, count: number): AsyncGenerator<string[]> {
    return this.redis.scan(pattern, count);
  }

  shareCounters(
    prefix: string,
    snapshot: () => ReadonlyMap<string, Readonly<CacheCounters>>,
    intervalMs: number,
  ): SharedCounters {
    return this.redis.shareCounters(prefix, snapshot, intervalMs);
  }

  info(): Promise<StoreInfo> {
    return this.redis.info();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#setLive(false);
    this.#unsubscribe?.();
    this.#stopWatching?.();
    await this.redis.close();
  }

  /** Keeps a memory copy of what was just written to Redis (which encoded it, so it is storable), for as long (capped). */
  #keepCopy(key: string, value: unknown, ttlMs: number, freshMs: number | undefined): void {
    if (!this.#live) return;
    const now = this.#clock.now();
    const expiresAt = now + Math.min(ttlMs, this.#memoryTtlMs);
    this.memory.setUntil(key, value, expiresAt, freshMs === undefined ? undefined : Math.min(now + freshMs, expiresAt));
  }

  /** Whether no notice about `key` (or about every key) was applied since `epoch`. */
  #unchangedSince(key: string, epoch: number): boolean {
    return this.#wideEpoch <= epoch && (this.#noticed.get(key) ?? 0) <= epoch;
  }

  #promote(key: string, entry: CacheEntry): void {
    if (!this.#live) return;
    const now = this.#clock.now();
    const expiresAt = Math.min(entry.expiresAt, now + this.#memoryTtlMs);
    if (expiresAt <= now) return;
    const freshUntil = entry.freshUntil === undefined ? undefined : Math.min(entry.freshUntil, expiresAt);
    this.memory.setUntil(key, entry.value, expiresAt, freshUntil);
  }

  async #publish(notice: Notice): Promise<void> {
    await this.redis.publish(this.#channel, JSON.stringify(notice));
  }

  #apply(message: string): void {
    let notice: Notice;
    try {
      notice = JSON.parse(message) as Notice;
    } catch {
      return;
    }
    if (notice.origin === this.#origin) return;
    const epoch = ++this.#epoch;
    this.counts.noticesApplied++;
    if (typeof notice.prefix === 'string') {
      this.#wideEpoch = epoch;
      this.memory.clear(notice.prefix);
    }
    if (Array.isArray(notice.keys)) {
      if (this.#noticed.size + notice.keys.length > NOTICED_KEYS) {
        // Forget per-key history, and treat every read on the wire as concerned instead.
        this.#noticed.clear();
        this.#wideEpoch = epoch;
      }
      for (const key of notice.keys) {
        if (typeof key !== 'string') continue;
        this.#noticed.set(key, epoch);
        this.memory.delete(key);
      }
    }
  }

  /**
   * Subscribes to the tier's channel on the Redis store's notice bus (the connection fill notices use
   * too). The memory tier is in use only while that channel is live; losing it clears and bypasses the
   * tier. A subscription that fails (Redis down at start) is tried again every second.
   */
  #listen(): void {
    const bus = this.redis.notices;
    this.#stopWatching ??= bus.onLiveChange((live) => {
      if (!live && this.#live) this.counts.channelLost++;
      this.#setLive(live && this.#subscribed && !this.#closed);
    });
    bus
      .subscribe(this.#channel, (message) => this.#apply(message))
      .then(
        (unsubscribe) => {
          this.#unsubscribe = unsubscribe;
          this.#subscribed = true;
          this.#setLive(bus.live && !this.#closed);
        },
        () => {
          if (!this.#closed) setTimeout(() => this.#listen(), 1_000).unref();
        },
      );
  }

  #setLive(live: boolean): void {
    if (this.#live === live) return;
    this.#wideEpoch = ++this.#epoch;
    // Whatever the memory tier holds may have changed unseen while the channel was down.
    if (!live) this.memory.clear('');
    this.#live = live;
    this.events.emit('coherence', { live });
  }
}

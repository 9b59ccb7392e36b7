import { systemClock, type Clock } from '../core/clock';
import { assertKnownOptions, assertPositiveInteger, optionError, withDefaults } from '../core/validate';
import { assertEncodable, encodeValue, estimateSize } from '../codec/value-codec';
import { globMatcher } from '../keys/glob';
import {
  STAMP_TTL_MS,
  type CacheEntry,
  type CacheStore,
  type CurrencyCheck,
  type StoredEntry,
  type TagIndex,
} from '../ports/cache-store';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries kept; the least recently used is evicted first.
   * @default 10_000
   */
  readonly maxEntries?: number;
  /**
   * Most bytes kept, estimated from each value's contents (strings count 2 bytes a character).
   * @default 67_108_864 (64 MiB)
   */
  readonly maxBytes?: number;
  /**
   * Refuse, with a `ValueEncodeError`, the values a `RedisStore` could not store either: functions,
   * cycles, instances of classes not registered with `registerClass`... so that code behaves the same
   * on memory in development as on Redis in production. `false` keeps anything, as it is.
   * @default true
   */
  readonly checkValues?: boolean;
  /** Time source, for tests. @default Date.now */
  readonly clock?: Clock;
}

const DEFAULTS = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  checkValues: true,
  clock: systemClock,
} as const satisfies Required<MemoryStoreOptions>;

/** Invalidation stamps held before old ones are swept. */
const MAX_STAMPS = 10_000;

/** A node of the recency list; it is also the entry handed out on a hit. */
interface Node extends CacheEntry {
  readonly key: string;
  value: unknown;
  expiresAt: number;
  freshUntil: number | undefined;
  settled: Promise<unknown> | undefined;
  size: number;
  /** When it was stored here, for `peek`. */
  storedAt: number;
  newer: Node | undefined;
  older: Node | undefined;
  /** Tag keys of this entry, so that removing it also removes it from their sets. */
  tags: readonly string[] | undefined;
}

/**
 * An in-process LRU store bounded by entry count and estimated bytes, with per-entry TTL. Values are kept
 * as they are, not copied: a hit returns the very object that was stored, so callers must not mutate
 * cached results.
 *
 * @example
 * const cache = new Cache({ store: new MemoryStore({ maxEntries: 1_000 }) });
 */
export class MemoryStore implements CacheStore {
  readonly name = 'memory';
  readonly #nodes = new Map<string, Node>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #checkValues: boolean;
  readonly #clock: Clock;
  /** With the system clock, `now` is read at most once a millisecond; see {@link MemoryStore.#now}. */
  readonly #coarse: boolean;
  #cachedNow = 0;
  #nowValid = false;
  readonly #invalidateNow = (): void => {
    this.#nowValid = false;
  };
  #newest: Node | undefined;
  #oldest: Node | undefined;
  #bytes = 0;
  /** Tag key -> keys of the live entries carrying it. */
  readonly #tagged = new Map<string, Set<string>>();
  /** Invalidation counters, one per cache (clock key). */
  readonly #clocks = new Map<string, number>();
  /** Invalidation stamps by `clockKey NUL name`: the counter value and the time it was set. */
  readonly #stamps = new Map<string, { readonly value: number; readonly at: number }>();
  /** Per clock key, the counter when stamps were last forgotten: fills that started before it count as raced. */
  readonly #stampFloors = new Map<string, number>();

  /** Tags of entries held here; an entry leaves its tags when it is removed, evicted or expires. */
  readonly tags: TagIndex = {
    tag: (key, tagKeys) => {
      const node = this.#nodes.get(key);
      if (node === undefined) return;
      this.#untag(node);
      node.tags = tagKeys;
      for (const tagKey of tagKeys) {
        let keys = this.#tagged.get(tagKey);
        if (keys === undefined) this.#tagged.set(tagKey, (keys = new Set()));
        keys.add(key);
      }
    },
    mark: (clockKey) => this.#clocks.get(clockKey) ?? 0,
    stamp: (clockKey, names) => {
      const value = (this.#clocks.get(clockKey) ?? 0) + 1;
      this.#clocks.set(clockKey, value);
      const at = this.#clock.now();
      if (this.#stamps.size + names.length > MAX_STAMPS) this.#sweepStamps(at);
      for (const name of names) this.#stamps.set(`${clockKey}\0${name}`, { value, at });
    },
    stampedSince: (clockKey, names, mark) => this.#stampedSince(clockKey, names, mark),
    // Each entry keeps its own tags here: candidates only narrow the answer, as they do in Redis.
    tagsOf: (key, tagPrefix, candidates) => {
      const tags = this.#nodes.get(key)?.tags ?? [];
      return tags
        .filter((tagKey) => tagKey.startsWith(tagPrefix) && (candidates === undefined || candidates.includes(tagKey)))
        .sort();
    },
    invalidate: async (tagKeys) => {
      let removed = 0;
      for (const tagKey of tagKeys) {
        for (const key of [...(this.#tagged.get(tagKey) ?? [])]) if (this.delete(key)) removed++;
        this.#tagged.delete(tagKey);
      }
      return removed;
    },
  };

  constructor(options: MemoryStoreOptions = {}) {
    assertKnownOptions('MemoryStore', options, Object.keys(DEFAULTS));
    const resolved = withDefaults(DEFAULTS, options);
    assertPositiveInteger('maxEntries', resolved.maxEntries);
    assertPositiveInteger('maxBytes', resolved.maxBytes);
    if (typeof resolved.checkValues !== 'boolean') throw optionError('checkValues', 'a boolean', resolved.checkValues);
    this.#maxEntries = resolved.maxEntries;
    this.#maxBytes = resolved.maxBytes;
    this.#checkValues = resolved.checkValues;
    this.#clock = resolved.clock;
    this.#coarse = resolved.clock === systemClock;
  }

  /** Number of entries held, expired ones included until they are touched or evicted. */
  get size(): number {
    return this.#nodes.size;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): CacheEntry | undefined {
    const node = this.#nodes.get(key);
    if (node === undefined) return undefined;
    if (node.expiresAt <= this.#now()) {
      this.#remove(node);
      return undefined;
    }
    if (node !== this.#newest) {
      this.#unlink(node);
      this.#pushNewest(node);
    }
    return node;
  }

  /** @throws ValueEncodeError for a value a Redis store could not keep either (unless `checkValues` is off). */
  set(key: string, value: unknown, ttlMs: number, freshMs?: number): void {
    if (this.#checkValues) assertEncodable(value);
    const now = this.#clock.now();
    this.#place(key, value, now + ttlMs, freshMs === undefined ? undefined : now + freshMs, now);
  }

  /** {@link CacheStore.setIfCurrent}, atomically: nothing else runs between the check and the write. */
  setIfCurrent(
    key: string,
    value: unknown,
    ttlMs: number,
    freshMs: number | undefined,
    tagKeys: readonly string[],
    check: CurrencyCheck,
  ): boolean {
    if (this.#stampedSince(check.clockKey, check.names, check.mark)) return false;
    this.set(key, value, ttlMs, freshMs);
    if (tagKeys.length > 0) this.tags.tag(key, tagKeys, ttlMs);
    return true;
  }

  /**
   * Stores `value` until the epoch millisecond `expiresAt` (fresh until `freshUntil`), as a tier promoting a
   * copy does. The value is not checked: it is one a Redis store already encoded or decoded.
   */
  setUntil(key: string, value: unknown, expiresAt: number, freshUntil?: number): void {
    this.#place(key, value, expiresAt, freshUntil, this.#clock.now());
  }

  #place(key: string, value: unknown, expiresAt: number, freshUntil: number | undefined, storedAt: number): void {
    const size = key.length * 2 + estimateSize(value);
    const existing = this.#nodes.get(key);
    if (existing !== undefined) this.#remove(existing);
    // An entry larger than the whole budget would evict everything and still not fit.
    if (size > this.#maxBytes) return;
    const node: Node = {
      key,
      value,
      expiresAt,
      freshUntil,
      settled: undefined,
      size,
      storedAt,
      newer: undefined,
      older: undefined,
      tags: undefined,
    };
    this.#nodes.set(key, node);
    this.#pushNewest(node);
    this.#bytes += size;
    while (this.#oldest !== undefined && (this.#nodes.size > this.#maxEntries || this.#bytes > this.#maxBytes)) {
      this.#remove(this.#oldest);
    }
  }

  delete(key: string): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#remove(node);
    return node.expiresAt > this.#clock.now();
  }

  /** Removes every entry whose key starts with `prefix` (all entries without one); returns how many. */
  clear(prefix = ''): number {
    let removed = 0;
    for (const node of [...this.#nodes.values()]) {
      if (node.key.startsWith(prefix)) {
        this.#remove(node);
        removed++;
      }
    }
    return removed;
  }

  /**
   * {@link CacheStore.peek}: the live entry without moving it in the recency order. `size` is the value
   * encoded as Redis would keep it (the estimate when `checkValues` is off and it cannot be encoded).
   */
  async peek(key: string): Promise<StoredEntry | undefined> {
    const node = this.#nodes.get(key);
    if (node === undefined || node.expiresAt <= this.#clock.now()) return undefined;
    let size: number;
    try {
      size = Buffer.byteLength(encodeValue(node.value));
    } catch {
      size = estimateSize(node.value);
    }
    const { value, expiresAt, freshUntil, storedAt } = node;
    return freshUntil === undefined
      ? { value, expiresAt, storedAt, size, store: this.name }
      : { value, expiresAt, freshUntil, storedAt, size, store: this.name };
  }

  /** {@link CacheStore.scan}: the live keys matching `pattern`, in pages of `count`, oldest stored first. */
  async *scan(pattern: string, count: number): AsyncGenerator<readonly string[]> {
    const matches = globMatcher(pattern);
    let page: string[] = [];
    // A Map iterates in insertion order and tolerates writes and deletes during the iteration.
    for (const node of this.#nodes.values()) {
      if (node.expiresAt <= this.#clock.now() || !matches(node.key)) continue;
      page.push(node.key);
      if (page.length >= count) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  async close(): Promise<void> {
    this.clear();
  }

  /**
   * The current time. Reading the system clock costs 20–80 ns, a third of a whole hit on some VMs, so
   * with the system clock the value is reused until a 1 ms timer marks it stale: an entry may be served
   * up to a millisecond past its expiry. An injected clock is read every time, exactly.
   */
  #now(): number {
    if (!this.#coarse) return this.#clock.now();
    if (!this.#nowValid) {
      this.#cachedNow = this.#clock.now();
      this.#nowValid = true;
      setTimeout(this.#invalidateNow, 1).unref();
    }
    return this.#cachedNow;
  }

  #stampedSince(clockKey: string, names: readonly string[], mark: number): boolean {
    if (mark < (this.#stampFloors.get(clockKey) ?? 0)) return true;
    for (const name of names) if ((this.#stamps.get(`${clockKey}\0${name}`)?.value ?? 0) > mark) return true;
    return false;
  }

  /**
   * Forgets stamps older than {@link STAMP_TTL_MS}, as Redis expires them. If that is not enough, forgets
   * them all, and every fill that started before now counts as having raced an invalidation: a few
   * values go unstored, but memory stays bounded and no stale value is kept.
   */
  #sweepStamps(now: number): void {
    for (const [name, stamp] of this.#stamps) if (now - stamp.at > STAMP_TTL_MS) this.#stamps.delete(name);
    if (this.#stamps.size < MAX_STAMPS / 2) return;
    this.#stamps.clear();
    for (const [clockKey, value] of this.#clocks) this.#stampFloors.set(clockKey, value);
  }

  #remove(node: Node): void {
    this.#nodes.delete(node.key);
    this.#unlink(node);
    this.#bytes -= node.size;
    if (node.tags !== undefined) this.#untag(node);
  }

  #untag(node: Node): void {
    for (const tagKey of node.tags ?? []) {
      const keys = this.#tagged.get(tagKey);
      keys?.delete(node.key);
      if (keys?.size === 0) this.#tagged.delete(tagKey);
    }
    node.tags = undefined;
  }

  #unlink(node: Node): void {
    if (node.newer !== undefined) node.newer.older = node.older;
    else this.#newest = node.older;
    if (node.older !== undefined) node.older.newer = node.newer;
    else this.#oldest = node.newer;
    node.newer = node.older = undefined;
  }

  #pushNewest(node: Node): void {
    node.older = this.#newest;
    if (this.#newest !== undefined) this.#newest.newer = node;
    this.#newest = node;
    if (this.#oldest === undefined) this.#oldest = node;
  }
}

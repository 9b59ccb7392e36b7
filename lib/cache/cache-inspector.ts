import type { Clock } from '../core/clock';
import { NotCachetKeyError, StoreError } from '../core/errors';
import {
  assertKeyPart,
  assertKnownOptions,
  assertNamespace,
  assertPositiveInteger,
  optionError,
} from '../core/validate';
import { encodeValue, estimateSize, isValueDecodeError } from '../codec/value-codec';
import { escapeGlob, globMatcher } from '../keys/glob';
import type { CacheStore, StoredEntry } from '../ports/cache-store';
import { describeKey } from './key-layout';

/** One entry of a cache, as `cache.peek` and `cache.inspect` show it. */
export interface CacheEntryDetails {
  /** The store key: `<prefix>:<namespace>:<method>:<digest>`. */
  readonly key: string;
  readonly namespace: string;
  /** `Class.method`, or the name of a wrapped function. */
  readonly method: string;
  /** The cached value, decoded. */
  readonly value: unknown;
  /** Epoch milliseconds at which the store stored it, when it knows (the memory store does, Redis does not). */
  readonly storedAt: number | undefined;
  /** Epoch milliseconds after which it is no longer served. */
  readonly expiresAt: number;
  /** Epoch milliseconds after which it is stale; `undefined` for an entry fresh until `expiresAt`. */
  readonly freshUntil: number | undefined;
  /**
   * `fresh`, or `stale`: kept past its TTL only to be served while a refresh runs (`staleWhileRevalidate`)
   * or when the method fails (`staleIfError`).
   */
  readonly state: 'fresh' | 'stale';
  /** The entry's tags (`@Cached({ tags })`), sorted. */
  readonly tags: readonly string[];
  /** Bytes of the value encoded as Redis keeps it. */
  readonly size: number;
  /** The store that holds it: `memory`, `redis`, or the name of your own. */
  readonly store: string;
  /** For a `TieredStore`: whether this instance's memory tier holds a live copy. */
  readonly memoryCopy?: boolean;
}

/** Options of `cache.keys`. */
export interface CacheKeysOptions {
  /** Only this namespace's keys. @default every namespace */
  readonly namespace?: string;
  /** Only this method's keys (`Class.method`, or a wrapped function's name). @default every method */
  readonly method?: string;
  /**
   * A Redis glob (`*`, `?`, `[a-z]`, `\` escapes) that the key without its `<prefix>:` must match, as
   * `chat:Assistant.answer:*`. @default every key
   */
  readonly match?: string;
  /** Keys per page, about: Redis's `SCAN` takes it as a hint. A positive integer. @default 100 */
  readonly count?: number;
  /**
   * Lists cachet's own keys under the prefix too: fill leases (`...#lock`), tag sets (`<prefix>:tag:...`),
   * semantic partitions (`...:sem:...`), shared stats (`<prefix>:stats`) and keys cachet did not write.
   * @default false
   */
  readonly internal?: boolean;
}

const KEYS_OPTIONS = ['namespace', 'method', 'match', 'count', 'internal'] as const;
const DEFAULT_COUNT = 100;

/** Looks inside a cache's store without using it: no lookup counted, nothing filled, no recency touched where avoidable. */
export class CacheInspector {
  constructor(
    private readonly store: CacheStore,
    private readonly prefix: string,
    private readonly clock: Clock,
  ) {}

  /**
   * The details of the entry under `key`, a key of this cache's entries; `undefined` when there is none.
   * `tagsOf` gives the tag keys the entry's method gives its value, the only ones then checked in the
   * store; without it (a raw key), the store looks at every tag of the cache.
   */
  async details(key: string, tagsOf?: (value: unknown) => readonly string[]): Promise<CacheEntryDetails | undefined> {
    const described = describeKey(this.prefix, key);
    if (described?.kind !== 'entry') {
      throw new NotCachetKeyError(key, `the key of a cachet entry (\`${this.prefix}:<namespace>:<method>:<digest>\`)`);
    }
    let stored: StoredEntry | undefined;
    try {
      stored = await this.#read(key);
    } catch (error) {
      if (isForeign(error)) {
        throw new NotCachetKeyError(key, 'a key holding a cachet entry (this one holds something else)', {
          cause: error,
        });
      }
      throw error;
    }
    if (stored === undefined) return undefined;
    const tagPrefix = this.#tagPrefix;
    const tagKeys = await this.#tagsOf(key, stored.value, tagsOf);
    const freshUntil = stored.freshUntil;
    const details: CacheEntryDetails = {
      key,
      namespace: described.namespace as string,
      method: described.method as string,
      value: stored.value,
      storedAt: stored.storedAt,
      expiresAt: stored.expiresAt,
      freshUntil,
      state: this.clock.now() < (freshUntil ?? stored.expiresAt) ? 'fresh' : 'stale',
      tags: tagKeys.map((tagKey) => tagKey.slice(tagPrefix.length)).sort(),
      size: stored.size,
      store: stored.store,
    };
    return stored.memoryCopy === undefined ? details : { ...details, memoryCopy: stored.memoryCopy };
  }

  /** Pages of this cache's keys; see {@link CacheKeysOptions}. Options are checked now, not at the first page. */
  keys(options: CacheKeysOptions = {}): AsyncIterable<readonly string[]> {
    assertKnownOptions('keys', options, KEYS_OPTIONS);
    const { namespace, method, match, count = DEFAULT_COUNT, internal = false } = options;
    if (namespace !== undefined) assertNamespace('namespace', namespace);
    if (method !== undefined) assertKeyPart('method', method);
    if (match !== undefined && (typeof match !== 'string' || match === ''))
      throw optionError('match', 'a non-empty glob pattern', match);
    assertPositiveInteger('count', count);
    if (typeof internal !== 'boolean') throw optionError('internal', 'a boolean', internal);
    const store = this.store;
    if (store.scan === undefined) throw new TypeError(`The ${store.name} store cannot list its keys`);
    const scope = `${this.prefix}:`;
    let pattern = `${escapeGlob(scope)}*`;
    if (namespace !== undefined)
      pattern = `${escapeGlob(`${scope}${namespace}:`)}${method === undefined ? '' : escapeGlob(`${method}:`)}*`;
    else if (method !== undefined) pattern = `${escapeGlob(scope)}*:${escapeGlob(`${method}:`)}*`;
    else if (match !== undefined) pattern = escapeGlob(scope) + match;
    const rest = match === undefined ? undefined : globMatcher(match);
    const keep = (key: string): boolean => {
      const d = describeKey(this.prefix, key);
      if (d === undefined || (!internal && d.kind !== 'entry')) return false;
      if (namespace !== undefined && d.namespace !== namespace) return false;
      if (method !== undefined && d.method !== method) return false;
      return rest === undefined || rest(key.slice(scope.length));
    };
    const scan = store.scan.bind(store);
    return {
      async *[Symbol.asyncIterator]() {
        for await (const page of scan(pattern, count)) {
          const kept = page.filter(keep);
          if (kept.length > 0) yield kept;
        }
      },
    };
  }

  get #tagPrefix(): string {
    return `${this.prefix}:tag:`;
  }

  /**
   * The entry's tag keys as the store recorded them: among those its method gives (none without `tags`,
   * then nothing is asked), or among all (a raw key, or a `tags` function that fails now).
   */
  async #tagsOf(
    key: string,
    value: unknown,
    tagsOf: ((value: unknown) => readonly string[]) | undefined,
  ): Promise<readonly string[]> {
    const index = this.store.tags;
    if (index?.tagsOf === undefined) return [];
    let candidates: readonly string[] | undefined;
    try {
      candidates = tagsOf?.(value);
    } catch {
      candidates = undefined;
    }
    if (candidates !== undefined && candidates.length === 0) return [];
    return index.tagsOf(key, this.#tagPrefix, candidates);
  }

  /** The store's `peek`; for a store without one, its `get` (which may count as a use there). */
  async #read(key: string): Promise<StoredEntry | undefined> {
    if (this.store.peek !== undefined) return this.store.peek(key);
    const entry = await this.store.get(key);
    if (entry === undefined) return undefined;
    let size: number;
    try {
      size = Buffer.byteLength(encodeValue(entry.value));
    } catch {
      size = estimateSize(entry.value);
    }
    const { value, expiresAt, freshUntil } = entry;
    return { value, expiresAt, ...(freshUntil === undefined ? {} : { freshUntil }), size, store: this.store.name };
  }
}

/** A failure that says the key holds something cachet did not write (a store may wrap the decode error). */
function isForeign(error: unknown): boolean {
  return isValueDecodeError(error) || (error instanceof StoreError && isValueDecodeError(error.cause));
}

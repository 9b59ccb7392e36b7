import { CacheKeyError } from '../core/errors';
import { encodeArguments, encodeValueForKey, UnencodableArgument } from './canonical';
import { digest } from './digest';

/** Chooses what identifies a call; called with the method's `this`. */
export type KeyFunction = (this: any, ...args: any[]) => unknown;

/**
 * Short argument lists are the common case (an id, a question). Hashing costs several hundred
 * nanoseconds even for them, more than the whole memory hit, so the builder remembers the finished key
 * for recently seen short encodings. Long encodings (chat transcripts) are rarely repeated verbatim and
 * would make the memo large, so they are always hashed.
 */
const MEMO_MAX_TEXT = 512;
const MEMO_MAX_ENTRIES = 2_048;

/**
 * Derives the storage key of one decorated method's calls:
 * `prefix:namespace:Class.method:<sha256 of the canonical arguments>`.
 */
export class KeyBuilder {
  readonly #base: string;
  readonly #method: string;
  readonly #keyFn: KeyFunction | undefined;
  readonly #memo = new Map<string, string>();

  constructor(prefix: string, namespace: string, method: string, keyFn?: KeyFunction) {
    this.#base = `${prefix}:${namespace}:${method}:`;
    this.#method = method;
    this.#keyFn = keyFn;
  }

  /** Everything before the digest; every key of this method starts with it. */
  get base(): string {
    return this.#base;
  }

  /** Entries in the short-argument memo (bounded); for tests and diagnostics. */
  get memoSize(): number {
    return this.#memo.size;
  }

  /** The key of a call. Throws {@link CacheKeyError} when the arguments cannot be encoded. */
  keyFor(self: unknown, args: readonly unknown[]): string {
    let canonical: string;
    try {
      canonical = this.#keyFn === undefined ? encodeArguments(args) : encodeValueForKey(this.#keyFn.apply(self, args as unknown[]));
    } catch (error) {
      if (error instanceof UnencodableArgument) {
        const path = this.#keyFn === undefined ? error.path() : `key()${error.path().slice(4)}`;
        throw new CacheKeyError(path, error.found, this.#method);
      }
      throw error;
    }
    if (canonical.length > MEMO_MAX_TEXT) return this.#base + digest(canonical);
    let key = this.#memo.get(canonical);
    if (key === undefined) {
      key = this.#base + digest(canonical);
      if (this.#memo.size >= MEMO_MAX_ENTRIES) this.#memo.delete(this.#memo.keys().next().value as string);
      this.#memo.set(canonical, key);
    }
    return key;
  }
}

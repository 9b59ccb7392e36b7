import { CacheKeyError } from '../core/errors';
import { encodeArguments, encodeValueForKey, UnencodableArgument } from './canonical';
import { ArgumentMemo } from './argument-memo';
import { digest } from './digest';

/** Chooses what identifies a call; called with the method's `this`. */
export type KeyFunction = (this: any, ...args: any[]) => unknown;

/**
 * Derives the storage key of one decorated method's calls:
 * `prefix:namespace:Class.method:<sha256 of the canonical arguments>`.
 */
export class KeyBuilder {
  readonly #base: string;
  readonly #method: string;
  readonly #keyFn: KeyFunction | undefined;
  readonly #memo = new ArgumentMemo();

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

  /**
   * The key of a call. Throws {@link CacheKeyError} when the arguments cannot be encoded.
   *
   * Hashing costs more than a whole memory hit, so repeated small argument lists are answered from
   * an {@link ArgumentMemo}; everything else is encoded and hashed each time.
   */
  keyFor(self: unknown, args: readonly unknown[]): string {
    const identity: unknown = this.#keyFn === undefined ? args : this.#keyFn.apply(self, args as unknown[]);
    const known = this.#memo.get(identity);
    if (known !== undefined) return known;
    let canonical: string;
    try {
      canonical = this.#keyFn === undefined ? encodeArguments(args) : encodeValueForKey(identity);
    } catch (error) {
      if (error instanceof UnencodableArgument) {
        const path = this.#keyFn === undefined ? error.path() : `key()${error.path().slice(4)}`;
        throw new CacheKeyError(path, error.found, this.#method);
      }
      throw error;
    }
    const key = this.#base + digest(canonical);
    this.#memo.set(identity, key);
    return key;
  }
}

import { optionError } from '../core/validate';
import type { Cache } from './cache';
import type { SemanticExplanation } from './semantic-types';

/** The names of an object's methods. */
export type MethodKeys<T> = { [K in keyof T]: T[K] extends (...args: any[]) => any ? K : never }[keyof T];

/** Finds the bound cached method of a decorated function for a cache and an instance. */
export type MethodLocator = (cache: Cache, self: unknown) => LocatedMethod;

/** What `cache.invalidate` and warming need of a cached method. `has`/`put` are absent for streams. */
export interface LocatedMethod {
  keyFor(self: unknown, args: readonly unknown[]): string;
  /** The tag keys the method gives a call's stored `value` (`[]` without `tags`); for `cache.peek`. */
  tagKeysOf(args: readonly unknown[], value: unknown): readonly string[];
  has?(self: unknown, args: readonly unknown[]): Promise<boolean>;
  put?(self: unknown, args: readonly unknown[], value: unknown): Promise<boolean>;
  explainSemantic?(self: unknown, args: readonly unknown[]): Promise<SemanticExplanation>;
}

// Decorated functions -> how to find their CachedMethod, for `cache.invalidate(instance, 'method', ...)`.
const locators = new WeakMap<object, MethodLocator>();

export function registerCachedMethod(fn: object, locate: MethodLocator): void {
  locators.set(fn, locate);
}

/** The cached method `instance[method]` in `cache`; a `TypeError` when it is not a `@Cached` method. */
export function locateCachedMethod(cache: Cache, instance: object, method: PropertyKey): LocatedMethod {
  const fn = (instance as Record<PropertyKey, unknown>)[method];
  const locate = typeof fn === 'function' ? locators.get(fn) : undefined;
  if (locate === undefined) throw optionError('method', 'the name of a @Cached method of the instance', method);
  return locate(cache, instance);
}

// Functions made by `cache.wrap` -> their cached method, for `cache.peek(fn, ...args)`. Apart from the
// decorated methods: a decorated method taken off its class has no instance to derive keys with.
const wrapped = new WeakMap<object, { readonly cache: Cache; readonly method: LocatedMethod }>();

export function registerWrappedFunction(fn: object, cache: Cache, method: LocatedMethod): void {
  wrapped.set(fn, { cache, method });
}

/** Whether `fn` is a function that `cache.wrap` made. */
export function isWrappedFunction(fn: unknown): boolean {
  return typeof fn === 'function' && wrapped.has(fn);
}

/** The cached method behind `fn`, a function that `cache` wrapped; a `TypeError` for any other. */
export function locateWrappedFunction(cache: Cache, fn: unknown): LocatedMethod {
  const found = typeof fn === 'function' ? wrapped.get(fn) : undefined;
  if (found === undefined || found.cache !== cache) throw optionError('fn', 'a function wrapped by this cache', fn);
  return found.method;
}

import { optionError } from '../core/validate';
import type { Cache } from './cache';
import type { SemanticExplanation } from './semantic-index';

/** The names of an object's methods. */
export type MethodKeys<T> = { [K in keyof T]: T[K] extends (...args: any[]) => any ? K : never }[keyof T];

/** Finds the bound cached method of a decorated function for a cache and an instance. */
export type MethodLocator = (cache: Cache, self: unknown) => LocatedMethod;

/** What `cache.invalidate` and warming need of a cached method. `has`/`put` are absent for streams. */
export interface LocatedMethod {
  keyFor(self: unknown, args: readonly unknown[]): string;
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

/** Whether `fn` is a function that `cache.wrap` made (or a decorated method), known to the registry. */
export function isCachedFunction(fn: unknown): boolean {
  return typeof fn === 'function' && locators.has(fn);
}

/** The cached method behind `fn`, a function `cache.wrap` made; a `TypeError` for any other function. */
export function locateCachedFunction(cache: Cache, fn: unknown): LocatedMethod {
  const locate = typeof fn === 'function' ? locators.get(fn) : undefined;
  if (locate === undefined) throw optionError('fn', 'a function made by cache.wrap', fn);
  return locate(cache, undefined);
}

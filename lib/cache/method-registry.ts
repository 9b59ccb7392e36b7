import type { Cache } from './cache';

/** Finds the bound cached method of a decorated function for a cache and an instance. */
export type MethodLocator = (cache: Cache, self: unknown) => LocatedMethod;

/** What `cache.invalidate` and warming need of a cached method. `has`/`put` are absent for streams. */
export interface LocatedMethod {
  keyFor(self: unknown, args: readonly unknown[]): string;
  has?(self: unknown, args: readonly unknown[]): Promise<boolean>;
  put?(self: unknown, args: readonly unknown[], value: unknown): Promise<boolean>;
}

// Decorated functions -> how to find their CachedMethod, for `cache.invalidate(instance, 'method', ...)`.
const locators = new WeakMap<Function, MethodLocator>();

export function registerCachedMethod(fn: Function, locate: MethodLocator): void {
  locators.set(fn, locate);
}

export function cachedMethodLocator(fn: Function): MethodLocator | undefined {
  return locators.get(fn);
}

import { getDefaultCache } from '../cache/default-cache';
import type { Cache } from '../cache/cache';
import type { CachedMethod } from '../cache/cached-method';
import { resolveCachedOptions, type CachedOptions } from '../cache/cached-options';
import { createMethodDecorator, type UniversalMethodDecorator } from './method-decorator';

/** A method `@Cached` accepts: one that returns a promise. */
export type AsyncMethod = (this: any, ...args: any[]) => Promise<any>;

/**
 * Caches an async method's results by its arguments, like Spring's `@Cacheable`. Identical concurrent
 * calls run the method once, in this process and, on Redis, across every process. Works with both
 * TypeScript decorator dialects; invalid options throw a `TypeError` when the class is defined.
 *
 * @example
 * class Assistant {
 *   @Cached({ ttl: '1h', when: (q: Question) => q.temperature === 0 })
 *   async answer(q: Question): Promise<string> { ... }
 * }
 */
export function Cached(options: CachedOptions = {}): UniversalMethodDecorator<AsyncMethod> {
  const resolved = resolveCachedOptions(options);
  return createMethodDecorator<AsyncMethod>('cached', options as Record<string, unknown>, (original, site) => {
    // Bound lazily and re-bound if the default cache is replaced, so setDefaultCache() may come after
    // the class is defined; one identity check per call.
    let boundTo: Cache | undefined;
    let bound: CachedMethod | undefined;
    return function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const cache = resolved.cache ?? getDefaultCache();
      if (cache !== boundTo) {
        bound = cache.method(site.qualifiedName(this), resolved);
        boundTo = cache;
      }
      return (bound as CachedMethod).call(original, this, args);
    };
  });
}

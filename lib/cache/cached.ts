import { getDefaultCache } from './default-cache';
import type { Cache } from './cache';
import type { CachedMethod } from './cached-method';
import { resolveCachedOptions, type CachedOptions, type CachedStreamOptions } from './cached-options';
import type { CachedStreamMethod } from './cached-stream-method';
import { registerCachedMethod } from './method-registry';
import {
  createMethodDecorator,
  type AsyncMethod,
  type StreamingMethod,
  type UniversalMethodDecorator,
} from '../decorate/method-decorator';

export type { AsyncMethod, StreamingMethod } from '../decorate/method-decorator';

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
export function Cached(
  options: CachedOptions & { readonly stream: true | CachedStreamOptions },
): UniversalMethodDecorator<StreamingMethod>;
export function Cached(options?: CachedOptions & { readonly stream?: false }): UniversalMethodDecorator<AsyncMethod>;
export function Cached(options: CachedOptions): UniversalMethodDecorator<AsyncMethod | StreamingMethod>;
export function Cached(options: CachedOptions = {}): UniversalMethodDecorator<AsyncMethod | StreamingMethod> {
  const resolved = resolveCachedOptions(options);
  const streams = resolved.stream !== undefined;
  return createMethodDecorator<AsyncMethod | StreamingMethod>(
    'cached',
    options as Record<string, unknown>,
    (original, site) => {
      // Bound lazily and re-bound if the default cache is replaced, so setDefaultCache() may come after
      // the class is defined; one identity check per call.
      let boundTo: Cache | undefined;
      let bound: CachedMethod | CachedStreamMethod | undefined;
      const cached = function (this: unknown, ...args: unknown[]): any {
        const cache = resolved.cache ?? getDefaultCache();
        if (cache !== boundTo) {
          const name = site.qualifiedName(this);
          bound = streams ? cache.streamMethod(name, resolved) : cache.method(name, resolved);
          boundTo = cache;
        }
        return (bound as CachedMethod).call(original as never, this, args);
      };
      // For cache.invalidate(instance, 'method', ...args): the key the call would use in a given cache.
      // The method bound to that cache when calls use it (its semantic index is there); a method with its
      // own `cache` is bound here as a call would bind it.
      registerCachedMethod(cached, (cache, self) => {
        if (cache === boundTo && bound !== undefined) return bound;
        const name = site.qualifiedName(self);
        const located = streams ? cache.streamMethod(name, resolved) : cache.method(name, resolved);
        if (cache === resolved.cache) {
          bound = located;
          boundTo = cache;
        }
        return located;
      });
      return cached;
    },
  );
}

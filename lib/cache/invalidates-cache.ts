import type { Cache } from './cache';
import { getDefaultCache } from './default-cache';
import { resolveTags } from './cached-options';
import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import type { AsyncMethod } from './cached';
import { createMethodDecorator, type UniversalMethodDecorator } from '../decorate/method-decorator';

/** Options of {@link InvalidatesCache}. */
export interface InvalidatesCacheOptions<Args extends any[] = any[], Result = any> {
  /** The cache whose entries go. @default the default cache */
  readonly cache?: Cache;
  /** Tags whose entries go: a list, or a function of the result and the arguments. */
  readonly tags: readonly string[] | ((result: Result, ...args: Args) => readonly string[]);
}

/**
 * After the method succeeds, removes the cached entries carrying its tags, like Spring's `@CacheEvict`:
 * a method that changes data invalidates the cached reads of that data, on every instance sharing the
 * store. A failed method invalidates nothing. A failed invalidation is the cache's `error` event (or a
 * rejection under `onStoreError: 'throw'`); the method's own result is returned either way.
 *
 * @example
 * class Agents {
 *   @Cached({ tags: (_config, id: string) => [`agent:${id}`] })
 *   async config(id: string): Promise<AgentConfig> { ... }
 *
 *   @InvalidatesCache({ tags: (_result, id: string) => [`agent:${id}`] })
 *   async updateConfig(id: string, patch: Partial<AgentConfig>): Promise<void> { ... }
 * }
 */
export function InvalidatesCache(options: InvalidatesCacheOptions): UniversalMethodDecorator<AsyncMethod> {
  assertPlainObject('options', options);
  assertKnownOptions('@InvalidatesCache', options, ['cache', 'tags']);
  if (options.tags === undefined) throw optionError('tags', 'an array of tags or a function returning one', undefined);
  const tagsOf = resolveTags(options.tags)!;
  return createMethodDecorator<AsyncMethod>(
    'invalidatesCache',
    options as unknown as Record<string, unknown>,
    (original, site) =>
      async function (this: unknown, ...args: unknown[]): Promise<unknown> {
        const result = await original.apply(this, args);
        const cache = options.cache ?? getDefaultCache();
        const list = tagsOf(result, ...args);
        try {
          await cache.invalidateTags(list);
        } catch (error) {
          cache.reportStoreError(
            site.qualifiedName(this),
            'invalidate',
            Array.isArray(list) ? list.join(',') : '',
            error,
          );
        }
        return result;
      },
  );
}

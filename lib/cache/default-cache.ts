import { readSettings } from '../core/settings';
import type { CacheStore } from '../ports/cache-store';
import { Cache, type CacheOptions } from './cache';

let current: Cache | undefined;
let storeForUrl: ((url: string) => CacheStore) | undefined;

/**
 * How the default cache opens a store for `REDIS_URL`. The `cachet` entry point sets it, so that the
 * Redis code loads only when a URL is configured; nothing here depends on a Redis backend.
 */
export function setStoreForUrl(factory: (url: string) => CacheStore): void {
  storeForUrl = factory;
}

/**
 * The cache used by decorators that name none. Created on first use from the environment: a Redis
 * store when `REDIS_URL` (or `REDIS_HOST`...) is set, else memory. See {@link readSettings}.
 */
export function getDefaultCache(): Cache {
  return (current ??= createCacheFromEnv());
}

/**
 * Replaces the default cache (`undefined` goes back to the environment's). Decorated methods pick the
 * new one up on their next call.
 */
export function setDefaultCache(cache: Cache | undefined): void {
  if (cache !== undefined && !(cache instanceof Cache)) {
    throw new TypeError(`Expected \`cache\` to be a Cache instance or undefined, got ${typeof cache}`);
  }
  current = cache;
}

/** Builds a cache from environment settings. */
export function createCacheFromEnv(env: NodeJS.ProcessEnv = process.env, cwd?: string): Cache {
  const settings = readSettings(env, cwd);
  const options: { -readonly [K in keyof CacheOptions]: CacheOptions[K] } = {};
  if (settings.redisUrl) {
    if (storeForUrl === undefined)
      throw new TypeError('REDIS_URL is set, but no store for URLs is known: import cachet from its entry point');
    options.store = storeForUrl(settings.redisUrl);
  }
  if (settings.prefix) options.prefix = settings.prefix;
  if (settings.ttl) options.ttl = settings.ttl;
  return new Cache(options);
}

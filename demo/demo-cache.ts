import { Cache, type CacheOptions } from '../lib';
import { RedisStore } from '../lib/redis';

export interface DemoCache {
  readonly cache: Cache;
  /** `memory` or `redis`. */
  readonly store: string;
  /** Where the entries live, safe to print: a Redis URL loses its password. */
  readonly where: string;
}

/**
 * The memory store by default; Redis when `REDIS_URL` is set, under a key prefix of its own so that a
 * rerun starts cold instead of finding the previous run's answers (they expire after the 10-minute TTL).
 */
export function createDemoCache(env: NodeJS.ProcessEnv = process.env, options: CacheOptions = {}): DemoCache {
  const url = env.REDIS_URL;
  if (!url) return { cache: new Cache(options), store: 'memory', where: 'in this process' };
  const prefix = `cachet-demo-${Date.now()}`;
  const cache = new Cache({ ...options, store: new RedisStore({ url }), prefix });
  return { cache, store: 'redis', where: `${withoutPassword(url)}, keys ${prefix}:*` };
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

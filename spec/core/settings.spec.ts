import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCacheFromEnv, MemoryStore, readSettings } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { testRedisUrl } from '../support/redis';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'cachet-settings-'));

describe('settings from the environment', () => {
  it('reads REDIS_URL', () => {
    expect(readSettings({ REDIS_URL: 'redis://h:1/2' }, emptyDir()).redisUrl).toBe('redis://h:1/2');
  });

  it('builds the URL from REDIS_HOST, REDIS_PORT, REDIS_PASSWORD and REDIS_DB', () => {
    const url = readSettings(
      { REDIS_HOST: 'cache.internal', REDIS_PORT: '6380', REDIS_PASSWORD: 'p@ss', REDIS_DB: '3' },
      emptyDir(),
    ).redisUrl;
    expect(url).toBe('redis://:p%40ss@cache.internal:6380/3');
  });

  it('has no Redis when nothing is set', () => {
    expect(readSettings({}, emptyDir()).redisUrl).toBeUndefined();
  });

  it('reads a .env file, with the real environment taking precedence', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, '.env'), 'REDIS_URL=redis://from-file:6379\nCACHET_PREFIX=filepfx\nCACHET_TTL=5m\n');
    expect(readSettings({}, dir)).toEqual({ redisUrl: 'redis://from-file:6379', prefix: 'filepfx', ttl: '5m' });
    expect(readSettings({ REDIS_URL: 'redis://from-env:6379' }, dir).redisUrl).toBe('redis://from-env:6379');
  });

  it('creates a memory cache without Redis settings and a Redis cache with them', async () => {
    const memory = createCacheFromEnv({}, emptyDir());
    expect(memory.store).toBeInstanceOf(MemoryStore);
    const redis = createCacheFromEnv({ REDIS_URL: testRedisUrl(), CACHET_TTL: '1m' }, emptyDir());
    try {
      expect(redis.store).toBeInstanceOf(RedisStore);
      const f = redis.wrap(async () => 'v', { name: `settings-${Date.now()}` });
      await f();
      await f();
      expect(redis.stats().total.hits).toBe(1);
    } finally {
      await redis.close();
    }
  });

  it('rejects an invalid CACHET_TTL with the standard message', () => {
    expect(() => createCacheFromEnv({ CACHET_TTL: 'soon' }, emptyDir())).toThrow(/Expected `ttl` to be a duration/);
  });
});

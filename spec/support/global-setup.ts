import { startRedisServer, type TestRedisServer } from './redis-server';

/**
 * Gives every test worker a Redis: the one in REDIS_URL when set, otherwise a redis-server started here
 * on a free port and stopped in global-teardown. Tests read it through `testRedisUrl()`.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) {
    process.env.CACHET_TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  const server = await startRedisServer();
  (globalThis as { __cachetRedis?: TestRedisServer }).__cachetRedis = server;
  process.env.CACHET_TEST_REDIS_URL = server.url;
}

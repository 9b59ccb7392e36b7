import { startRedisServer, type TestRedisServer } from './redis-server';

/**
 * Gives every test worker a Redis: the one in REDIS_URL when set, otherwise a redis-server started here
 * on a free port and stopped in global-teardown. Tests read it through `testRedisUrl()`. Only the Jest
 * projects of specs that need Redis have this setup (see jest.config.js), and Jest runs it only when one
 * of their specs is selected.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) {
    process.env.CACHET_TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  let server: TestRedisServer;
  try {
    server = await startRedisServer();
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\nThe selected specs need Redis (they import spec/support/redis*.ts); ` +
        '`npm run test:unit` runs every spec that does not.',
      { cause: error },
    );
  }
  (globalThis as { __cachetRedis?: TestRedisServer }).__cachetRedis = server;
  process.env.CACHET_TEST_REDIS_URL = server.url;
}

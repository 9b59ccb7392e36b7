import type { TestRedisServer } from './redis-server';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __cachetRedis?: TestRedisServer }).__cachetRedis?.stop();
}

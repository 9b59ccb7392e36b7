import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import type { RedisClientLike } from '../../lib/redis/connection';

/** URL of the Redis that global-setup provided. */
export function testRedisUrl(): string {
  const url = process.env.CACHET_TEST_REDIS_URL;
  if (!url) throw new Error('CACHET_TEST_REDIS_URL is not set: run the tests through jest.config.js');
  return url;
}

/** A connected node-redis client for assertions and set-up; close it with `destroy()` or `close()`. */
export async function connectTestClient(url = testRedisUrl()): Promise<RedisClientLike> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  return client as unknown as RedisClientLike;
}

/** A key prefix unique to one test, so tests sharing a server never see each other's keys. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key starting with `prefix`. */
export async function deleteKeys(client: RedisClientLike, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.sendCommand<[string, string[]]>([
      'SCAN',
      cursor,
      'MATCH',
      `${prefix}*`,
      'COUNT',
      '500',
    ]);
    cursor = next;
    if (keys.length > 0) await client.sendCommand(['UNLINK', ...keys]);
  } while (cursor !== '0');
}

/** Deletes every key starting with `prefix` over a connection of its own, for `afterAll`. */
export async function cleanUpKeys(prefix: string): Promise<void> {
  const client = await connectTestClient();
  try {
    await deleteKeys(client, prefix);
  } finally {
    await client.close();
  }
}

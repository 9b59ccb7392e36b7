import type { RedisClientLike } from './connection';

/**
 * Closes a client gracefully when it is connected; otherwise destroys it, which also stops a reconnect
 * loop that would otherwise keep retrying (and keep the process alive) forever.
 */
export async function closeClient(client: RedisClientLike): Promise<void> {
  if (client.isReady) {
    await client.close().catch(() => client.destroy());
    return;
  }
  try {
    client.destroy();
  } catch {
    // Already closed.
  }
}

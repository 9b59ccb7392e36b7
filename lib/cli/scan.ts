import type { RedisConnection } from '../redis';

/** Escapes `*`, `?`, `[`, `]` and `\` so that `text` matches itself in a `SCAN ... MATCH` pattern. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Counts the keys matching `pattern` on every master, with `SCAN` (never `KEYS`), 500 at a time. */
export async function countKeys(redis: RedisConnection, pattern: string): Promise<number> {
  let count = 0;
  for (const { client } of await redis.nodes()) {
    let cursor = '0';
    do {
      const [next, keys] = await client.sendCommand<[string, string[]]>([
        'SCAN',
        cursor,
        'MATCH',
        pattern,
        'COUNT',
        '500',
      ]);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
  }
  return count;
}

import { COMMAND_OPTIONS, type RedisClientLike } from './connection';
import { ClusterClientAdapter } from './cluster';
import type { GuardedSend } from './tag-index';

/** Tag sets asked about per round trip when looking for an entry's tags. */
const MEMBERSHIP_BATCH = 500;

/**
 * The keys matching `pattern` (a Redis glob), in the pages `SCAN` returns (empty ones skipped): on a
 * cluster on every master in turn, since each holds part of the keys. Never `KEYS`, which blocks the
 * server for as long as it walks the whole key space. `count` is `SCAN`'s hint: a page may hold fewer
 * keys (most of a page may not match) or, rarely, a few more.
 */
export async function* scanKeys(
  send: GuardedSend,
  pattern: string,
  count: number,
  type?: 'set',
): AsyncGenerator<string[]> {
  const only = type === undefined ? [] : ['TYPE', type];
  for (const node of await mastersOf(send, pattern)) {
    let cursor = '0';
    do {
      const [next, keys] = await send('keys', pattern, () =>
        node.sendCommand<[string, string[]]>(
          ['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(count), ...only],
          COMMAND_OPTIONS,
        ),
      );
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/**
 * The tag sets matching `tagPattern` that hold `key`. Redis keeps no list of an entry's tags (only each
 * tag's list of keys), so this walks every tag set: one `SCAN` of the tag sets and one `SISMEMBER` per
 * set, sent in batches. Fine for looking at one entry, too slow for a hot path.
 */
export async function tagsOf(send: GuardedSend, key: string, tagPattern: string): Promise<string[]> {
  const tags: string[] = [];
  for await (const page of scanKeys(send, tagPattern, MEMBERSHIP_BATCH, 'set')) {
    const members = await Promise.all(
      page.map((tagKey) =>
        send('peek', tagKey, (client) => client.sendCommand<number>(['SISMEMBER', tagKey, key], COMMAND_OPTIONS)),
      ),
    );
    page.forEach((tagKey, i) => {
      if (Number(members[i]) === 1) tags.push(tagKey);
    });
  }
  return tags.sort();
}

async function mastersOf(send: GuardedSend, pattern: string): Promise<RedisClientLike[]> {
  return send('keys', pattern, async (client) =>
    client instanceof ClusterClientAdapter ? client.masterClients() : [client],
  );
}

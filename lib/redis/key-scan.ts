import { COMMAND_OPTIONS, type RedisClientLike } from './connection';
import { ClusterClientAdapter } from './cluster';
import type { GuardedSend } from './tag-index';

/**
 * `SCAN`'s `COUNT` when walking the tag sets: each call walks about this many slots of the key space, so
 * the walk takes (keys in the database / 5,000) round trips, each a fraction of a millisecond of Redis's
 * time. With 500, a peek in a database of 40,000 keys and 200 tag sets took 26 ms, mostly round trips.
 */
const TAG_SCAN_COUNT = 5_000;

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
 * The tag sets that hold `key`, among `candidates` or, without them, among every set matching
 * `tagPattern`. Redis keeps no list of an entry's tags (only each tag's list of keys), so without
 * candidates this walks the whole database (`SCAN ... MATCH ... TYPE set`), then asks each tag set found.
 * Fine for looking at one entry, far too slow for a request path.
 */
export async function tagsOf(
  send: GuardedSend,
  key: string,
  tagPattern: string,
  candidates?: readonly string[],
): Promise<string[]> {
  const tags: string[] = [];
  const check = async (tagKeys: readonly string[]): Promise<void> => {
    const members = await Promise.all(
      tagKeys.map((tagKey) =>
        send('peek', tagKey, (client) => client.sendCommand<number>(['SISMEMBER', tagKey, key], COMMAND_OPTIONS)),
      ),
    );
    tagKeys.forEach((tagKey, i) => {
      if (Number(members[i]) === 1) tags.push(tagKey);
    });
  };
  if (candidates !== undefined) await check([...new Set(candidates)]);
  else for await (const page of scanKeys(send, tagPattern, TAG_SCAN_COUNT, 'set')) await check(page);
  return tags.sort();
}

async function mastersOf(send: GuardedSend, pattern: string): Promise<RedisClientLike[]> {
  return send('keys', pattern, async (client) =>
    client instanceof ClusterClientAdapter ? client.masterClients() : [client],
  );
}

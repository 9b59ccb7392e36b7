import { STAMP_TTL_MS, type TagIndex } from '../ports/cache-store';
import { COMMAND_OPTIONS, type RedisClientLike } from './connection';
import { ClusterClientAdapter, groupBySlot } from './cluster';
import { defineLua, runLua } from './lua';
import { escapeGlob } from '../keys/glob';
import { tagsOf } from './key-scan';

/** Runs one Redis round trip for a store operation under the store's timeout and breaker. */
export type GuardedSend = <T>(
  operation: string,
  key: string | undefined,
  run: (client: RedisClientLike) => Promise<T>,
) => Promise<T>;

// Adds the entry to the tag's set and makes the set live at least as long as the entry.
const TAG = defineLua(
  'cachet-tag',
  `redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= 0 and ttl < tonumber(ARGV[2]) or ttl == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`,
);

// Takes the whole set at once, so an entry tagged meanwhile is either in this round or in the next set.
const TAKE = defineLua(
  'cachet-take-tag',
  `local members = redis.call('SMEMBERS', KEYS[1])
redis.call('UNLINK', KEYS[1])
return members`,
);

// Raises a stamp to ARGV[1] unless it already holds a later one (two invalidations may write out of
// order), and keeps it for ARGV[2] ms.
const STAMP = defineLua(
  'cachet-stamp',
  `local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local value = tonumber(ARGV[1])
if value > current then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1`,
);

/**
 * Stores an entry and adds it to its tag sets, unless an invalidation stamped one of its names after
 * the fill began: one atomic step, so an invalidation is either before it (nothing stored) or after it
 * (and finds the key in its tag set, or deletes it by key or prefix). One Redis only: its keys lie in
 * many hash slots.
 *
 * KEYS[1] entry · KEYS[2 .. 1+ARGV[4]] stamps · the rest tag sets
 * ARGV[1] entry text · ARGV[2] PX · ARGV[3] mark · ARGV[4] number of stamps · ARGV[5] tag sets' PX
 * Returns 1 when stored, 0 when an invalidation came first.
 */
export const STORE_IF_CURRENT = defineLua(
  'cachet-store-if-current',
  `local stamps = tonumber(ARGV[4])
local mark = tonumber(ARGV[3])
for i = 2, stamps + 1 do
  local stamp = redis.call('GET', KEYS[i])
  if stamp and tonumber(stamp) > mark then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = stamps + 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl >= 0 and ttl < tonumber(ARGV[5]) or ttl == -1 then redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
end
return 1`,
);

/** Keys deleted per UNLINK. */
const BATCH = 500;

/**
 * Tags in Redis: one set per tag (`<prefix>:tag:<tag>`) holding the keys of its entries, living as long
 * as its longest-lived entry. Every command touches one key, so it works on a cluster too; entries are
 * unlinked one key per command, pipelined.
 */
export class RedisTagIndex implements TagIndex {
  /**
   * Keys a tag invalidation took from their tag sets but could not unlink (their node failed): the tag
   * sets no longer name them, so the next invalidation (the cache's replay) unlinks them first.
   */
  readonly #leftover = new Set<string>();

  constructor(private readonly send: GuardedSend) {}

  async tag(key: string, tagKeys: readonly string[], ttlMs: number): Promise<void> {
    const ms = String(Math.max(1, Math.ceil(ttlMs)));
    await Promise.all(
      tagKeys.map((tagKey) => this.send('tag', tagKey, (client) => runLua(client, TAG, [tagKey], [key, ms]))),
    );
  }

  async mark(clockKey: string): Promise<number> {
    const value = await this.send('mark', clockKey, (client) =>
      client.sendCommand<string | null>(['GET', clockKey], COMMAND_OPTIONS),
    );
    return value === null ? 0 : Number(value);
  }

  async stamp(clockKey: string, names: readonly string[]): Promise<void> {
    const value = await this.send('invalidate', clockKey, (client) =>
      client.sendCommand<number>(['INCR', clockKey], COMMAND_OPTIONS),
    );
    const args = [String(value), String(STAMP_TTL_MS)];
    await Promise.all(
      names.map((name) =>
        this.send('invalidate', stampKey(clockKey, name), (client) =>
          runLua(client, STAMP, [stampKey(clockKey, name)], args),
        ),
      ),
    );
  }

  async stampedSince(clockKey: string, names: readonly string[], mark: number): Promise<boolean> {
    const keys = names.map((name) => stampKey(clockKey, name));
    // One read per hash slot, each under the breaker of the node that holds it: on a cluster the stamps
    // lie on several masters, and a failed one must not be charged to another master's breaker.
    const groups = await Promise.allSettled(
      groupBySlot(keys).map((positions) => {
        const slice = positions.map((i) => keys[i] as string);
        return this.send('mark', slice[0], (client) =>
          client.sendCommand<(string | null)[]>(['MGET', ...slice], COMMAND_OPTIONS),
        );
      }),
    );
    // A stamp on a node that does not answer counts as not moved: an invalidation that stamps it has to
    // reach that node too, and when it cannot, it is queued and its replay removes the entry. Only when no
    // stamp could be read is the check itself failed.
    let read = false;
    for (const group of groups) {
      if (group.status === 'rejected') continue;
      read = true;
      if (group.value.some((value) => value !== null && Number(value) > mark)) return true;
    }
    if (!read) throw (groups[0] as PromiseRejectedResult).reason;
    return false;
  }

  /**
   * {@link TagIndex.tagsOf}: with `candidates`, one `SISMEMBER` each; without, a walk over every tag set
   * under `tagPrefix` (see {@link tagsOf}), which costs a `SCAN` of the whole database.
   */
  async tagsOf(key: string, tagPrefix: string, candidates?: readonly string[]): Promise<string[]> {
    const pattern = `${escapeGlob(tagPrefix)}*`;
    return tagsOf(
      this.send,
      key,
      pattern,
      candidates?.filter((tagKey) => tagKey.startsWith(tagPrefix)),
    );
  }

  async invalidate(tagKeys: readonly string[]): Promise<number> {
    return (await this.invalidateKeys(tagKeys)).removed;
  }

  /** {@link invalidate}, also telling which keys carried the tags (a memory tier drops its copies of them). */
  async invalidateKeys(tagKeys: readonly string[]): Promise<{ keys: string[]; removed: number }> {
    let removed = 0;
    let failure: unknown;
    const all: string[] = [];
    const unlink = async (keys: readonly string[]): Promise<void> => {
      all.push(...keys);
      const outcome = await unlinkSettled(this.send, keys);
      removed += outcome.removed;
      for (const key of outcome.failed) this.#leftover.add(key);
      failure ??= outcome.error;
    };
    if (this.#leftover.size > 0) {
      const keys = [...this.#leftover];
      this.#leftover.clear();
      await unlink(keys);
    }
    for (const tagKey of tagKeys) {
      const keys = await this.send('invalidate', tagKey, (client) => runLua<string[]>(client, TAKE, [tagKey], []));
      await unlink(keys);
    }
    if (failure !== undefined) throw failure;
    return { keys: all, removed };
  }
}

/**
 * Where the stamp of `name` lives: under the clock key, which lies outside the cache's `<prefix>:` key
 * space, so that clearing a prefix never deletes the stamps that protect it.
 */
export function stampKey(clockKey: string, name: string): string {
  return `${clockKey}:${name}`;
}

/**
 * Deletes every key starting with `prefix`: `SCAN` in pages (never `KEYS`, which blocks the server)
 * and `UNLINK` (freed in the background). Glob characters in the prefix are escaped.
 */
export async function clearPrefix(send: GuardedSend, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  // On a cluster each master holds part of the keys: scan every one of them.
  const nodes = await send('clear', prefix, async (client) =>
    client instanceof ClusterClientAdapter ? client.masterClients() : [client],
  );
  let removed = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await send('clear', prefix, () =>
        node.sendCommand<[string, string[]]>(
          ['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(BATCH)],
          COMMAND_OPTIONS,
        ),
      );
      cursor = next;
      removed += await unlinkEach(send, keys);
    } while (cursor !== '0');
  }
  return removed;
}

/** {@link unlinkEach} that goes on past failures: which keys could not be unlinked, and the first error. */
async function unlinkSettled(
  send: GuardedSend,
  keys: readonly string[],
): Promise<{ removed: number; failed: string[]; error: unknown }> {
  let removed = 0;
  let error: unknown;
  const failed: string[] = [];
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    const outcomes = await Promise.allSettled(
      batch.map((key) =>
        send('invalidate', key, (client) => client.sendCommand<number>(['UNLINK', key], COMMAND_OPTIONS)),
      ),
    );
    outcomes.forEach((outcome, j) => {
      if (outcome.status === 'fulfilled') removed += outcome.value;
      else {
        failed.push(batch[j] as string);
        error ??= outcome.reason;
      }
    });
  }
  return { removed, failed, error };
}

async function unlinkEach(send: GuardedSend, keys: readonly string[]): Promise<number> {
  let removed = 0;
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    const counts = await Promise.all(
      batch.map((key) =>
        send('invalidate', key, (client) => client.sendCommand<number>(['UNLINK', key], COMMAND_OPTIONS)),
      ),
    );
    for (const count of counts) removed += count;
  }
  return removed;
}

import { defineLua } from './lua';

// Every script reads the Redis server's TIME, so leases expire on one clock whatever the callers'
// clocks say. The holders of one semaphore key are a sorted set: member = holder token, score = the
// lease's expiry in server milliseconds. The key itself expires with its last lease, so an abandoned
// semaphore leaves nothing behind.

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// Keeps the key alive exactly as long as its longest lease (holders may use different TTLs).
const EXPIRE_WITH_LAST_LEASE = `local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now)) end`;

/**
 * Takes a slot if fewer than `max` unexpired leases exist. Expired holders (dead processes) are removed
 * first. A token that already holds a lease keeps it (renewed): a retried acquire whose first reply was
 * lost must not count twice. Returns 1 if the caller now holds a slot, 0 if the semaphore is full.
 *
 * KEYS[1] holders (sorted set) · ARGV[1] holder token · ARGV[2] max · ARGV[3] lease time to live, ms
 */
export const ACQUIRE_SLOT = defineLua(
  'acquire-slot',
  `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
${EXPIRE_WITH_LAST_LEASE}
return 1`,
);

/**
 * Extends a held lease by its time to live. A lease that already expired is not revived, even if no one
 * removed it yet: another process may have counted it gone and taken the slot. Returns 1 if extended,
 * 0 if the lease is lost.
 *
 * KEYS[1] holders · ARGV[1] holder token · ARGV[2] lease time to live, ms
 */
export const RENEW_SLOT = defineLua(
  'renew-slot',
  `${NOW}
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry then return 0 end
if tonumber(expiry) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
${EXPIRE_WITH_LAST_LEASE}
return 1`,
);

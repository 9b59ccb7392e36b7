import { defineLua } from './lua';

/**
 * One rate-limit decision (GCRA), atomically, on the Redis server's clock, so every process sharing a
 * key sees one schedule and clock skew between hosts cannot matter. It mirrors `gcraStep` in
 * lib/rate-limit/gcra.ts line for line, the credit for late callers included; all figures are whole
 * microseconds (exact in Lua's doubles). The TAT is written with `%.0f` because `tostring` keeps only 14
 * digits, and a µs timestamp has 16. The key lives until it has rested (one more millisecond covers
 * PX's whole-millisecond rounding): a missing key and a rested key mean the same.
 * `replicate_commands` lets a script write after `TIME` on Redis < 5 (later versions do it always).
 *
 * KEYS[1] bucket key · ARGV[1] emission interval µs · ARGV[2] tolerance µs (burst × emission) ·
 * ARGV[3] charge µs (cost × emission) · ARGV[4] credit µs · ARGV[5] rest µs
 * Returns `{ allowed 0|1, retryAfterUs, remaining, resetAfterUs, nowUs }`; when allowed, the stored TAT
 * is `nowUs + resetAfterUs`.
 */
export const GCRA_DECIDE = defineLua(
  'gcra-decide',
  `if redis.replicate_commands then redis.replicate_commands() end
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local charge = tonumber(ARGV[3])
local credit = tonumber(ARGV[4])
local rest = tonumber(ARGV[5])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local stored = redis.call('GET', KEYS[1])
local start = now
if stored and tonumber(stored) > now - rest then start = math.max(tonumber(stored), now - credit) end
local next_tat = start + charge
local allow_at = next_tat - tolerance
if allow_at > now then
  local remaining = math.max(0, math.floor((tolerance - (start - now)) / emission))
  return { 0, allow_at - now, remaining, math.max(0, start - now), now }
end
local ttl_ms = math.ceil((next_tat + rest - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl_ms)
return { 1, 0, math.floor((tolerance - (next_tat - now)) / emission), math.max(0, next_tat - now), now }`,
);

/**
 * One correction of an earlier charge, atomically, on the server's clock: `gcraAdjust` in
 * lib/rate-limit/gcra.ts, line for line. Never denies. A positive delta (an overdraft) moves the schedule
 * forward from where a decision would start it; a negative one (a refund) gives back at most the part of
 * the reservation still ahead of the clock (ARGV[4], the TAT its admission stored; -1 for no limit), and
 * never moves the schedule behind the clock or behind where it stood. A refund on a missing or rested key
 * writes nothing. The key's life is renewed as a decision renews it.
 *
 * KEYS[1] bucket key · ARGV[1] delta µs (signed) · ARGV[2] credit µs · ARGV[3] rest µs ·
 * ARGV[4] reserved-until µs, or -1 for none
 * Returns `{ stored 0|1, nowUs }`.
 */
export const GCRA_ADJUST = defineLua(
  'gcra-adjust',
  `if redis.replicate_commands then redis.replicate_commands() end
local delta = tonumber(ARGV[1])
local credit = tonumber(ARGV[2])
local rest = tonumber(ARGV[3])
local reserved_until = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local stored = redis.call('GET', KEYS[1])
local tat = stored and tonumber(stored)
local rested = (not tat) or tat <= now - rest
local next_tat
if delta >= 0 then
  if rested then next_tat = now + delta else next_tat = math.max(tat, now - credit) + delta end
else
  if rested then return { 0, now } end
  local refund = -delta
  if reserved_until >= 0 then refund = math.min(refund, math.max(0, reserved_until - now)) end
  next_tat = math.max(tat - refund, math.min(tat, now))
end
local ttl_ms = math.ceil((next_tat + rest - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl_ms)
return { 1, now }`,
);

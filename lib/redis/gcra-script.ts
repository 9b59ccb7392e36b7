import { defineLua } from './lua';

/**
 * One rate-limit decision (GCRA), atomically, on the Redis server's clock, so every process sharing a
 * key sees one schedule and clock skew between hosts cannot matter. It mirrors `gcraStep` in
 * lib/rate-limit/gcra.ts line for line; all figures are whole microseconds (exact in Lua's doubles).
 * The TAT is written with `%.0f` because `tostring` keeps only 14 digits, and a µs timestamp has 16. The
 * key expires when the bucket would be full again: a rested key and a missing key mean the same.
 * `replicate_commands` lets a script write after `TIME` on Redis < 5 (later versions do it always).
 *
 * KEYS[1] bucket key · ARGV[1] emission interval µs · ARGV[2] tolerance µs (burst × emission) ·
 * ARGV[3] charge µs (cost × emission)
 * Returns `{ allowed 0|1, retryAfterUs, remaining, resetAfterUs, nowUs }`.
 */
export const GCRA_DECIDE = defineLua(
  'gcra-decide',
  `if redis.replicate_commands then redis.replicate_commands() end
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local charge = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local start = tonumber(redis.call('GET', KEYS[1]) or now)
if start < now then start = now end
local next_tat = start + charge
local allow_at = next_tat - tolerance
if allow_at > now then
  local remaining = math.max(0, math.floor((tolerance - (start - now)) / emission))
  return { 0, allow_at - now, remaining, start - now, now }
end
local ttl_ms = math.max(1, math.ceil((next_tat - now) / 1000))
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl_ms)
return { 1, 0, math.floor((tolerance - (next_tat - now)) / emission), next_tat - now, now }`,
);

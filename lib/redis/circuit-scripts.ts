import { defineLua } from './lua';

/*
 * The shared circuit breaker, one script per decision so that processes never interleave inside one.
 * A circuit is a hash (KEYS[1]): `state` ('closed' | 'open' | 'half-open'; absent = closed), `openUntil`
 * (ms), `consecutive` (failures in a row) and the rolling window as 10 buckets `s:<index>` / `f:<index>`
 * (successes / failures, index = floor(now / (window / 10))). The half-open probe slot is its own key
 * (KEYS[2], named so that a Redis Cluster keeps it in KEYS[1]'s hash slot), taken with SET NX PX so that
 * exactly one caller holds it and a crashed prober frees it.
 *
 * Time: ARGV[1] is the caller's clock in ms, or -1 to use the Redis server's TIME, which every process
 * then shares whatever its own clock says. The probe slot always expires in server time (PX).
 */

/** Shared prologue: `now` from ARGV[1], or the server's clock when it is negative. */
const NOW = `local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * May a call start? Closed: yes. Open before `openUntil`: no, with the wait. Otherwise (open and cooled
 * down, or half-open) the caller may become the probe if the probe slot is free.
 * Returns {admitted 0|1, state, retryAfterMs (rejected) | 1 when admitted as the probe}.
 *
 * KEYS[1] circuit hash · KEYS[2] probe slot
 * ARGV[1] now ms or -1 · ARGV[2] probe token · ARGV[3] probe timeout ms · ARGV[4] key time to live ms
 */
export const CIRCUIT_ENTER = defineLua(
  'circuit-enter',
  `${NOW}local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'closed' then return {1, 'closed', 0} end
if state == 'open' then
  local open_until = tonumber(redis.call('HGET', KEYS[1], 'openUntil'))
  if now < open_until then return {0, 'open', open_until - now} end
end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  redis.call('HSET', KEYS[1], 'state', 'half-open')
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, 'half-open', 1}
end
return {0, 'half-open', math.max(0, redis.call('PTTL', KEYS[2]))}`,
);

/**
 * Records an admitted call's outcome; returns the state afterwards. The probe (ARGV[3] non-empty) decides
 * alone, and only while it still holds the slot: success deletes the circuit (closed, fresh window),
 * failure opens it for another `halfOpenAfter`. Outcomes of ordinary calls count only while closed (calls
 * started before the circuit opened may end after it did); a failure opens the circuit after `threshold`
 * in a row, or when the window holds at least `minimumCalls` calls and the failure share reaches
 * `failureRate` (0 turns either trigger off).
 *
 * KEYS[1] circuit hash · KEYS[2] probe slot
 * ARGV[1] now ms or -1 · ARGV[2] failed 1|0 · ARGV[3] probe token or '' · ARGV[4] threshold ·
 * ARGV[5] failure rate · ARGV[6] minimum calls · ARGV[7] window ms · ARGV[8] half-open after ms ·
 * ARGV[9] key time to live ms
 */
export const CIRCUIT_REPORT = defineLua(
  'circuit-report',
  `${NOW}local failed = ARGV[2] == '1'
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local function open()
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'state', 'open', 'openUntil', now + tonumber(ARGV[8]))
  redis.call('PEXPIRE', KEYS[1], ARGV[9])
  return 'open'
end
if ARGV[3] ~= '' then
  if state ~= 'half-open' or redis.call('GET', KEYS[2]) ~= ARGV[3] then return state end
  if failed then return open() end
  redis.call('DEL', KEYS[1], KEYS[2])
  return 'closed'
end
if state ~= 'closed' then return state end
local index = math.floor(now / math.max(1, math.ceil(tonumber(ARGV[7]) / 10)))
local consecutive = 0
if failed then
  redis.call('HINCRBY', KEYS[1], 'f:' .. index, 1)
  consecutive = redis.call('HINCRBY', KEYS[1], 'consecutive', 1)
else
  redis.call('HINCRBY', KEYS[1], 's:' .. index, 1)
  redis.call('HSET', KEYS[1], 'consecutive', 0)
end
local calls, failures = 0, 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local kind, at = string.match(fields[i], '^([sf]):(%d+)$')
  if kind then
    if tonumber(at) <= index - 10 then
      redis.call('HDEL', KEYS[1], fields[i])
    else
      calls = calls + tonumber(fields[i + 1])
      if kind == 'f' then failures = failures + tonumber(fields[i + 1]) end
    end
  end
end
local threshold, rate = tonumber(ARGV[4]), tonumber(ARGV[5])
if failed and ((threshold > 0 and consecutive >= threshold)
    or (rate > 0 and calls >= tonumber(ARGV[6]) and failures / calls >= rate)) then
  return open()
end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
return 'closed'`,
);

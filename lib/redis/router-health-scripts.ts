import { defineLua } from './lua';

/*
 * Router endpoints' shared health, one script per decision. An endpoint has four keys, named so that a
 * Redis Cluster keeps them in one hash slot:
 *   KEYS[1] state hash: `open` ('1' while set aside, until a probe succeeds), `consecutive` (failures in a
 *           row since the last success)
 *   KEYS[2] cooldown: exists exactly while the endpoint is cooling (SET PX, so the server times it)
 *   KEYS[3] probe lease: the probe's token `<instance>/<id>`, SET NX PX so that one caller holds it and
 *           an abandoned probe frees after its lease
 *   KEYS[4] failure times: the last `windowFailures` failures (ms, newest first), for the window rule
 * Every script answers the endpoint's view afterwards: {state, remaining ms, prober token or '', consecutive}.
 * Time is the server's (TIME), so no instance's clock matters.
 */

/** Shared prologue: the server's clock in ms, and the view of the endpoint. */
const PROLOGUE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function view()
  local consecutive = tonumber(redis.call('HGET', KEYS[1], 'consecutive') or '0')
  if redis.call('HGET', KEYS[1], 'open') ~= '1' then return {'healthy', 0, '', consecutive} end
  local cooling = redis.call('PTTL', KEYS[2])
  if cooling > 0 then return {'cooling', cooling, '', consecutive} end
  local holder = redis.call('GET', KEYS[3])
  if holder then return {'probing', math.max(0, redis.call('PTTL', KEYS[3])), holder, consecutive} end
  return {'probing', 0, '', consecutive}
end
`;

/**
 * Records a failure. The probe's (ARGV[1] is the lease it still holds) sets the endpoint aside again.
 * While set aside, another failure is late news from a call sent before: only a longer `Retry-After`
 * moves the end of the cooldown. Otherwise the endpoint is set aside on a `Retry-After`, after
 * `threshold` failures in a row, or when the window holds `windowFailures` failures less than `windowMs`
 * apart. Setting aside clears the counts and any lease. Returns {set aside for ms (0: not now), view}.
 *
 * ARGV[1] probe token or '' · ARGV[2] Retry-After ms or -1 · ARGV[3] threshold · ARGV[4] window failures
 * (0 = off) · ARGV[5] window ms · ARGV[6] cooldown ms · ARGV[7] probe lease ms
 */
export const HEALTH_FAILED = defineLua(
  'router-health-failed',
  `${PROLOGUE}local retry = tonumber(ARGV[2])
local window_ms = tonumber(ARGV[5])
local function set_aside(ms)
  ms = math.max(1, ms)
  redis.call('DEL', KEYS[3], KEYS[4])
  redis.call('HSET', KEYS[1], 'open', '1', 'consecutive', 0)
  redis.call('SET', KEYS[2], '1', 'PX', ms)
  -- The state outlives the cooldown, a probe's lease and a window; forgotten, the endpoint is healthy.
  redis.call('PEXPIRE', KEYS[1], ms + tonumber(ARGV[7]) + window_ms + tonumber(ARGV[6]))
  return {ms, view()}
end
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) == ARGV[1] then
  return set_aside(retry >= 0 and retry or tonumber(ARGV[6]))
end
if redis.call('HGET', KEYS[1], 'open') == '1' then
  if retry > 0 and redis.call('PTTL', KEYS[2]) < retry then redis.call('SET', KEYS[2], '1', 'PX', retry) end
  return {0, view()}
end
local consecutive = redis.call('HINCRBY', KEYS[1], 'consecutive', 1)
redis.call('PEXPIRE', KEYS[1], math.max(window_ms, tonumber(ARGV[6])))
local windowed = false
local most = tonumber(ARGV[4])
if most > 0 then
  redis.call('LPUSH', KEYS[4], now)
  redis.call('LTRIM', KEYS[4], 0, most - 1)
  redis.call('PEXPIRE', KEYS[4], window_ms)
  local oldest = tonumber(redis.call('LINDEX', KEYS[4], most - 1))
  windowed = oldest ~= nil and now - oldest < window_ms
end
if retry >= 0 or consecutive >= tonumber(ARGV[3]) or windowed then
  return set_aside(retry >= 0 and retry or tonumber(ARGV[6]))
end
return {0, view()}`,
);

/**
 * Claims the probe of a set-aside endpoint whose cooldown has ended: SET NX PX of the lease. Returns
 * {1 when claimed else 0, view}.
 *
 * ARGV[1] token · ARGV[2] lease ms
 */
export const HEALTH_CLAIM = defineLua(
  'router-health-claim',
  `${PROLOGUE}if redis.call('HGET', KEYS[1], 'open') ~= '1' or redis.call('PTTL', KEYS[2]) > 0 then return {0, view()} end
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, view()} end
return {0, view()}`,
);

/**
 * Records a success. The probe's, while it holds the lease, brings the endpoint back (every key goes).
 * Another's ends a run of failures, unless the endpoint is set aside (a call sent before the cooldown).
 * Returns {1 brought back | 2 ended a run of failures | 0 changed nothing, view}.
 *
 * ARGV[1] probe token or ''
 */
export const HEALTH_SUCCEEDED = defineLua(
  'router-health-succeeded',
  `${PROLOGUE}if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
  return {1, view()}
end
if redis.call('HGET', KEYS[1], 'open') ~= '1' and redis.call('HDEL', KEYS[1], 'consecutive') == 1 then
  return {2, view()}
end
return {0, view()}`,
);

/**
 * Gives back a probe's lease without a verdict, if it still holds it, so another caller may probe at once.
 * Returns {1 when given back else 0, view}.
 *
 * ARGV[1] probe token
 */
export const HEALTH_ABANDONED = defineLua(
  'router-health-abandoned',
  `${PROLOGUE}if redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('DEL', KEYS[3])
  return {1, view()}
end
return {0, view()}`,
);

/** Reads the view. Returns {0, view}. */
export const HEALTH_READ = defineLua('router-health-read', `${PROLOGUE}return {0, view()}`);

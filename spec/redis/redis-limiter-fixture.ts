import type { RedisClientLike } from '../../lib/redis/connection';
import type { RedisRateLimiter } from '../../lib/redis/redis-rate-limiter';
import type { LimiterFixture } from '../ports/rate-limiter-contract';

/** Moves a key's stored schedule back by ARGV[1] µs: to the GCRA script, that much time has passed for the key. */
const REWIND = `local tat = redis.call('GET', KEYS[1])
if tat then redis.call('SET', KEYS[1], string.format('%.0f', tonumber(tat) - tonumber(ARGV[1])), 'KEEPTTL') end
return 0`;

/**
 * The rate-limiter contract's fixture for a RedisRateLimiter with keys under `prefix`: time passes for a
 * key by moving its stored schedule back (`client` sends the script; on a cluster, to the key's master).
 */
export function redisLimiterFixture(
  limiter: RedisRateLimiter,
  prefix: string,
  client: RedisClientLike,
  cleanup: () => Promise<void>,
): LimiterFixture {
  // A key kept past its credit only reads as rested, as a missing one does, so KEEPTTL is safe.
  const rewoundUs = new Map<string, number>();
  let n = 0;
  return {
    limiter,
    key: (label) => `${label}-${n++}`,
    async elapse(key, ms) {
      const us = Math.round(ms * 1_000);
      if (us <= 0) return;
      rewoundUs.set(key, (rewoundUs.get(key) ?? 0) + us);
      await client.sendCommand(['EVAL', REWIND, '1', `${prefix}:${key}`, String(us)]);
    },
    timeUs: (key, at) => Math.round(at * 1_000) + (rewoundUs.get(key) ?? 0),
    // Round trips on a loaded two-core machine; emissions of 5 s and more make them noise.
    driftMs: 100,
    minEmissionMs: 5_000,
    runs: 16,
    cleanup,
  };
}

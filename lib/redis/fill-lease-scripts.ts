import { defineLua } from './lua';

/**
 * Gives a fill lease up, but only if the caller still owns it (the token matches): a holder that was
 * slower than its lease must not delete the lease a successor took. Publishes the cache key on the fill
 * channel either way, so waiting processes look for the value now instead of at their next poll.
 *
 * KEYS[1] lease key · ARGV[1] owner token · ARGV[2] channel · ARGV[3] cache key
 */
export const RELEASE_LEASE = defineLua(
  'release-lease',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`,
);

/**
 * Extends a fill lease while its owner still runs the method, so a slow model call does not let a second
 * process start the same call. Returns 1 if extended, 0 if the lease is no longer ours.
 *
 * KEYS[1] lease key · ARGV[1] owner token · ARGV[2] new time to live, ms
 */
export const RENEW_LEASE = defineLua(
  'renew-lease',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
);

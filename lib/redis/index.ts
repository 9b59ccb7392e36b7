/**
 * `cachet/redis`: every Redis backend. Stores (`RedisStore`, `TieredStore`), the shared rate limiter,
 * semaphore, circuit state and cost ledger, and Redis Cluster support. Only this entry point loads the
 * Redis client.
 * @example
 * import { RedisStore } from 'cachet/redis';
 * const cache = new Cache({ store: new RedisStore({ url: process.env.REDIS_URL }) });
 */
export { RedisStore } from './redis-store';
export type { RedisStoreOptions, RedisStoreEvents } from './redis-store';
export type { RedisClientLike } from './connection';
export type { StoreCircuitState, RedisConnectionOptions } from './redis-executor';
export { redisFailureBoundMs } from './redis-executor';
export { RedisBlobStore } from './redis-blob-store';
export type { RedisBlobStoreOptions } from './redis-blob-store';
export { RedisCircuitState } from './redis-circuit-state';
export type { RedisCircuitStateOptions, RedisCircuitStateEvents } from './redis-circuit-state';
export { RedisSemaphore } from './redis-semaphore';
export { hashSlot } from './cluster';
export { closeRedis } from './close-client';
export { TieredStore } from './tiered-store';
export type { TieredStoreOptions, TieredStoreEvents } from './tiered-store';
export type { RedisClusterLike } from './cluster';
export type { RedisSemaphoreOptions, RedisSemaphoreEvents } from './redis-semaphore';
export { RedisRateLimiter } from './redis-rate-limiter';
export type { RedisRateLimiterOptions, RedisRateLimiterEvents } from './redis-rate-limiter';
export { RedisCostLedger } from './redis-cost-ledger';
export type { RedisCostLedgerOptions } from './redis-cost-ledger';
export { RedisRouterHealth } from './redis-router-health';
export type { RedisRouterHealthOptions, RedisRouterHealthEvents } from './redis-router-health';
export { connectRedis, RedisConnectError, isRedisConnectError } from './connect-redis';
export type { ConnectRedisOptions, RedisConnection, RedisConnectFailure } from './connect-redis';

/**
 * cachet/nestjs: `CachetModule` for NestJS 11 applications, and `CachetInterceptor` with `@CacheRoute()` for
 * caching controller responses. Needs `@nestjs/common` and `@nestjs/core` (optional peer dependencies of
 * cachet, with rxjs, theirs). Loads the Redis client only when the options name a Redis URL.
 * @packageDocumentation
 */
export { CachetModule, CachetRuntime, CACHET_OPTIONS, InjectCache, openCachet } from './cachet-module';
export type { CachetModuleOptions, CachetModuleAsyncOptions, CachetStoreOption } from './cachet-module';
export { CacheRoute, CachetInterceptor, CACHE_ROUTE } from './cachet-interceptor';
export type { CacheRouteOptions, CacheRouteRequest } from './cachet-interceptor';

/**
 * cachet/nestjs: `CachetModule` for NestJS 11 applications. Needs `@nestjs/common` and `@nestjs/core`
 * (optional peer dependencies of cachet). Loads the Redis client only when the options name a Redis URL.
 * @packageDocumentation
 */
export { CachetModule, CachetRuntime, CACHET_OPTIONS, InjectCache, openCachet } from './cachet-module';
export type { CachetModuleOptions, CachetModuleAsyncOptions, CachetStoreOption } from './cachet-module';

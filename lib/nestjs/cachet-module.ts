import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Cache, type CacheOptions } from '../cache/cache';
import { getDefaultCache, setDefaultCache } from '../cache/default-cache';
import { assertLogger, getLogger, setLogger, type CachetLogger } from '../core/logger';
import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import type { CacheStore } from '../ports/cache-store';
import type { CircuitStateStore } from '../ports/circuit-state';
import type { CostLedger } from '../ports/cost-ledger';
import type { EndpointHealthStore } from '../ports/endpoint-health';
import type { RateLimiter } from '../ports/rate-limiter';
import type { Semaphore } from '../ports/semaphore';
import type { RedisStore } from '../redis/redis-store';
import type { TieredStore } from '../redis/tiered-store';
import { registerResource, type NamedResources, type ResourceKind } from '../resources/named-resources';

/** Where the default cache keeps its entries. */
export type CachetStoreOption =
  | 'memory'
  /** A `RedisStore` on this URL. */
  | { readonly redis: string }
  /** A `TieredStore`: a memory copy in front of a `RedisStore` on this URL. */
  | { readonly tiered: string }
  /** A store made by the caller (a `RedisStore` on a cluster, a `MemoryStore` with options). */
  | CacheStore;

/**
 * What `CachetModule` provides. The module owns everything given here: on application shutdown it closes
 * the cache (and so its store), every named resource and the ledger.
 */
export interface CachetModuleOptions {
  /** The default cache's store. @default 'memory' */
  readonly store?: CachetStoreOption;
  /** The default cache's other options (`prefix`, `ttl`, `namespace`, ...). */
  readonly cache?: Omit<CacheOptions, 'store' | 'ledger'>;
  /** Rate limiters by name, for `@RateLimited({ limiter: name })`. */
  readonly rateLimiters?: Readonly<Record<string, RateLimiter>>;
  /** Semaphores by name, for `@Concurrency({ semaphore: name })`. */
  readonly semaphores?: Readonly<Record<string, Semaphore>>;
  /** Circuit state stores by name, for `@CircuitBreaker({ store: name })`. */
  readonly circuitStores?: Readonly<Record<string, CircuitStateStore>>;
  /** Router health stores by name, for `new ConcurrentRouter({ health: name })` and `routerFromConfig`. */
  readonly routerHealth?: Readonly<Record<string, EndpointHealthStore>>;
  /** The cost ledger of the default cache; also registered as the cost ledger `default`. */
  readonly costLedger?: CostLedger;
  /**
   * Where cachet logs, as the global logger (`setLogger`) while the module runs: Nest's own, e.g.
   * `new Logger('cachet')`. The one set before comes back on shutdown. @default the one set before, if any
   */
  readonly logger?: CachetLogger;
}

/** The options of {@link CachetModule.forRootAsync}, as Nest's own `registerAsync` modules take them. */
export interface CachetModuleAsyncOptions {
  readonly imports?: DynamicModule['imports'];
  readonly inject?: NonNullable<Extract<Provider, { useFactory: unknown }>['inject']>;
  readonly useFactory: (...args: any[]) => CachetModuleOptions | Promise<CachetModuleOptions>;
}

/** Injection token of the options; `Cache` is the token of the default cache. */
export const CACHET_OPTIONS = Symbol('CACHET_OPTIONS');

const KNOWN = [
  'store',
  'cache',
  'rateLimiters',
  'semaphores',
  'circuitStores',
  'routerHealth',
  'costLedger',
  'logger',
] as const;

/**
 * What the module opened from its options: the default cache and the registrations. Closed on application
 * shutdown, so `app.close()` lets the process exit.
 */
export class CachetRuntime implements OnApplicationShutdown {
  readonly #unregister: (() => void)[] = [];
  readonly #owned: { close?: () => Promise<unknown> }[] = [];
  readonly #logger: CachetLogger | undefined;
  readonly #loggerBefore = getLogger();
  #closed: Promise<void> | undefined;

  constructor(
    readonly cache: Cache,
    options: CachetModuleOptions,
  ) {
    const groups: [ResourceKind, Readonly<Record<string, NamedResources[ResourceKind]>> | undefined][] = [
      ['rateLimiter', options.rateLimiters],
      ['semaphore', options.semaphores],
      ['circuitStore', options.circuitStores],
      ['routerHealth', options.routerHealth],
      ['costLedger', options.costLedger === undefined ? undefined : { default: options.costLedger }],
    ];
    for (const [kind, named] of groups) {
      for (const [name, resource] of Object.entries(named ?? {})) {
        this.#unregister.push(registerResource(kind, name, resource));
        this.#owned.push(resource as { close?: () => Promise<unknown> });
      }
    }
    setDefaultCache(cache);
    this.#logger = options.logger;
    if (options.logger !== undefined) setLogger(options.logger);
  }

  /** Unregisters the resources and the default cache, then closes everything. Idempotent. */
  close(): Promise<void> {
    return (this.#closed ??= this.#close());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    for (const unregister of this.#unregister) unregister();
    // The default cache goes back to the environment's (made only if a call needs it).
    if (getDefaultCache() === this.cache) setDefaultCache(undefined);
    if (this.#logger !== undefined && getLogger() === this.#logger) setLogger(this.#loggerBefore);
    const results = await Promise.allSettled([
      this.cache.close(),
      ...this.#owned.map(async (resource) => resource.close?.()),
    ]);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
}

function makeStore(store: CachetStoreOption | undefined): CacheStore | undefined {
  if (store === undefined || store === 'memory') return undefined;
  if (typeof store === 'object' && store !== null && 'redis' in store && typeof store.redis === 'string') {
    return new (loadRedisStore())({ url: store.redis });
  }
  if (typeof store === 'object' && store !== null && 'tiered' in store && typeof store.tiered === 'string') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- Redis loads only when configured
    const { TieredStore: Tiered } = require('../redis/tiered-store') as { TieredStore: typeof TieredStore };
    return new Tiered({ redis: new (loadRedisStore())({ url: store.tiered }) });
  }
  if (typeof store === 'object' && store !== null && typeof (store as CacheStore).get === 'function') {
    return store as CacheStore;
  }
  throw optionError('store', "'memory', { redis: url }, { tiered: url } or a CacheStore", store);
}

function loadRedisStore(): typeof RedisStore {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Redis loads only when configured
  return (require('../redis/redis-store') as { RedisStore: typeof RedisStore }).RedisStore;
}

/** Validates the options and opens what they describe. */
export function openCachet(options: CachetModuleOptions): CachetRuntime {
  assertPlainObject('options', options);
  assertKnownOptions('CachetModule', options, KNOWN);
  if (options.logger !== undefined) assertLogger('logger', options.logger);
  const store = makeStore(options.store);
  const cache = new Cache({
    ...options.cache,
    ...(store === undefined ? {} : { store }),
    ...(options.costLedger === undefined ? {} : { ledger: options.costLedger }),
  });
  return new CachetRuntime(cache, options);
}

const SHARED_PROVIDERS: Provider[] = [
  { provide: CachetRuntime, useFactory: openCachet, inject: [CACHET_OPTIONS] },
  { provide: Cache, useFactory: (runtime: CachetRuntime) => runtime.cache, inject: [CachetRuntime] },
];

/**
 * cachet in a NestJS application: the default cache (injectable as `Cache`, and used by `@Cached()` without
 * a `cache`) and the named resources that decorators refer to by name, resolved at their first call. A
 * global module: import it once, in the root module. Everything it opened is closed on application
 * shutdown (`app.close()`, or a signal with `enableShutdownHooks()`).
 *
 * @example
 * CachetModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({
 *     store: { redis: config.getOrThrow('REDIS_URL') },
 *     rateLimiters: { openai: new RedisRateLimiter({ url: config.getOrThrow('REDIS_URL') }) },
 *   }),
 * })
 */
@Global()
@Module({})
export class CachetModule {
  static forRoot(options: CachetModuleOptions = {}): DynamicModule {
    return {
      module: CachetModule,
      global: true,
      providers: [{ provide: CACHET_OPTIONS, useValue: options }, ...SHARED_PROVIDERS],
      exports: [Cache, CachetRuntime],
    };
  }

  static forRootAsync(options: CachetModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== 'function') throw optionError('useFactory', 'a function', options?.useFactory);
    return {
      module: CachetModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        { provide: CACHET_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        ...SHARED_PROVIDERS,
      ],
      exports: [Cache, CachetRuntime],
    };
  }
}

/** Parameter decorator that injects the default cache: `constructor(@InjectCache() cache: Cache)`. */
export const InjectCache = (): ParameterDecorator => Inject(Cache);

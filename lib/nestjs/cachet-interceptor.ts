import {
  Inject,
  Injectable,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { Cache } from '../cache/cache';
import type { Duration } from '../core/duration';
import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';

/** The HTTP request as the interceptor reads it (Express and Fastify both have these fields). */
export interface CacheRouteRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  readonly query?: unknown;
  readonly params?: unknown;
  readonly [field: string]: unknown;
}

/** What `@CacheRoute()` takes. */
export interface CacheRouteOptions {
  /**
   * Whose response this is: a function of the request returning the user's or tenant's id, which becomes
   * part of the key so that two users never share an entry; `false` for a response that is the same for
   * everyone. Required: forgetting it would serve one user's response to another. A function that returns
   * `undefined` or `''` (an anonymous request) makes that request bypass the cache.
   */
  readonly tenant: ((request: CacheRouteRequest) => string | undefined) | false;
  /** How long a response stays. @default the cache's `ttl` */
  readonly ttl?: Duration;
  /** Tags of the entry, for `cache.invalidateTags([...])`: a list, or a function of the request. */
  readonly tags?: readonly string[] | ((request: CacheRouteRequest) => readonly string[]);
  /**
   * What identifies a request within its route and tenant, instead of its query and path parameters (e.g.
   * to leave tracking parameters out, or to add a header that changes the response). The route, the HTTP
   * method and the tenant stay in the key.
   * @default `{ params, query }`, the query with its keys sorted
   */
  readonly key?: (request: CacheRouteRequest) => unknown;
  /** The HTTP methods cached; others pass through. @default ['GET'] */
  readonly methods?: readonly string[];
  /** The cache namespace of the route's entries. @default the cache's namespace */
  readonly namespace?: string;
}

/** Metadata key of `@CacheRoute()`. */
export const CACHE_ROUTE = Symbol('cachet:cache-route');

const KNOWN = ['tenant', 'ttl', 'tags', 'key', 'methods', 'namespace'] as const;

interface ResolvedRoute {
  readonly options: CacheRouteOptions;
  readonly methods: ReadonlySet<string>;
}

/**
 * Caches a controller handler's response body, used with {@link CachetInterceptor} (`@UseInterceptors` on
 * the controller or the handler, or registered as `APP_INTERCEPTOR`). Keyed by the route, the HTTP method,
 * the path parameters, the query (its keys sorted) and the tenant; never by the request object itself.
 *
 * @example
 * \@Get(':id')
 * \@CacheRoute({ ttl: '5m', tenant: (req) => req.user?.id, tags: (req) => [`faq:${req.params.id}`] })
 * find(@Param('id') id: string) { ... }
 */
export function CacheRoute(options: CacheRouteOptions): MethodDecorator & ClassDecorator {
  assertPlainObject('options', options);
  assertKnownOptions('CacheRoute', options, KNOWN);
  if (options.tenant !== false && typeof options.tenant !== 'function') {
    throw optionError(
      'tenant',
      'a function of the request naming its user or tenant, or false for a response that is the same for everyone',
      options.tenant,
    );
  }
  if (options.tags !== undefined && typeof options.tags !== 'function' && !Array.isArray(options.tags)) {
    throw optionError('tags', 'a list of tags or a function of the request', options.tags);
  }
  if (options.key !== undefined && typeof options.key !== 'function') {
    throw optionError('key', 'a function of the request', options.key);
  }
  const methods = options.methods ?? ['GET'];
  if (!Array.isArray(methods) || methods.some((method) => typeof method !== 'string' || !method)) {
    throw optionError('methods', 'a list of HTTP methods', options.methods);
  }
  const resolved: ResolvedRoute = { options, methods: new Set(methods.map((method) => method.toUpperCase())) };
  return SetMetadata(CACHE_ROUTE, resolved);
}

/** The one argument of a route's cached fill: the key parts, and what runs the handler (never keyed). */
interface RouteCall {
  readonly parts: {
    readonly method: string;
    readonly route: string;
    readonly tenant: string | null;
    readonly id: unknown;
  };
  readonly tags: readonly string[];
  readonly serial: number;
  run(): Promise<unknown>;
  noStore(): boolean;
  ran: boolean;
}

/** What a route's entry holds: the body, or a body its handler marked `no-store`, which is never stored. */
type RouteEntry = { readonly body: unknown } | { readonly body: unknown; readonly noStore: number };

type RouteFill = (call: RouteCall) => Promise<RouteEntry>;

/** One function for every route, so that the cache's key-collision check sees one owner. */
async function fillRoute(call: RouteCall): Promise<RouteEntry> {
  const body = await call.run();
  return call.noStore() ? { body, noStore: call.serial } : { body };
}

const wrapped = new WeakMap<Cache, Map<unknown, RouteFill>>();
let serials = 0;

/**
 * A Nest interceptor that caches the response bodies of handlers marked with {@link CacheRoute} in the
 * module's cache (`CachetModule`), with cachet's single flight: identical concurrent requests, in this
 * process or in others sharing Redis, run the handler once. Other handlers pass through. Sets
 * `X-Cache: HIT`, `MISS` or `BYPASS`. A request with `Cache-Control: no-store` bypasses the cache; a
 * response whose `Cache-Control` the handler set to `no-store` is neither stored nor shared.
 */
@Injectable()
export class CachetInterceptor implements NestInterceptor {
  constructor(
    private readonly cache: Cache,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const route = this.reflector.getAllAndOverride<ResolvedRoute | undefined>(CACHE_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (route === undefined) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<CacheRouteRequest>();
    const response = http.getResponse<ResponseLike>();
    const method = String(request.method ?? '').toUpperCase();
    if (!route.methods.has(method)) return next.handle();
    const { options } = route;
    const tenant = options.tenant === false ? null : options.tenant(request);
    if (hasNoStore(header(request.headers, 'cache-control')) || tenant === undefined || tenant === '') {
      setHeader(response, 'X-Cache', 'BYPASS');
      return next.handle();
    }
    if (tenant !== null && typeof tenant !== 'string') {
      throw optionError('tenant (returned by the tenant function)', 'a string or undefined', tenant);
    }
    const tags = typeof options.tags === 'function' ? options.tags(request) : (options.tags ?? []);
    const call: RouteCall = {
      parts: {
        method,
        route: this.#pattern(context),
        tenant,
        id:
          options.key === undefined
            ? { params: sorted(request.params), query: sorted(request.query) }
            : options.key(request),
      },
      tags,
      serial: ++serials,
      ran: false,
      run: () => {
        call.ran = true;
        return lastValueFrom(next.handle(), { defaultValue: undefined });
      },
      noStore: () => hasNoStore(readHeader(response, 'cache-control')),
    };
    return from(this.#serve(context, route, call, response));
  }

  async #serve(context: ExecutionContext, route: ResolvedRoute, call: RouteCall, response: ResponseLike) {
    const entry = await this.#fill(context, route)(call);
    if ('noStore' in entry && entry.noStore !== call.serial) {
      // Another request's handler marked its response no-store: it is not shared either.
      setHeader(response, 'X-Cache', 'MISS');
      return call.run();
    }
    setHeader(response, 'X-Cache', call.ran ? 'MISS' : 'HIT');
    return entry.body;
  }

  #fill(context: ExecutionContext, route: ResolvedRoute): RouteFill {
    const handler = context.getHandler();
    let fills = wrapped.get(this.cache);
    if (fills === undefined) wrapped.set(this.cache, (fills = new Map()));
    let fill = fills.get(handler);
    if (fill === undefined) {
      const { ttl, namespace } = route.options;
      fill = this.cache.wrap(fillRoute, {
        name: `http.${context.getClass().name}.${handler.name}`,
        key: (call: RouteCall) => call.parts,
        tags: (_entry: RouteEntry, call: RouteCall) => call.tags,
        unless: (entry: RouteEntry) => 'noStore' in entry,
        ...(ttl === undefined ? {} : { ttl }),
        ...(namespace === undefined ? {} : { namespace }),
      });
      fills.set(handler, fill);
    }
    return fill;
  }

  /** The route's path pattern (`users/:id`), from the controller's and the handler's metadata. */
  #pattern(context: ExecutionContext): string {
    const paths = (target: object) => {
      const path = this.reflector.get<string | string[] | undefined>('path', target as never) ?? '';
      return (Array.isArray(path) ? path : [path]).join('|');
    };
    return `${paths(context.getClass())}/${paths(context.getHandler())}`;
  }
}

interface ResponseLike {
  getHeader?(name: string): unknown;
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

// Parameter decorators are legacy-only, and this file compiles in both dialects: the same as
// `@Inject(Cache)` and `@Inject(Reflector)` on the constructor's parameters.
Inject(Cache)(CachetInterceptor, undefined, 0);
Inject(Reflector)(CachetInterceptor, undefined, 1);

function header(headers: CacheRouteRequest['headers'], name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function readHeader(response: ResponseLike, name: string): string | undefined {
  const value = response.getHeader?.(name);
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' ? value : undefined;
}

function setHeader(response: ResponseLike, name: string, value: string): void {
  if (typeof response.setHeader === 'function') response.setHeader(name, value);
  else response.header?.(name, value);
}

function hasNoStore(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /(^|,)\s*no-store\s*(,|$)/i.test(cacheControl);
}

/** A copy of a query or params object as plain data with its keys sorted (Express 5 gives null-prototype objects). */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value !== 'object' || value === null) return value ?? null;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) copy[key] = sorted((value as Record<string, unknown>)[key]);
  return copy;
}

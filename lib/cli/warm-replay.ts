import type { Cache } from '../cache/cache';
import { resolveCachedOptions } from '../cache/cached-options';
import { registerCachedMethod } from '../cache/method-registry';
import { chatKeyPolicy, type ChatRequest } from '../llm';
import type { WarmLogLine } from './warm-log';

/** The calls of one cached method and tenant, replayed together. */
export interface Group {
  readonly namespace: string;
  readonly method: string;
  readonly tenant: string | undefined;
  readonly requests: ChatRequest[];
}

/** A group ready to replay: the stand-in instance whose `complete` is the cached method, and what it will call. */
export interface Replay {
  readonly group: Group;
  readonly replayer: { complete(request: ChatRequest): Promise<unknown> };
  readonly cacheable: ChatRequest[];
  readonly distinct: number;
}

/** How the warmed entries are keyed and kept: as the service's `@Cached` options would. */
export interface ReplayOptions {
  readonly ttlMs: number;
  readonly normalize: boolean;
  readonly cacheNonDeterministic: boolean;
}

/**
 * The log's calls grouped by namespace, method and tenant, each group bound to `cache` and ready for
 * `warmFromLog`. The groups of one namespace and method share an owner: they are one method of the service.
 */
export function prepareReplays(
  cache: Cache,
  lines: readonly WarmLogLine[],
  send: (request: ChatRequest) => Promise<unknown>,
  options: ReplayOptions,
): Replay[] {
  const owners = new Map<string, object>();
  return groupsOf(lines).map((group) => {
    const id = `${group.namespace}:${group.method}`;
    if (!owners.has(id)) owners.set(id, {});
    return prepare(cache, group, owners.get(id)!, send, options);
  });
}

/** Lines grouped by namespace, method and tenant, in the order each group first appears. */
function groupsOf(lines: readonly WarmLogLine[]): Group[] {
  const groups = new Map<string, Group>();
  for (const line of lines) {
    const id = JSON.stringify([line.namespace, line.method, line.tenant ?? null]);
    let group = groups.get(id);
    if (group === undefined)
      groups.set(id, (group = { namespace: line.namespace, method: line.method, tenant: line.tenant, requests: [] }));
    group.requests.push(line.request);
  }
  return [...groups.values()];
}

/**
 * Binds the group's method to the cache as `@Cached({ namespace, ttl, ...chatKeyPolicy(...) })` on a
 * method of that name would be, on a stand-in instance that `warmFromLog` can find, and keeps the calls
 * the policy caches.
 */
function prepare(
  cache: Cache,
  group: Group,
  owner: object,
  send: (request: ChatRequest) => Promise<unknown>,
  { ttlMs, normalize, cacheNonDeterministic }: ReplayOptions,
): Replay {
  const tenant = group.tenant;
  const policy = chatKeyPolicy({
    tenant: tenant === undefined ? false : () => tenant,
    normalize,
    cacheNonDeterministic,
  });
  const method = cache.method(
    group.method,
    resolveCachedOptions({ namespace: group.namespace, ttl: ttlMs, ...policy }),
    owner,
  );
  const replayer = { complete: (request: ChatRequest) => method.call(send as never, replayer, [request]) };
  registerCachedMethod(replayer.complete, () => method);
  const cacheable = group.requests.filter((request) => policy.when.call(replayer, request));
  const distinct = new Set(cacheable.map((request) => method.keyFor(replayer, [request]))).size;
  return { group, replayer, cacheable, distinct };
}

import { CachetError } from '../core/errors';
import { assertKeyPart, optionError } from '../core/validate';
import type { CircuitStateStore } from '../ports/circuit-state';
import type { CostLedger } from '../ports/cost-ledger';
import type { EndpointHealthStore } from '../ports/endpoint-health';
import type { RateLimiter } from '../ports/rate-limiter';
import type { Semaphore } from '../ports/semaphore';

/**
 * The shared resources a decorator can name instead of holding: `@RateLimited({ limiter: 'openai' })`,
 * `@Concurrency({ semaphore: 'gpu' })`, `@CircuitBreaker({ store: 'shared' })`. A name is looked up when a
 * call needs the resource, never when the class is defined, so classes can be declared before the
 * configuration that makes the resource (a Redis URL from NestJS's `ConfigService`) exists.
 */
export interface NamedResources {
  rateLimiter: RateLimiter;
  semaphore: Semaphore;
  circuitStore: CircuitStateStore;
  costLedger: CostLedger;
  routerHealth: EndpointHealthStore;
}

export type ResourceKind = keyof NamedResources;

const LABELS: Record<ResourceKind, string> = {
  rateLimiter: 'rate limiter',
  semaphore: 'semaphore',
  circuitStore: 'circuit store',
  costLedger: 'cost ledger',
  routerHealth: 'router health store',
};

/** A decorator named a resource that nothing registered: thrown by the first call that needs it. */
export class UnknownResourceError extends CachetError {
  readonly code = 'ERR_CACHET_UNKNOWN_RESOURCE';

  constructor(
    /** What was looked up: `rateLimiter`, `semaphore`, `circuitStore`, `costLedger` or `routerHealth`. */
    readonly kind: ResourceKind,
    /** The name it was looked up by. */
    readonly resourceName: string,
  ) {
    super(
      `No ${LABELS[kind]} is registered under the name "${resourceName}". Register one before the first call: ` +
        `registerResource('${kind}', '${resourceName}', ...) or CachetModule.forRoot({ ... }) from cachet/nestjs.`,
    );
  }
}

export function isUnknownResourceError(error: unknown): error is UnknownResourceError {
  return error instanceof UnknownResourceError;
}

const registry = new Map<string, unknown>();
const slot = (kind: ResourceKind, name: string) => `${kind}\u0000${name}`;

/**
 * Registers `resource` under `name`: decorators that name it use it from their next call. A later
 * registration under the same name replaces it. Returns a function that unregisters it (if it is still
 * the one registered): the registrant keeps ownership and closes the resource itself.
 *
 * @example
 * const unregister = registerResource('rateLimiter', 'openai', new RedisRateLimiter({ client }));
 */
export function registerResource<K extends ResourceKind>(
  kind: K,
  name: string,
  resource: NamedResources[K],
): () => void {
  if (!(kind in LABELS)) throw optionError('kind', `one of ${Object.keys(LABELS).join(', ')}`, kind);
  assertKeyPart('name', name);
  if (typeof resource !== 'object' || resource === null) throw optionError('resource', `a ${LABELS[kind]}`, resource);
  registry.set(slot(kind, name), resource);
  return () => {
    if (registry.get(slot(kind, name)) === resource) registry.delete(slot(kind, name));
  };
}

/** The resource registered under `name`; an {@link UnknownResourceError} when there is none. */
export function resolveResource<K extends ResourceKind>(kind: K, name: string): NamedResources[K] {
  const resource = registry.get(slot(kind, name));
  if (resource === undefined) throw new UnknownResourceError(kind, name);
  return resource as NamedResources[K];
}

/** The forwarders {@link namedRateLimiter} made, by the name each forwards to. */
const rateLimiterNames = new WeakMap<RateLimiter, string>();

/** A rate limiter that forwards to the one registered under `name` at each call. */
export function namedRateLimiter(name: string): RateLimiter {
  assertKeyPart('limiter', name);
  const forwarder: RateLimiter = {
    name,
    decide: (key, rule, cost) => resolveResource('rateLimiter', name).decide(key, rule, cost),
    adjust: (key, rule, delta, reservedUntil) =>
      resolveResource('rateLimiter', name).adjust(key, rule, delta, reservedUntil),
    // The registrant owns the limiter and closes it.
    close: async () => {},
  };
  rateLimiterNames.set(forwarder, name);
  return forwarder;
}

/**
 * The limiter a call through `limiter` reaches now: for a {@link namedRateLimiter} forwarder, the one
 * registered under its name (the forwarder itself while none is); any other limiter is its own target.
 */
export function targetRateLimiter(limiter: RateLimiter): RateLimiter {
  const name = rateLimiterNames.get(limiter);
  if (name === undefined) return limiter;
  return (registry.get(slot('rateLimiter', name)) as RateLimiter | undefined) ?? limiter;
}

/** A semaphore that forwards to the one registered under `name` at each use. */
export function namedSemaphore(name: string): Semaphore {
  assertKeyPart('semaphore', name);
  const target = () => resolveResource('semaphore', name);
  return {
    get max() {
      return target().max;
    },
    get inFlight() {
      return target().inFlight;
    },
    get queued() {
      return target().queued;
    },
    usage: (key) => target().usage(key),
    acquire: (options) => target().acquire(options),
  };
}

/** A circuit state store that forwards to the one registered under `name` at each call. */
export function namedCircuitStore(name: string): CircuitStateStore {
  assertKeyPart('store', name);
  return {
    enter: (circuit, policy, now) => resolveResource('circuitStore', name).enter(circuit, policy, now),
    report: (circuit, policy, outcome, now) =>
      resolveResource('circuitStore', name).report(circuit, policy, outcome, now),
  };
}

/** A router health store that forwards to the one registered under `name` at each call. */
export function namedRouterHealth(name: string): EndpointHealthStore {
  assertKeyPart('health', name);
  const target = () => resolveResource('routerHealth', name);
  return {
    get instance() {
      return target().instance;
    },
    // Async, so that a missing store rejects (the router then decides alone) instead of throwing.
    claimProbe: async (endpoint, policy) => target().claimProbe(endpoint, policy),
    failed: async (endpoint, policy, failure) => target().failed(endpoint, policy, failure),
    succeeded: async (endpoint, policy, probe) => target().succeeded(endpoint, policy, probe),
    abandoned: async (endpoint, policy, probe) => target().abandoned(endpoint, policy, probe),
    read: async (endpoint, policy) => target().read(endpoint, policy),
    // Followed from the router's start: a store registered later is not followed (a `healthError`).
    watch: async (endpoints, policy, listener) => target().watch(endpoints, policy, listener),
  };
}

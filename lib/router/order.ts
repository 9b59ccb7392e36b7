import type { RouterStrategy } from './router-options';

/** What ordering reads of an endpoint. */
export interface OrderedEndpoint {
  readonly name: string;
  readonly model: string | undefined;
  readonly priority: number;
  readonly weight: number;
  readonly maxConcurrent: number;
  readonly index: number;
  readonly inFlight: number;
  /** Requests that chose the endpoint and wait for (or are about to get) a permit. */
  readonly queued: number;
  readonly health: { readonly latencyMs: number | undefined };
}

/**
 * The order in which a request tries the endpoints: those serving `preferredModel` (or named so) first,
 * then by `strategy`. Ties fall back to `priority`, then to declaration order.
 * - `priority`: lower `priority` first.
 * - `least-busy`: fewest requests in flight (or waiting for a permit) relative to `maxConcurrent`.
 * - `latency`: lowest moving average of recent latency; endpoints without one yet go first, to learn it.
 * - `weighted`: a random order in which each endpoint leads with probability proportional to `weight`.
 */
export function orderEndpoints<E extends OrderedEndpoint>(
  endpoints: readonly E[],
  strategy: RouterStrategy,
  preferredModel: string | undefined,
  random: () => number,
): E[] {
  const byPriority = (a: E, b: E) => a.priority - b.priority || a.index - b.index;
  let ordered: E[];
  switch (strategy) {
    case 'priority':
      ordered = [...endpoints].sort(byPriority);
      break;
    case 'least-busy':
      ordered = [...endpoints].sort((a, b) => load(a) - load(b) || byPriority(a, b));
      break;
    case 'latency':
      ordered = [...endpoints].sort(
        (a, b) => (a.health.latencyMs ?? 0) - (b.health.latencyMs ?? 0) || byPriority(a, b),
      );
      break;
    case 'weighted': {
      // Efraimidis-Spirakis: sorting by u^(1/w) descending draws a weighted order without replacement.
      const keyed = endpoints.map((e) => ({ e, key: Math.pow(random(), 1 / e.weight) }));
      ordered = keyed.sort((a, b) => b.key - a.key || byPriority(a.e, b.e)).map((k) => k.e);
      break;
    }
  }
  if (preferredModel === undefined) return ordered;
  const preferred = (e: E) => e.model === preferredModel || e.name === preferredModel;
  return [...ordered.filter(preferred), ...ordered.filter((e) => !preferred(e))];
}

function load(endpoint: OrderedEndpoint): number {
  return (endpoint.inFlight + endpoint.queued) / endpoint.maxConcurrent;
}

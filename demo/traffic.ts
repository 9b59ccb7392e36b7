import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { Cache } from '../lib';

/** How one call was answered: from the store, by waiting for an identical call's fill, or by the model. */
export type Outcome = 'hit' | 'coalesced' | 'model';

export interface CallRecord<T> {
  readonly outcome: Outcome;
  /** Time from calling the decorated method to its result, as the caller sees it. */
  readonly ms: number;
  readonly result: T;
}

export interface Waves {
  /** Users arriving together. */
  readonly size: number;
  /** Time between one wave's arrival and the next one's, in ms; earlier waves may still be waiting. */
  readonly everyMs: number;
}

/**
 * Sends `requests` in waves of simultaneous calls and records how each call was served and how long it
 * took. Each call starts in its own turn of the event loop, as separate HTTP requests would, so a hit's
 * time is its own and not that of the calls issued beside it.
 *
 * The cache's events say what happened, and AsyncLocalStorage says to which call: a `hit` or `miss` is
 * emitted inside the call that looked up, and a `fill` inside the call that ran the method. A miss
 * without a fill of its own waited for another call's fill (single flight).
 */
export async function sendInWaves<R, T>(
  cache: Cache,
  requests: readonly R[],
  waves: Waves,
  call: (request: R) => Promise<T>,
): Promise<CallRecord<T>[]> {
  const current = new AsyncLocalStorage<{ outcome?: Outcome }>();
  const mark = (outcome: Outcome) => () => {
    const state = current.getStore();
    if (state !== undefined) state.outcome = outcome;
  };
  const stop = [cache.on('hit', mark('hit')), cache.on('miss', mark('coalesced')), cache.on('fill', mark('model'))];

  const timed = (request: R): Promise<CallRecord<T>> => {
    const state: { outcome?: Outcome } = {};
    return current.run(state, async () => {
      const started = performance.now();
      const result = await call(request);
      const ms = performance.now() - started;
      if (state.outcome === undefined) throw new Error('The call emitted no cache event; is the method @Cached?');
      return { outcome: state.outcome, ms, result };
    });
  };

  try {
    const calls: Promise<CallRecord<T>>[] = [];
    const started = performance.now();
    for (let wave = 0; wave * waves.size < requests.length; wave++) {
      const due = started + wave * waves.everyMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      for (const request of requests.slice(wave * waves.size, (wave + 1) * waves.size)) {
        calls.push(new Promise((resolve) => setImmediate(() => resolve(timed(request)))));
      }
    }
    return await Promise.all(calls);
  } finally {
    for (const off of stop) off();
  }
}

/** The median (nearest rank) of `values`, or `NaN` when there are none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1] as number;
}

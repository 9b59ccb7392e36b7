import { channel } from 'node:diagnostics_channel';
import { optionError } from '../core/validate';
import { MemoryRateLimiter } from './memory-rate-limiter';
import { RateLimitError } from './rate-limit-error';
import type { ResolvedRateLimitedOptions } from './rate-limit-options';
import type { RateDecision, RateLimiter } from '../ports/rate-limiter';
import { isUnknownResourceError } from '../resources/named-resources';
import { WaitQueue } from './wait-queue';

/**
 * The diagnostics channel a {@link RateLimitWait} is published on when a call queues for a slot
 * (`mode: 'wait'`). A process-wide channel, because a decorated method's policy has no handle a caller
 * could listen on; publishing costs one check while nobody subscribes. `cachet/otel` counts the waits.
 */
export const RATE_LIMIT_WAIT_CHANNEL = 'cachet:rate-limit:wait';

/** What {@link RATE_LIMIT_WAIT_CHANNEL} carries: a call that queues for a slot of `limiter`. */
export interface RateLimitWait {
  readonly limiter: RateLimiter;
  readonly key: string;
  readonly cost: number;
}

const waits = channel(RATE_LIMIT_WAIT_CHANNEL);

/**
 * The admission step of one rate-limited function: derives the key and cost of a call, asks the limiter,
 * applies `onStoreError` when the limiter fails, and then rejects or queues the call by `mode`.
 * `rateLimited` and `@RateLimited` are thin shells around it.
 *
 * @example
 * const policy = new RateLimitPolicy(resolveRateLimitedOptions({ limit: 5, interval: '1s' }));
 * await policy.admit(thisArg, args, 'Client.chat'); // throws RateLimitError past the limit
 */
export class RateLimitPolicy {
  readonly #options: ResolvedRateLimitedOptions;
  readonly #limiter: RateLimiter;
  readonly #queues = new Map<string, WaitQueue>();
  /** Decides while the shared limiter's store is down (`onStoreError: 'local'`); made on first need. */
  #local: MemoryRateLimiter | undefined;

  constructor(options: ResolvedRateLimitedOptions) {
    this.#options = options;
    this.#limiter = options.limiter ?? new MemoryRateLimiter();
  }

  /** Resolves when the call may run; rejects with a `RateLimitError` when it may not. */
  async admit(self: unknown, args: unknown[], defaultKey: string): Promise<void> {
    const options = this.#options;
    const key = options.key === undefined ? defaultKey : deriveKey(options.key, self, args);
    const cost = options.cost === undefined ? 1 : checkCost(options.cost(...args), options.rule.burst);
    const queue = this.#queues.get(key);
    // A newcomer never overtakes a waiter: while anyone waits on the key, it joins the line.
    if (queue !== undefined) {
      this.#waiting(key, cost);
      return queue.wait(cost, options.maxWaitMs);
    }
    const decision = await this.decide(key, cost);
    if (decision.allowed) return;
    if (options.mode === 'reject') throw this.#error(key, decision.retryAfterMs, 'rejected');
    let line = this.#queues.get(key);
    if (line === undefined) {
      line = new WaitQueue({
        decide: (units) => this.decide(key, units),
        giveUp: (retryAfterMs) => this.#error(key, retryAfterMs, 'timeout'),
        onIdle: () => {
          if (this.#queues.get(key)?.length === 0) this.#queues.delete(key);
        },
      });
      this.#queues.set(key, line);
    }
    this.#waiting(key, cost);
    return line.wait(cost, options.maxWaitMs, decision.retryAfterMs);
  }

  #waiting(key: string, cost: number): void {
    if (waits.hasSubscribers) waits.publish({ limiter: this.#limiter, key, cost } satisfies RateLimitWait);
  }

  /** One decision, with the store-error policy applied. */
  async decide(key: string, cost: number): Promise<RateDecision> {
    const { rule, onStoreError } = this.#options;
    try {
      return await this.#limiter.decide(key, rule, cost);
    } catch (error) {
      // A limiter named but never registered is a configuration mistake, not a failing store.
      if (isUnknownResourceError(error)) throw error;
      if (onStoreError === 'local') return (this.#local ??= new MemoryRateLimiter()).decideNow(key, rule, cost);
      if (onStoreError === 'allow')
        return { allowed: true, retryAfterMs: 0, remaining: 0, resetAfterMs: 0, at: Date.now() };
      // No schedule to read when the store is down: one emission interval is the honest earliest retry.
      throw this.#error(key, Math.ceil(rule.emissionUs / 1_000), 'store', error);
    }
  }

  /** Keys with callers waiting now. */
  get waitingKeys(): number {
    return this.#queues.size;
  }

  #error(key: string, retryAfterMs: number, reason: RateLimitError['reason'], cause?: unknown): RateLimitError {
    const { limit, intervalMs } = this.#options.rule;
    return new RateLimitError(
      key,
      retryAfterMs,
      limit,
      intervalMs,
      reason,
      cause === undefined ? undefined : { cause },
    );
  }
}

function deriveKey(key: (this: unknown, ...args: unknown[]) => string, self: unknown, args: unknown[]): string {
  const value = key.apply(self, args);
  if (typeof value !== 'string' || value.length === 0) throw optionError('key()', 'a non-empty string', value);
  return value;
}

function checkCost(cost: unknown, burst: number): number {
  // A cost above the burst could never be admitted: failing loudly beats waiting forever.
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0 || cost > burst) {
    throw optionError('cost()', `a number from 0 to the burst (${burst})`, cost);
  }
  return cost;
}

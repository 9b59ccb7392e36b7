import { channel } from 'node:diagnostics_channel';
import { optionError } from '../core/validate';
import { MemoryRateLimiter } from './memory-rate-limiter';
import { RateLimitError } from './rate-limit-error';
import type { ResolvedRateLimitedOptions } from './rate-limit-options';
import type { RateDecision, RateLimiter } from '../ports/rate-limiter';
import { isUnknownResourceError, targetRateLimiter } from '../resources/named-resources';
import { WaitQueue } from './wait-queue';

/**
 * The diagnostics channel a {@link RateLimitWait} is published on when a call queues for a slot
 * (`mode: 'wait'`). A process-wide channel, because a decorated method's policy has no handle a caller
 * could listen on; publishing costs one check while nobody subscribes. `cachet/otel` counts the waits.
 */
export const RATE_LIMIT_WAIT_CHANNEL = 'cachet:rate-limit:wait';

/** What {@link RATE_LIMIT_WAIT_CHANNEL} carries: a call that queues for a slot of `limiter`. */
export interface RateLimitWait {
  /** The limiter that decides: for a limiter named by string, the one registered under that name at the time. */
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
  readonly #queues = new Map<string, WaitQueue<PolicyDecision>>();
  /** Decides while the shared limiter's store is down (`onStoreError: 'local'`); made on first need. */
  #local: MemoryRateLimiter | undefined;

  constructor(options: ResolvedRateLimitedOptions) {
    this.#options = options;
    this.#limiter = options.limiter ?? new MemoryRateLimiter();
  }

  /**
   * Resolves when the call may run, with what it reserved (for {@link settle}); rejects with a
   * `RateLimitError` when it may not.
   */
  async admit(self: unknown, args: unknown[], defaultKey: string): Promise<Reservation> {
    const options = this.#options;
    const key = options.key === undefined ? defaultKey : deriveKey(options.key, self, args);
    const estimate = options.cost === undefined ? 1 : checkCost(options.cost(...args), options);
    // A token estimate above the burst could never be admitted: reserve the burst, correct the rest later.
    const cost = Math.min(estimate, options.rule.burst);
    const queue = this.#queues.get(key);
    // A newcomer never overtakes a waiter: while anyone waits on the key, it joins the line.
    if (queue !== undefined) {
      this.#waiting(key, cost);
      return reservation(key, estimate, cost, await queue.wait(cost, options.maxWaitMs));
    }
    const decision = await this.decide(key, cost);
    if (decision.allowed) return reservation(key, estimate, cost, decision);
    if (options.mode === 'reject') throw this.#error(key, decision.retryAfterMs, 'rejected');
    let line = this.#queues.get(key);
    if (line === undefined) {
      line = new WaitQueue<PolicyDecision>({
        decide: (units) => this.decide(key, units),
        giveUp: (retryAfterMs) => this.#error(key, retryAfterMs, 'timeout'),
        onIdle: () => {
          if (this.#queues.get(key)?.length === 0) this.#queues.delete(key);
        },
      });
      this.#queues.set(key, line);
    }
    this.#waiting(key, cost);
    return reservation(key, estimate, cost, await line.wait(cost, options.maxWaitMs, decision.retryAfterMs));
  }

  #waiting(key: string, cost: number): void {
    if (!waits.hasSubscribers) return;
    // A limiter named by string is published as the one registered under the name, which is what
    // `cachet/otel` instruments.
    waits.publish({ limiter: targetRateLimiter(this.#limiter), key, cost } satisfies RateLimitWait);
  }

  /**
   * Corrects a reservation once its call has ended (`actualCost` only): charges the difference between
   * what the call spent and what it reserved, or refunds the whole reservation when it failed
   * (`failed: true`). Never rejects for the limit; a store failure falls back as `onStoreError` says.
   */
  async settle(reserved: Reservation, result: unknown, args: unknown[], failed: boolean): Promise<void> {
    const { actualCost } = this.#options;
    if (actualCost === undefined || reserved.via === 'none') return;
    const actual = failed ? 0 : checkActual(actualCost(result, ...args), reserved.estimate);
    const delta = actual - reserved.cost;
    if (delta === 0) return;
    const { rule, onStoreError } = this.#options;
    const { key, reservedUntil } = reserved;
    if (reserved.via === 'local') this.#localLimiter().adjustNow(key, rule, delta, reservedUntil);
    else {
      try {
        await this.#limiter.adjust(key, rule, delta, reservedUntil);
      } catch (error) {
        if (isUnknownResourceError(error)) throw error;
        // An overdraft the store could not record still limits this process while it is down.
        if (onStoreError === 'local' && delta > 0) this.#localLimiter().adjustNow(key, rule, delta);
      }
    }
    if (delta < 0) this.#queues.get(key)?.freed();
  }

  /** One decision, with the store-error policy applied; `via` says who decided. */
  async decide(key: string, cost: number): Promise<PolicyDecision> {
    const { rule, onStoreError } = this.#options;
    try {
      return { ...(await this.#limiter.decide(key, rule, cost)), via: 'store' };
    } catch (error) {
      // A limiter named but never registered is a configuration mistake, not a failing store.
      if (isUnknownResourceError(error)) throw error;
      if (onStoreError === 'local') return { ...this.#localLimiter().decideNow(key, rule, cost), via: 'local' };
      if (onStoreError === 'allow') {
        const at = Date.now();
        return { allowed: true, retryAfterMs: 0, remaining: 0, resetAfterMs: 0, at, reservedUntil: at, via: 'none' };
      }
      // No schedule to read when the store is down: one emission interval is the honest earliest retry.
      throw this.#error(key, Math.ceil(rule.emissionUs / 1_000), 'store', error);
    }
  }

  #localLimiter(): MemoryRateLimiter {
    return (this.#local ??= new MemoryRateLimiter());
  }

  /** True when calls are corrected after they answer (`actualCost`). */
  get corrects(): boolean {
    return this.#options.actualCost !== undefined;
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

function checkCost(cost: unknown, options: ResolvedRateLimitedOptions): number {
  const { burst } = options.rule;
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) {
    throw optionError('cost()', 'a finite number >= 0', cost);
  }
  // Without a correction, a cost above the burst could never be admitted: failing loudly beats waiting forever.
  if (cost > burst && options.actualCost === undefined) {
    throw optionError('cost()', `a number from 0 to the burst (${burst})`, cost);
  }
  return cost;
}

function checkActual(actual: unknown, estimate: number): number {
  if (actual === undefined) return estimate;
  if (typeof actual !== 'number' || !Number.isFinite(actual) || actual < 0) {
    throw optionError('actualCost()', 'a finite number >= 0, or undefined to keep the estimate', actual);
  }
  return actual;
}

/** A decision of the policy: `via` the limiter (`store`), the local fallback, or none (`onStoreError: 'allow'`). */
export interface PolicyDecision extends RateDecision {
  readonly via: 'store' | 'local' | 'none';
}

/** What an admitted call reserved, for {@link RateLimitPolicy.settle}. */
export interface Reservation {
  readonly key: string;
  /** What `cost` estimated. */
  readonly estimate: number;
  /** What was charged: the estimate, at most the burst. */
  readonly cost: number;
  readonly reservedUntil: number;
  readonly via: PolicyDecision['via'];
}

function reservation(key: string, estimate: number, cost: number, decision: PolicyDecision): Reservation {
  return { key, estimate, cost, reservedUntil: decision.reservedUntil, via: decision.via };
}

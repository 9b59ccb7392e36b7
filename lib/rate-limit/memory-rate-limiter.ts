import type { Clock } from '../core/clock';
import { assertKnownOptions, withDefaults } from '../core/validate';
import { adjustmentUs, costUs, gcraAdjust, gcraStep, usToMs } from './gcra';
import type { RateAdjustment, RateDecision, RateLimiter, RateRule } from '../ports/rate-limiter';

/** Options of {@link MemoryRateLimiter}. */
export interface MemoryRateLimiterOptions {
  /**
   * Time source in ms, read to the microsecond; it must never go back. Tests pass one they can move.
   * Jest's modern fake timers move the default too, from 0: a limiter should not outlive a switch
   * between real and fake timers.
   * @default performance.now (monotonic, finer than a microsecond)
   */
  readonly clock?: Clock;
}

/**
 * `Date.now()` would not do: it counts whole milliseconds, so two admissions 999.85 ms apart can read
 * 1,000 ms apart, one more unit than the bound allows; and it is the wall clock, which NTP or a VM resume
 * can step forward, refilling every bucket at once.
 */
const monotonicClock: Clock = { now: () => performance.now() };

const DEFAULTS = { clock: monotonicClock } as const satisfies Required<MemoryRateLimiterOptions>;
const KNOWN = Object.keys(DEFAULTS);

/** Below this many keys the map is never swept. */
const MIN_SWEEP_SIZE = 1_024;

/**
 * A {@link RateLimiter} in this process's memory: one number per key, no timers. Keys that have rested
 * (their schedule two emissions behind the clock, under the slowest rule seen) carry no information and
 * are swept, so the map stays as large as the set of recently active keys.
 *
 * @example
 * const limiter = new MemoryRateLimiter();
 * class Client {
 *   @RateLimited({ limit: 60, interval: '1m', limiter })
 *   async chat(prompt: string): Promise<string> { ... }
 * }
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly name = 'memory';
  readonly #tats = new Map<string, number>();
  readonly #clock: Clock;
  #sweepAt = MIN_SWEEP_SIZE;
  /** The longest rest of any rule seen: a key whose TAT is this old has rested under its own rule. */
  #restUs = 0;

  constructor(options: MemoryRateLimiterOptions = {}) {
    assertKnownOptions('MemoryRateLimiter', options, KNOWN);
    this.#clock = withDefaults(DEFAULTS, options).clock;
  }

  /** Number of keys currently held (rested keys may linger until the next sweep). */
  get size(): number {
    return this.#tats.size;
  }

  decide(key: string, rule: RateRule, cost: number): Promise<RateDecision> {
    return Promise.resolve(this.decideNow(key, rule, cost));
  }

  /** The same decision, synchronously: the memory limiter never waits on anything. */
  decideNow(key: string, rule: RateRule, cost: number): RateDecision {
    const now = this.#clock.now();
    const nowUs = Math.round(now * 1_000);
    const step = gcraStep(this.#tats.get(key), nowUs, rule, costUs(rule, cost));
    if (step.allowed) {
      this.#tats.set(key, step.tat);
      if (rule.restUs > this.#restUs) this.#restUs = rule.restUs;
      if (this.#tats.size >= this.#sweepAt) this.#sweep(nowUs);
    }
    return {
      allowed: step.allowed,
      retryAfterMs: usToMs(step.retryAfterUs),
      remaining: step.remaining,
      resetAfterMs: usToMs(step.resetAfterUs),
      at: now,
      reservedUntil: step.allowed ? step.tat / 1_000 : now,
    };
  }

  adjust(key: string, rule: RateRule, delta: number, reservedUntil?: number): Promise<RateAdjustment> {
    return Promise.resolve(this.adjustNow(key, rule, delta, reservedUntil));
  }

  /** The same correction, synchronously. */
  adjustNow(key: string, rule: RateRule, delta: number, reservedUntil?: number): RateAdjustment {
    const at = this.#clock.now();
    if (delta === 0) return { at };
    const nowUs = Math.round(at * 1_000);
    const deltaUs = adjustmentUs(rule, delta);
    const untilUs = reservedUntil === undefined ? Infinity : Math.round(reservedUntil * 1_000);
    const tat = gcraAdjust(this.#tats.get(key), nowUs, rule, deltaUs, untilUs);
    if (tat === undefined) return { at };
    this.#tats.set(key, tat);
    if (rule.restUs > this.#restUs) this.#restUs = rule.restUs;
    return { at };
  }

  /** Forgets every key. */
  clear(): void {
    this.#tats.clear();
  }

  async close(): Promise<void> {
    this.#tats.clear();
  }

  /** Drops rested keys; the next sweep waits until the map has doubled, so sweeping is O(1) amortised. */
  #sweep(nowUs: number): void {
    const restedAt = nowUs - this.#restUs;
    for (const [key, tat] of this.#tats) if (tat <= restedAt) this.#tats.delete(key);
    this.#sweepAt = Math.max(MIN_SWEEP_SIZE, this.#tats.size * 2);
  }
}

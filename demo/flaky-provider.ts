import { performance } from 'node:perf_hooks';
import { seededRandom, type Random } from './random';
import type { Completion, CompletionRequest, SimulatedProvider } from './simulated-provider';

/**
 * The simulated provider on a bad day, in process and seeded: it enforces its own quota with 429s, fails
 * now and then with a 500 or 503, and sometimes hangs. It counts everything it did, so the demo can show
 * what the client's decorators absorbed.
 */

/** An HTTP-shaped error, as provider SDKs throw them: `status`, `headers` and, for 429s, `retryAfterMs`. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';

  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string>> = {},
    /** For a 429: ms until the quota has room again (what `Retry-After` says, to the millisecond). */
    readonly retryAfterMs?: number,
  ) {
    super(`provider answered ${status}`);
  }
}

export interface FlakyProviderOptions {
  /** Requests the provider accepts in any rolling 1-second window; more get a 429. @default 5 */
  readonly quotaPerSecond?: number;
  /** Share of accepted requests that fail with a 500 or 503, in [0, 1]. @default 0.1 */
  readonly errorRate?: number;
  /** Share of accepted requests that hang for `slowMs` before answering, in [0, 1]. @default 0.05 */
  readonly slowRate?: number;
  /** How long a slow request takes, ms. @default 3000 */
  readonly slowMs?: number;
  /**
   * An outage: from `afterMs` after the provider was created, for `forMs`, every accepted request fails
   * with a 503. @default none
   */
  readonly outage?: { readonly afterMs: number; readonly forMs: number };
  /** Seed of the failure draws (made in call order). @default 11 */
  readonly seed?: number;
}

/** What the provider saw and did. */
export interface FlakyProviderCounts {
  /** Every request received, refused ones included. */
  readonly requests: number;
  readonly tooManyRequests: number;
  readonly serverErrors: number;
  /** Slow requests the caller gave up on, whose work was cancelled through its signal. */
  readonly cancelled: number;
  readonly answered: number;
}

const WINDOW_MS = 1_000;
const ERROR_LATENCY_MS = [50, 200] as const;

/** Wraps a {@link SimulatedProvider}, which keeps producing the answers and the bill. */
export class FlakyProvider {
  readonly #inner: SimulatedProvider;
  readonly #quota: number;
  readonly #errorRate: number;
  readonly #slowRate: number;
  readonly #slowMs: number;
  readonly #random: Random;
  readonly #outage: { readonly from: number; readonly until: number } | undefined;
  /** When each request arrived (performance-style ms since start), for the quota and the report. */
  readonly #arrivals: number[] = [];
  readonly #accepted: number[] = [];
  readonly #counts = { requests: 0, tooManyRequests: 0, serverErrors: 0, cancelled: 0, answered: 0 };

  constructor(inner: SimulatedProvider, options: FlakyProviderOptions = {}) {
    this.#inner = inner;
    this.#quota = options.quotaPerSecond ?? 5;
    this.#errorRate = options.errorRate ?? 0.1;
    this.#slowRate = options.slowRate ?? 0.05;
    this.#slowMs = options.slowMs ?? 3_000;
    this.#random = seededRandom(options.seed ?? 11);
    const created = performance.now();
    const { outage } = options;
    this.#outage = outage && { from: created + outage.afterMs, until: created + outage.afterMs + outage.forMs };
  }

  /** Requests it accepts per rolling second. */
  get quotaPerSecond(): number {
    return this.#quota;
  }

  get counts(): FlakyProviderCounts {
    return { ...this.#counts };
  }

  /** The most requests received in any rolling 1-second window (refused ones included). */
  get busiestSecond(): number {
    let most = 0;
    for (let first = 0, last = 0; last < this.#arrivals.length; last++) {
      while ((this.#arrivals[last] as number) - (this.#arrivals[first] as number) >= WINDOW_MS) first++;
      most = Math.max(most, last - first + 1);
    }
    return most;
  }

  /** The shortest time between two requests received, ms (Infinity before the second). */
  get closestGapMs(): number {
    let closest = Infinity;
    for (let i = 1; i < this.#arrivals.length; i++) {
      closest = Math.min(closest, (this.#arrivals[i] as number) - (this.#arrivals[i - 1] as number));
    }
    return closest;
  }

  /**
   * Like {@link SimulatedProvider.complete}, plus a `signal`: when it aborts, a hanging request stops
   * and rejects with the signal's reason, as `fetch` does.
   */
  async complete(
    request: CompletionRequest,
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<Completion> {
    const now = performance.now();
    this.#counts.requests++;
    this.#arrivals.push(now);
    while (this.#accepted.length > 0 && now - (this.#accepted[0] as number) >= WINDOW_MS) this.#accepted.shift();
    if (this.#accepted.length >= this.#quota) {
      this.#counts.tooManyRequests++;
      const retryAfterMs = Math.ceil((this.#accepted[0] as number) + WINDOW_MS - now);
      await sleep(ERROR_LATENCY_MS[0]);
      throw new ProviderError(429, { 'retry-after': String(Math.ceil(retryAfterMs / 1_000)) }, retryAfterMs);
    }
    this.#accepted.push(now);

    const draw = this.#random();
    const down = this.#outage !== undefined && now >= this.#outage.from && now < this.#outage.until;
    if (down || draw < this.#errorRate) {
      const [fastest, slowest] = ERROR_LATENCY_MS;
      await sleep(fastest + this.#random() * (slowest - fastest));
      this.#counts.serverErrors++;
      throw new ProviderError(down || draw >= this.#errorRate / 2 ? 503 : 500);
    }
    if (draw < this.#errorRate + this.#slowRate) {
      try {
        await sleep(this.#slowMs, options.signal);
      } catch (reason) {
        this.#counts.cancelled++;
        throw reason;
      }
    }
    const completion = await this.#inner.complete(request);
    this.#counts.answered++;
    return completion;
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts (clearing the timer). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

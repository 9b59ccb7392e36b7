import {
  Cached,
  Circuit,
  CircuitBreaker,
  CircuitOpenError,
  Fallback,
  RateLimited,
  RateLimitError,
  Retry,
  Timeout,
  TimeoutError,
  currentSignal,
  isCircuitOpenError,
  isRateLimitError,
  isTimeoutError,
} from '../lib';
import { ProviderError, type FlakyProvider } from './flaky-provider';
import type { Lang } from './questions';
import { seededRandom } from './random';
import type { Usage } from './simulated-provider';
import { LANGUAGE_NAMES, MODEL, SYSTEM_PROMPT } from './support-assistant';

/** An answer and where it came from: the model, or the canned fallback when the model could not answer. */
export interface ResilientAnswer {
  readonly text: string;
  readonly source: 'model' | 'fallback';
  readonly usage: Usage;
}

/** Why `@Retry` tried again, counted by its `onRetry`. */
export type RetryReason = 'server error' | 'timeout' | '429' | 'rate-limit wait' | 'circuit open' | 'other';

/**
 * The retries of every `ResilientAssistant`, by reason. Decorator options are fixed when the class is
 * defined, so `onRetry` reports to this module-level tally rather than to an instance.
 */
export const retryTally: Record<RetryReason, number> = {
  'server error': 0,
  timeout: 0,
  '429': 0,
  'rate-limit wait': 0,
  'circuit open': 0,
  other: 0,
};

function retryReason(error: unknown): RetryReason {
  if (error instanceof ProviderError)
    return error.status === 429 ? '429' : error.status >= 500 ? 'server error' : 'other';
  if (isTimeoutError(error)) return 'timeout';
  if (isRateLimitError(error)) return 'rate-limit wait';
  if (isCircuitOpenError(error)) return 'circuit open';
  return 'other';
}

/**
 * One circuit for the provider, shared by every method that calls it, so its state can be watched. Our own
 * limiter's `RateLimitError` (a waiter that gave up) says nothing about the provider's health, so it does
 * not count as a failure; 5xx, 429 and timeouts do.
 */
export const providerCircuit = new Circuit({
  name: 'flaky-provider',
  threshold: 5,
  halfOpenAfter: '2s',
  on: (error) => !isRateLimitError(error),
});

const CANNED: Record<Lang, string> = {
  en: 'Sorry, I cannot answer right now. Our help centre at help.flowboard.example has a guide for this.',
  de: 'Leider kann ich gerade nicht antworten. Im Hilfe-Center unter help.flowboard.example gibt es eine Anleitung dazu.',
  fr: "Désolé, je ne peux pas répondre pour l'instant. Le centre d'aide help.flowboard.example a un guide à ce sujet.",
};

/**
 * The support assistant of `support-assistant.ts`, hardened for a provider that throttles, fails and
 * hangs. The decorator nearest the method wraps first, so a call passes them top to bottom:
 *
 * - `@Fallback` answers with a canned text when everything below gave up. It sits above `@Cached`, so
 *   a canned answer is never stored as the model's.
 * - `@Cached` answers repeats from the store, before any token is spent; concurrent identical misses
 *   share one fill, retries included.
 * - `@Retry` tries a fill up to 4 times, with jittered backoff, waiting at least what a 429's
 *   `retryAfterMs` or a circuit's `retryAfterMs` asks.
 * - `@CircuitBreaker` stops calling a provider that failed 5 times in a row, for 2 s.
 * - `@RateLimited` admits 4 requests a second, under the provider's quota of 5, queueing the rest
 *   (first come, first served) for up to 10 s.
 * - `@Timeout('1s')` is nearest the method, so its deadline covers the provider request only, not the
 *   time queued in the limiter; each retry gets a fresh second, and a cut request counts as a failure
 *   for the circuit. The method hands `currentSignal()` to the provider, which stops the hung work.
 */
export class ResilientAssistant {
  /** Calls answered by {@link cannedAnswer}. */
  fallbacks = 0;

  constructor(private readonly provider: FlakyProvider) {}

  // Provider trouble falls back; anything else (a bug) reaches the caller.
  @Fallback({ to: 'cannedAnswer', on: [ProviderError, TimeoutError, RateLimitError, CircuitOpenError] })
  @Cached({ ttl: '10m' })
  @Retry({
    attempts: 4,
    base: '250ms',
    max: '2s',
    maxRetryAfter: '5s',
    random: seededRandom(3),
    onRetry: ({ error }) => retryTally[retryReason(error)]++,
  })
  @CircuitBreaker(providerCircuit)
  @RateLimited({ limit: 4, interval: '1s', mode: 'wait', maxWait: '10s' })
  @Timeout('1s')
  async answer(question: string, options: { lang: Lang }): Promise<ResilientAnswer> {
    const { text, usage } = await this.provider.complete(
      {
        model: MODEL,
        system: SYSTEM_PROMPT,
        prompt: `Answer in ${LANGUAGE_NAMES[options.lang]}.\n\n${question}`,
        temperature: 0,
      },
      { signal: currentSignal() },
    );
    return { text, source: 'model', usage };
  }

  /** The fallback: free and instant, in the user's language, and never cached as the model's answer. */
  async cannedAnswer(_question: string, options: { lang: Lang }): Promise<ResilientAnswer> {
    this.fallbacks++;
    return { text: CANNED[options.lang], source: 'fallback', usage: { promptTokens: 0, completionTokens: 0 } };
  }
}

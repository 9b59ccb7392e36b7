/**
 * Part 2 of the demo: the support assistant behind the recommended decorator stack, against a provider
 * that throttles (429 with Retry-After), fails (500/503) and hangs. Called by `faq.ts` after part 1.
 */
import { performance } from 'node:perf_hooks';
import { setDefaultCache } from '../lib';
import { createDemoCache } from './demo-cache';
import { FlakyProvider } from './flaky-provider';
import { FAQ, LANGS, requestStream } from './questions';
import { providerCircuit, ResilientAssistant, retryTally, type ResilientAnswer } from './resilient-assistant';
import { SimulatedProvider } from './simulated-provider';
import { count, ms, percent, renderTable } from './table';
import { median, sendInWaves } from './traffic';

const REQUESTS = 200;
// Top-heavier than part 1 (Zipf exponent 1.5), so the distinct questions, which must each reach the
// provider at 4 a second, take about ten seconds and the whole demo stays short.
const STREAM = { count: REQUESTS, exponent: 1.5, seed: 42 } as const;
const WAVES = { size: 10, everyMs: 400 } as const;
const LATENCY_MS = [250, 600] as const;
const FLAKINESS = {
  quotaPerSecond: 5,
  errorRate: 0.1,
  slowRate: 0.05,
  slowMs: 3_000,
  // A short outage in the middle of the run, so that the circuit breaker and the fallback get work too.
  outage: { afterMs: 4_000, forMs: 2_000 },
  seed: 11,
} as const;

type Result = ResilientAnswer | { readonly source: 'error'; readonly error: unknown };

/** Sends the FAQ traffic through a `ResilientAssistant` to a `FlakyProvider` and prints what happened. */
export async function runResilienceDemo(): Promise<void> {
  // A cache of its own, so part 1's answers do not hide the provider (on Redis, under a fresh prefix).
  const { cache, store, where } = createDemoCache();
  setDefaultCache(cache);
  let circuitOpens = 0;
  const stopWatching = providerCircuit.on('open', () => circuitOpens++);
  try {
    const provider = new FlakyProvider(new SimulatedProvider({ latencyMs: LATENCY_MS }), FLAKINESS);
    const assistant = new ResilientAssistant(provider);
    const requests = requestStream(STREAM);
    const quota = provider.quotaPerSecond;

    console.log(
      [
        '\n\ncachet demo, part 2: the same assistant against a flaky provider, through the recommended stack',
        "@Fallback > @Cached({ ttl: '10m' }) > @Retry({ attempts: 4 }) > @CircuitBreaker > " +
          "@RateLimited({ limit: 4, interval: '1s', mode: 'wait' }) > @Timeout('1s').",
        `Simulated, in this process and seeded: a provider that accepts ${quota} requests in any rolling second and`,
        `answers 429 with Retry-After beyond, fails ${FLAKINESS.errorRate * 100}% of requests with 500 or 503, ` +
          `hangs on ${FLAKINESS.slowRate * 100}% for ${FLAKINESS.slowMs / 1_000} s,`,
        `and is down (503s) for ${FLAKINESS.outage.forMs / 1_000} s from ${FLAKINESS.outage.afterMs / 1_000} s into the run;`,
        `and the users: ${REQUESTS} requests for ${FAQ.length} FAQ questions in ${LANGS.length} languages, ` +
          `${WAVES.size} at a time every ${WAVES.everyMs} ms.\n`,
      ].join('\n'),
    );

    const started = performance.now();
    const calls = await sendInWaves(cache, requests, WAVES, (r) =>
      assistant.answer(r.question, { lang: r.lang }).catch((error: unknown): Result => ({ source: 'error', error })),
    );
    const wallMs = performance.now() - started;

    const counts = provider.counts;
    const answered = calls.filter((c) => c.result.source !== 'error');
    const fromModel = answered.filter((c) => c.result.source === 'model');
    const hits = fromModel.filter((c) => c.outcome === 'hit');
    const shared = fromModel.filter((c) => c.outcome === 'coalesced');
    const filled = fromModel.filter((c) => c.outcome === 'model');
    const fallbacks = answered.length - fromModel.length;
    const asked = new Set(requests.map((r) => `${r.lang}:${r.question}`)).size;
    const busiest = provider.busiestSecond;
    const waitsGivenUp = retryTally['rate-limit wait'];

    const rows = [
      ['store', store, `${where}; rate limit and circuit in this process's memory`],
      [
        'calls',
        count(calls.length),
        `${Math.ceil(REQUESTS / WAVES.size)} waves of ${WAVES.size}, ${(wallMs / 1_000).toFixed(1)} s in all`,
      ],
      [
        'answered',
        count(answered.length),
        `${percent(answered.length, calls.length)}; ${count(fromModel.length)} by the model, ${count(fallbacks)} canned`,
      ],
      ['from cache', count(hits.length), `${percent(hits.length, calls.length)} of calls; no rate-limit token spent`],
      ['shared a fill', count(shared.length), 'identical concurrent misses that waited for one (retried) fill'],
      [
        'provider requests',
        count(counts.requests),
        `for ${asked} distinct (question, language) pairs; ${count(counts.answered)} answered`,
      ],
      ['429s received', count(counts.tooManyRequests), `provider quota ${quota}/s, our limiter admits 4/s`],
      ['5xx errors retried', count(retryTally['server error']), `of ${count(counts.serverErrors)} received`],
      [
        'timeouts cut',
        count(counts.cancelled),
        `hung requests cut at 1 s, cancelled via currentSignal(); ${count(retryTally.timeout)} retried`,
      ],
      ['waits given up', count(waitsGivenUp), 'calls queued in the limiter past maxWait (10 s), then retried'],
      [
        'circuit opened',
        count(circuitOpens),
        `after 5 failures in a row, for 2 s; ${count(retryTally['circuit open'])} retries waited it out`,
      ],
      ['fallback answers', count(fallbacks), 'canned answers, never cached'],
      ['busiest 1-s window', count(busiest), `provider requests in any rolling second; quota ${quota}`],
      [
        'closest requests',
        ms(provider.closestGapMs),
        'apart; paced 250 ms apart, 5 requests can fit a second by a millisecond',
      ],
      [
        'p50 latency, fills',
        ms(median(filled.map((c) => c.ms))),
        `${count(filled.length)} calls that waited in line and asked the provider`,
      ],
    ];
    console.log(renderTable(['metric', 'value', 'note'], rows, ['left', 'right', 'left']));

    const absorbed = counts.tooManyRequests + counts.serverErrors + counts.cancelled;
    const verdict = [
      answered.length === calls.length
        ? `Every question was answered (${percent(fromModel.length, calls.length)} by the model)`
        : `${count(calls.length - answered.length)} calls failed`,
      busiest <= quota
        ? `the provider never saw more than ${busiest} requests in a second against its quota of ${quota} ` +
          `(${count(counts.tooManyRequests)} 429s)`
        : `the provider saw ${busiest} requests in one second, over its quota of ${quota}`,
      `and ${count(absorbed)} provider failures (429s, 5xx, timeouts) were absorbed by ` +
        (fallbacks > 0
          ? `retries and the fallback (${count(fallbacks)} canned answer${fallbacks === 1 ? '' : 's'}).`
          : 'retries alone.'),
    ];
    console.log(`\n${verdict.join(', ')}`);
    for (const call of calls) {
      if (call.result.source === 'error') console.log(`Note: a call failed: ${String(call.result.error)}`);
    }
  } finally {
    stopWatching();
    await cache.close();
  }
}

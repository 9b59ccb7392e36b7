/**
 * A support assistant behind @Cached, answering a day's worth of FAQ traffic in a few seconds; then
 * (part 2, resilience.ts) the same assistant behind the resilience decorators, against a flaky provider;
 * then (part 3, over-http.ts) over HTTP to a local OpenAI-compatible provider, ending with the cost ledger;
 * then (part 4, router.ts) a ConcurrentRouter spreading requests over three local providers, one of which fails
 * for two seconds and one of which is rate-limited;
 * then (part 5, rag.ts) questions answered with context retrieved from the bundled bilingual FAQ (faq-corpus.ts),
 * with the search and the model call both cached, until a new document changes the index;
 * then (part 6, lifecycle.ts) the cache's lifecycle: warmed from the FAQ and from yesterday's log, with progress,
 * and agent configurations invalidated by tag when they are updated, by call, and by namespace;
 * then (part 7, semantic.ts) users typing their own words: exact caching against exact + semantic caching,
 * with near misses that must not be served another question's answer.
 * Run: `npm run demo`, or `REDIS_URL=redis://127.0.0.1:6379 npm run demo` for the Redis store.
 */
import { performance } from 'node:perf_hooks';
import { setDefaultCache } from '../lib';
import { createDemoCache } from './demo-cache';
import { FAQ, LANGS, requestStream } from './questions';
import { runLifecycleDemo } from './lifecycle';
import { runHttpDemo } from './over-http';
import { runResilienceDemo } from './resilience';
import { runRagDemo } from './rag';
import { runRouterDemo } from './router';
import { runSemanticDemo } from './semantic';
import { PRICES, priceOf, SimulatedProvider } from './simulated-provider';
import { MODEL, SupportAssistant } from './support-assistant';
import { count, ms, percent, renderTable, usd } from './table';
import { median, sendInWaves, type Outcome } from './traffic';

const REQUESTS = 600;
const WAVES = { size: 30, everyMs: 250 } as const;
const LATENCY_MS = [250, 600] as const;

async function main(): Promise<void> {
  const { cache, store, where } = createDemoCache();
  // @Cached without a `cache` option uses the default one, looked up at call time, so this may come
  // after the class is defined.
  setDefaultCache(cache);
  try {
    const provider = new SimulatedProvider({ latencyMs: LATENCY_MS });
    const assistant = new SupportAssistant(provider);
    const requests = requestStream({ count: REQUESTS });

    const price = PRICES[MODEL];
    const perMillion = (usdPer1K: number) => `$${(usdPer1K * 1_000).toFixed(2)}`;
    console.log(
      [
        "cachet demo: a support assistant whose answer() is @Cached({ ttl: '10m' }).",
        `Simulated, in this process: the model provider (${LATENCY_MS.join('-')} ms a call, seeded), its prices`,
        `(${MODEL}-like: ${perMillion(price.input)} / ${perMillion(price.output)} per 1M input / output tokens; ` +
          'illustrative),',
        `and the users: ${REQUESTS} requests for ${FAQ.length} FAQ questions in ${LANGS.length} languages, ` +
          'Zipf popularity,',
        `arriving ${WAVES.size} at a time every ${WAVES.everyMs} ms.\n`,
      ].join('\n'),
    );

    const started = performance.now();
    const calls = await sendInWaves(cache, requests, WAVES, (r) => assistant.answer(r.question, { lang: r.lang }));
    const wallMs = performance.now() - started;

    const of = (outcome: Outcome) => calls.filter((c) => c.outcome === outcome);
    const [hits, coalesced, misses] = [of('hit'), of('coalesced'), of('model')];
    const withoutCache = calls.reduce((sum, c) => sum + priceOf(c.result.model, c.result.usage), 0);
    const withCache = provider.costUsd;
    const p50 = (list: typeof calls) => ms(median(list.map((c) => c.ms)));
    const asked = new Set(requests.map((r) => `${r.lang}:${r.question}`)).size;

    const rows = [
      ['store', store, where],
      [
        'calls',
        count(calls.length),
        `${Math.ceil(REQUESTS / WAVES.size)} waves of ${WAVES.size}, ${(wallMs / 1_000).toFixed(1)} s in all`,
      ],
      ['model calls', count(provider.calls), `paid; ${asked} distinct (question, language) pairs were asked`],
      ['hit rate', percent(hits.length, calls.length), `${count(hits.length)} calls answered from the store`],
      ['coalesced calls', count(coalesced.length), 'identical concurrent misses that shared one model call'],
      ['cost without cache', usd(withoutCache), 'every call priced'],
      ['cost with cache', usd(withCache), 'only model calls priced'],
      ['saved', usd(withoutCache - withCache), percent(withoutCache - withCache, withoutCache)],
      ['p50 latency, hits', p50(hits), `${count(hits.length)} calls`],
      [
        'p50 latency, coalesced',
        p50(coalesced),
        `${count(coalesced.length)} calls that waited for another's model call`,
      ],
      ['p50 latency, misses', p50(misses), `${count(misses.length)} calls that ran the model`],
    ];
    console.log(renderTable(['metric', 'value', 'note'], rows, ['left', 'right', 'left']));

    const stats = cache.stats().total;
    console.log(
      `\n${percent(calls.length - misses.length, calls.length)} of the calls never reached the model, ` +
        `so the bill fell by ${percent(withoutCache - withCache, withoutCache)}` +
        (hits.length > 0 ? `; answers from the store came back in ${p50(hits)} instead of ${p50(misses)}.` : '.'),
    );
    if (stats.storeErrors > 0) {
      console.log(
        `Note: ${count(stats.storeErrors)} store operations failed and the cache went on without the store ` +
          '(only single flight in this process saved calls). Is REDIS_URL reachable?',
      );
    }
    if (stats.hits !== hits.length || stats.coalesced !== coalesced.length || stats.fills !== provider.calls) {
      console.log(`Note: cache.stats() disagrees with the per-call count: ${JSON.stringify(stats)}`);
    }
  } finally {
    await cache.close();
  }
  await runResilienceDemo();
  await runHttpDemo();
  await runRouterDemo();
  await runRagDemo();
  await runLifecycleDemo();
  await runSemanticDemo();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

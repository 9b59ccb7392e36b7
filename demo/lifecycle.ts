/**
 * Part 6 of the demo: the cache's lifecycle. Before traffic arrives, the support assistant's cache is
 * warmed twice: from the help centre's FAQ (answers written by the support team, stored without asking
 * the model) and from yesterday's log of questions (the most frequent ones not cached yet are asked).
 * Then an agent-configuration service shows entries leaving the cache: a tagged entry invalidated by
 * the update that changes it, one call's entry invalidated by hand, and a whole namespace cleared.
 * Called by `faq.ts` after part 5.
 */
import { performance } from 'node:perf_hooks';
import { Cache, Cached, InvalidatesCache, isStoreError, setDefaultCache } from '../lib';
import { RedisStore, TieredStore } from '../lib/redis';
import type { WarmProgress, WarmResult } from '../lib';
import { createDemoCache } from './demo-cache';
import { type FAQ, type Lang, requestStream } from './questions';
import { SimulatedProvider } from './simulated-provider';
import { MODEL, SupportAssistant, type Answer } from './support-assistant';
import { count, ms, percent, renderTable } from './table';

type Question = (typeof FAQ)[number];

/** The help centre's answers to its most popular questions, written by the support team. */
const FAQ_ANSWERS: readonly (readonly [Question, string])[] = [
  ['How do I reset my password?', 'Choose "Forgot password?" on the sign-in page; the reset link arrives by email.'],
  [
    'How do I invite teammates to my workspace?',
    'Open Settings > Members and choose Invite. The Free plan has room for 5 members.',
  ],
  [
    'How do I cancel my subscription?',
    'Under Settings > Billing, choose Cancel plan; the plan runs to the end of the paid period.',
  ],
  [
    'Can I get a refund?',
    'Yearly plans are refunded pro rata within 14 days of purchase: ask support from the chat bubble.',
  ],
  [
    'How do I change my billing email?',
    'Under Settings > Billing, edit the billing contact; the next invoice goes there.',
  ],
  ['Where can I download my invoices?', 'Every invoice is under Settings > Billing, as a PDF.'],
];

/** Yesterday's traffic, as a request log would give it: questions and their users' languages. */
const LOG_SIZE = 400;
const LOG_SEED = 2024;
const LOG_TOP = 10;
const LOG_CONCURRENCY = 4;
const LATENCY_MS = [150, 400] as const;

const AGENTS_NAMESPACE = 'agents';

/** One agent's configuration, as stored in the (simulated) configuration database. */
export interface AgentConfig {
  readonly id: string;
  readonly version: number;
  readonly model: string;
  readonly temperature: number;
  readonly tools: readonly string[];
}

export type AgentPatch = Partial<Omit<AgentConfig, 'id' | 'version'>>;

const sleep = (msToWait: number) => new Promise<void>((resolve) => setTimeout(resolve, msToWait));

/**
 * Agent configurations, read on every request of every agent and rarely changed: worth caching, as long
 * as a change is seen at once. Each cached read is tagged with its agent, and the update invalidates the
 * tag after it succeeds, on every instance sharing the store.
 */
export class Agents {
  readonly #rows = new Map<string, AgentConfig>();
  /** Reads that reached the database. */
  databaseReads = 0;

  constructor(rows: readonly AgentConfig[]) {
    for (const row of rows) this.#rows.set(row.id, row);
  }

  @Cached({
    namespace: AGENTS_NAMESPACE,
    ttl: '10m',
    tags: (_config: AgentConfig, agentId: string) => [`agent:${agentId}`],
  })
  async config(agentId: string): Promise<AgentConfig> {
    this.databaseReads++;
    await sleep(20);
    const row = this.#rows.get(agentId);
    if (row === undefined) throw new Error(`No agent ${agentId}`);
    return row;
  }

  @InvalidatesCache({ tags: (_result: AgentConfig, agentId: string) => [`agent:${agentId}`] })
  async updateConfig(agentId: string, patch: AgentPatch): Promise<AgentConfig> {
    await sleep(10);
    const row = this.#rows.get(agentId);
    if (row === undefined) throw new Error(`No agent ${agentId}`);
    const next = { ...row, ...patch, id: row.id, version: row.version + 1 };
    this.#rows.set(agentId, next);
    return next;
  }

  /** The database's current version, bypassing the cache: what a read should return. */
  currentVersion(agentId: string): number {
    return this.#rows.get(agentId)?.version ?? 0;
  }
}

/**
 * The memory store; with `REDIS_URL`, a `TieredStore` (a memory tier in front of Redis) under a fresh
 * prefix, once its invalidation channel is live.
 */
async function createLifecycleCache(): Promise<{ cache: Cache; tiered?: TieredStore; store: string; where: string }> {
  const url = process.env.REDIS_URL;
  if (!url) {
    const { cache, store, where } = createDemoCache({});
    return { cache, store, where };
  }
  const prefix = `cachet-demo-${Date.now()}`;
  const tiered = new TieredStore({ redis: new RedisStore({ url }) });
  const cache = new Cache({ store: tiered, prefix });
  // The memory tier is used only while the invalidation channel is live; wait for it, briefly.
  const deadline = Date.now() + 2_000;
  while (!tiered.coherent && Date.now() < deadline) await sleep(10);
  const tier = tiered.coherent ? 'memory tier live' : 'channel not live yet, so Redis only';
  return {
    cache,
    tiered,
    store: 'tiered (memory + redis)',
    where: `${withoutPassword(url)}, keys ${prefix}:*, ${tier}`,
  };
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/** `[######....] 6/10  filled 4, skipped 2, failed 0` */
function progressLine(p: WarmProgress): string {
  const width = 20;
  const full = p.total === 0 ? width : Math.round((width * p.done) / p.total);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${p.done}/${p.total}  filled ${p.filled}, skipped ${p.skipped}, failed ${p.failed}`;
}

/**
 * Shows warm-up progress: one line rewritten in place on a terminal; otherwise a line at each quarter,
 * so a log stays short.
 */
function progressPrinter(): { onProgress(p: WarmProgress): void; end(result: WarmResult): void } {
  const tty = process.stdout.isTTY === true;
  let printed = -1;
  return {
    onProgress(p) {
      if (tty) {
        process.stdout.write(`\r  ${progressLine(p)}`);
        return;
      }
      const quarter = p.total === 0 ? 4 : Math.floor((4 * p.done) / p.total);
      if (quarter > printed && (quarter > 0 || p.done === p.total)) {
        printed = quarter;
        console.log(`  ${progressLine(p)}`);
      }
    },
    end(result) {
      if (tty) process.stdout.write(`\r  ${progressLine(result)}\n`);
      else if (printed < 4) console.log(`  ${progressLine(result)}`);
    },
  };
}

/** What the cache did for one call: a hit (from which tier, under a TieredStore) or a miss. */
function outcomeOf(cache: Cache, tiered: TieredStore | undefined): () => () => string {
  return () => {
    const hits = cache.stats().total.hits;
    const memoryHits = tiered?.counts.memoryHits ?? 0;
    return () => {
      if (cache.stats().total.hits === hits) return 'miss';
      if (tiered === undefined) return 'hit';
      return tiered.counts.memoryHits > memoryHits ? 'hit, memory tier' : 'hit, redis';
    };
  };
}

const describeConfig = (c: AgentConfig): string =>
  `v${c.version} ${c.model} t=${c.temperature} tools=${c.tools.join('+') || '-'}`;

/** Warms the assistant from the FAQ and from yesterday's log, then invalidates agent configurations. */
export async function runLifecycleDemo(): Promise<void> {
  const { cache, tiered, store, where } = await createLifecycleCache();
  // SupportAssistant.answer() is @Cached on the default cache, and so is Agents.config().
  setDefaultCache(cache);
  const watch = outcomeOf(cache, tiered);
  try {
    const provider = new SimulatedProvider({ latencyMs: LATENCY_MS });
    const assistant = new SupportAssistant(provider);
    console.log(
      [
        '\n\ncachet demo, part 6: cache lifecycle.',
        `The support assistant of part 1 (answer() is @Cached({ ttl: '10m' }), ${LATENCY_MS.join('-')} ms a model call) is`,
        "warmed before its users arrive, from the FAQ and from yesterday's log; then an agent-configuration",
        'service shows entries leaving the cache when the data behind them changes.',
        `Store: ${store}, ${where}.`,
      ].join('\n'),
    );

    // 1. Warm-up from the FAQ: answers we already have, stored as answer() would have cached them.
    console.log(
      `\n1. cache.warm(assistant, 'answer', ...): ${FAQ_ANSWERS.length} FAQ answers written by the support team, in English.`,
    );
    const faqEntries = FAQ_ANSWERS.map(([question, text]) => ({
      args: [question, { lang: 'en' as Lang }] as [string, { lang: Lang }],
      // Not from a model: nothing was used, so nothing to price.
      value: { text, model: MODEL, usage: { promptTokens: 0, completionTokens: 0 } } satisfies Answer,
    }));
    const faqProgress = progressPrinter();
    const faqResult = await cache.warm(assistant, 'answer', faqEntries, { onProgress: faqProgress.onProgress });
    faqProgress.end(faqResult);
    console.log(`  model calls: ${provider.calls}`);

    console.log('  Users ask three of them:');
    const callsBefore = provider.calls;
    for (const [question] of [FAQ_ANSWERS[0]!, FAQ_ANSWERS[3]!, FAQ_ANSWERS[5]!]) {
      const done = watch();
      const started = performance.now();
      const answer = await assistant.answer(question, { lang: 'en' });
      console.log(
        `  - ${question.padEnd(42)} ${done().padEnd(17)} ${ms(performance.now() - started).padStart(9)}  "${answer.text}"`,
      );
    }
    console.log(`  model calls for them: ${provider.calls - callsBefore}`);

    // 2. Warm-up from yesterday's log: the most frequent calls not cached yet are asked for real.
    const log = requestStream({ count: LOG_SIZE, seed: LOG_SEED });
    const distinct = new Set(log.map((r) => `${r.lang}:${r.question}`)).size;
    console.log(
      `\n2. cache.warmFromLog(assistant, 'answer', log, { top: ${LOG_TOP}, concurrency: ${LOG_CONCURRENCY} }): yesterday's log holds ` +
        `${count(log.length)} calls,\n   ${distinct} distinct (question, language) pairs; the ${LOG_TOP} most frequent are warmed, ` +
        'those the FAQ answered are skipped.',
    );
    const modelCallsBefore = provider.calls;
    const logStarted = performance.now();
    const logProgress = progressPrinter();
    const logResult = await cache.warmFromLog(
      assistant,
      'answer',
      log.map((r) => [r.question, { lang: r.lang }] as [string, { lang: Lang }]),
      { top: LOG_TOP, concurrency: LOG_CONCURRENCY, onProgress: logProgress.onProgress },
    );
    logProgress.end(logResult);
    const modelCalls = provider.calls - modelCallsBefore;
    console.log(
      `  filled ${logResult.filled}, skipped ${logResult.skipped} (already cached), failed ${logResult.failed} in ` +
        `${ms(performance.now() - logStarted)}; model calls: ${modelCalls}` +
        (modelCalls === logResult.filled ? ' (one per entry filled)' : ` (expected ${logResult.filled}!)`),
    );
    for (const { args, error } of logResult.errors) console.log(`  failed: ${JSON.stringify(args)}: ${String(error)}`);
    const warmed = new Set([...FAQ_ANSWERS.map(([question]) => `en:${question}`), ...topPairs(log, LOG_TOP)]);
    const covered = log.filter((r) => warmed.has(`${r.lang}:${r.question}`)).length;
    console.log(
      `  Had yesterday come again, ${percent(covered, log.length)} of its calls would have found their answer cached.`,
    );

    // 3. Agent configuration: cached reads, invalidated by the update.
    const agents = new Agents([
      { id: 'a1', version: 1, model: 'gpt-4o-mini', temperature: 0.2, tools: ['search'] },
      { id: 'a2', version: 1, model: 'gpt-4o-mini', temperature: 0, tools: [] },
    ]);
    console.log(
      "\n3. Agents: config(agentId) is @Cached({ namespace: 'agents', tags: ... ['agent:<id>'] }), " +
        "updateConfig(agentId, patch)\n   is @InvalidatesCache({ tags: ... ['agent:<id>'] }). A database read takes 20 ms.",
    );
    let staleReads = 0;
    const read = async (label: string, agentId: string): Promise<AgentConfig> => {
      const done = watch();
      const readsBefore = agents.databaseReads;
      const started = performance.now();
      const config = await agents.config(agentId);
      const took = performance.now() - started;
      const current = agents.currentVersion(agentId);
      if (config.version !== current) staleReads++;
      const db = agents.databaseReads - readsBefore;
      console.log(
        `  ${label.padEnd(40)} ${describeConfig(config).padEnd(42)} ${done().padEnd(17)} ${ms(took).padStart(9)}` +
          (db > 0 ? '  database read' : '') +
          (config.version !== current ? `  STALE (database has v${current})` : ''),
      );
      return config;
    };
    await read("config('a1')", 'a1');
    await read("config('a1') again", 'a1');
    await agents.updateConfig('a1', { model: 'gpt-4o', tools: ['search', 'calendar'] });
    console.log("  updateConfig('a1', { model: 'gpt-4o', tools: [...] }): v2 saved, tag agent:a1 invalidated");
    await read("config('a1') after the update", 'a1');
    await read("config('a1') again", 'a1');
    await read("config('a2')", 'a2');
    await read("config('a2') again", 'a2');
    const removedOne = await cache.invalidate(agents, 'config', 'a2');
    console.log(
      `  cache.invalidate(agents, 'config', 'a2'): ${removedOne ? 'removed its entry' : 'nothing to remove'}`,
    );
    await read("config('a2') after invalidate", 'a2');
    const removed = await cache.clear({ namespace: AGENTS_NAMESPACE });
    console.log(
      `  cache.clear({ namespace: '${AGENTS_NAMESPACE}' }): ${removed} entries removed; the assistant's answers stay`,
    );
    await read("config('a1') after clear", 'a1');
    const done = watch();
    const faqCallsBefore = provider.calls;
    await assistant.answer(FAQ_ANSWERS[0]![0], { lang: 'en' });
    console.log(
      `  ${`answer('${FAQ_ANSWERS[0]![0]}')`.padEnd(40)} ${'(another namespace)'.padEnd(42)} ${done().padEnd(17)} model calls: ${provider.calls - faqCallsBefore}`,
    );
    console.log(
      `  Reads that returned an older config than the database held: ${staleReads}. ` +
        `Database reads: ${agents.databaseReads} for 8 config() calls.`,
    );

    // 4. What the cache counted over the whole part.
    const total = cache.stats().total;
    const rows = [
      ['hits', count(total.hits), 'calls answered from the store: FAQ answers and configs'],
      ['misses', count(total.misses), "calls that ran the method: warmFromLog's fills and config reads"],
      ['fills', count(total.fills), `method runs: ${modelCalls} model calls + ${agents.databaseReads} database reads`],
      ['coalesced', count(total.coalesced), "misses that shared another call's fill"],
      ['hit rate', percent(total.hits, total.hits + total.misses), 'hits over lookups; warm() writes are not lookups'],
      ['store errors', count(total.storeErrors), 'store operations that failed'],
    ];
    if (tiered !== undefined) {
      rows.push([
        'memory-tier hits',
        count(tiered.counts.memoryHits),
        "store reads answered without a Redis round trip (warm-ups' checks included)",
      ]);
      rows.push([
        'redis hits',
        count(tiered.counts.redisHits),
        'store reads answered by Redis (then kept in the memory tier)',
      ]);
    }
    console.log(
      '\n4. cache.stats().total:\n' + renderTable(['counter', 'value', 'note'], rows, ['left', 'right', 'left']),
    );
    if (total.storeErrors > 0) {
      console.log(
        `Note: ${count(total.storeErrors)} store operations failed and the cache went on without the store. Is REDIS_URL reachable?`,
      );
    }
  } catch (error) {
    // Warming and invalidating need the store; decorated calls alone would go on without it.
    if (!isStoreError(error)) throw error;
    console.log(`\nPart 6 stopped: the store failed (${error.message}). Is REDIS_URL reachable?`);
  } finally {
    await cache.close();
  }
}

/** The `top` most frequent `lang:question` pairs of a log, ties in order of first appearance (as warmFromLog). */
function topPairs(log: readonly { readonly question: string; readonly lang: Lang }[], top: number): string[] {
  const counts = new Map<string, number>();
  for (const r of log) counts.set(`${r.lang}:${r.question}`, (counts.get(`${r.lang}:${r.question}`) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([pair]) => pair);
}

/**
 * Part 3 of the demo: the assistant talks HTTP to an OpenAI-compatible provider (cachet's LocalProvider
 * on 127.0.0.1) through a pooled ChatClient, for two tenants, whole answers and streamed ones, and the
 * cache's cost ledger reports what was spent and saved. Called by `faq.ts` after part 2.
 */
import { performance } from 'node:perf_hooks';
import { ChatClient } from '../lib/llm';
import { setDefaultCache, formatLedgerReport, MemoryCostLedger, PriceTable, type CostLedger } from '../lib';
import { RedisCostLedger } from '../lib/redis';
import { LocalProvider } from '../lib/testing';
import { CHAT_MODEL, ChatAssistant, supportRequest } from './chat-assistant';
import { createDemoCache } from './demo-cache';
import { requestStream } from './questions';
import { seededRandom } from './random';
import { PRICES } from './simulated-provider';
import { count, ms, percent, renderTable } from './table';
import { median, sendInWaves } from './traffic';

const REQUESTS = 300;
const WAVES = { size: 30, everyMs: 200 } as const;
const CONNECTIONS = 16;
const TENANTS = ['acme', 'globex'] as const;

interface Served {
  readonly streamed: boolean;
  /** Time to the first chunk of a streamed answer. */
  readonly firstChunkMs: number;
}

/** Sends FAQ traffic for two tenants over HTTP and prints the provider's side and the ledger's report. */
export async function runHttpDemo(): Promise<void> {
  const provider = new LocalProvider({ latency: ['150ms', '400ms'], chunkDelay: '5ms', random: seededRandom(5) });
  const baseURL = await provider.start();
  const client = new ChatClient({ baseURL, apiKey: 'demo-key', connections: CONNECTIONS });
  const prices = new PriceTable({
    [CHAT_MODEL]: { inputPer1K: PRICES[CHAT_MODEL].input, outputPer1K: PRICES[CHAT_MODEL].output },
  });
  // In Redis when REDIS_URL is set (every instance adds to the same totals; a fresh key per run).
  const ledger: CostLedger = process.env.REDIS_URL
    ? new RedisCostLedger({ url: process.env.REDIS_URL, prices, key: `cachet-demo-${Date.now()}:ledger` })
    : new MemoryCostLedger({ prices });
  // The same store choice as parts 1 and 2, with the ledger attached: methods that give a `usage`
  // function (chatKeyPolicy does) record each fill as spent and each hit as saved.
  const { cache, store, where } = createDemoCache(process.env, { ledger, namespace: 'support' });
  setDefaultCache(cache);
  try {
    const assistants = new Map(TENANTS.map((tenant) => [tenant, new ChatAssistant(client, tenant)]));
    // Every third request streams; tenants alternate, so each tenant pays for its own first answers.
    const requests = requestStream({ count: REQUESTS, exponent: 1.2, seed: 3 }).map((r, i) => ({
      ...r,
      tenant: TENANTS[i % TENANTS.length]!,
      streamed: i % 3 === 0,
    }));

    console.log(
      [
        '\n\ncachet demo, part 3: the assistant over HTTP, through a pooled ChatClient, for two tenants.',
        `A LocalProvider on ${baseURL} (OpenAI-compatible, 150-400 ms to the first byte, 5 ms between streamed chunks);`,
        `a ChatClient with at most ${CONNECTIONS} keep-alive connections; @Cached({ ...chatKeyPolicy({ normalize, tenant }) })`,
        `on complete() and, with stream: true, on stream(); ${REQUESTS} requests, a third of them streamed, ` +
          `${WAVES.size} every ${WAVES.everyMs} ms.\n`,
      ].join('\n'),
    );

    const started = performance.now();
    const calls = await sendInWaves(cache, requests, WAVES, async (r): Promise<Served> => {
      const assistant = assistants.get(r.tenant)!;
      const request = supportRequest(r.question, r.lang, r.streamed);
      if (!r.streamed) {
        await assistant.complete(request);
        return { streamed: false, firstChunkMs: NaN };
      }
      const t0 = performance.now();
      let firstChunkMs = NaN;
      for await (const _chunk of assistant.stream(request))
        if (Number.isNaN(firstChunkMs)) firstChunkMs = performance.now() - t0;
      return { streamed: true, firstChunkMs };
    });
    const wallMs = performance.now() - started;

    const streamedCalls = calls.filter((c) => c.result.streamed);
    const firstChunk = (outcome: string) =>
      ms(median(streamedCalls.filter((c) => c.outcome === outcome).map((c) => c.result.firstChunkMs)));
    const rows = [
      ['store', store, where],
      [
        'calls',
        count(calls.length),
        `${count(streamedCalls.length)} streamed, ${(wallMs / 1_000).toFixed(1)} s in all`,
      ],
      [
        'provider requests',
        count(provider.requests),
        `over HTTP; ${percent(calls.length - provider.requests, calls.length)} of calls never left the process`,
      ],
      ['most in flight', count(provider.maxInFlight), `at the provider; the pool allows ${CONNECTIONS}`],
      ['first chunk, live', firstChunk('model'), 'median, streams that called the provider'],
      ['first chunk, shared', firstChunk('coalesced'), 'median, identical streams that joined a live one'],
      ['first chunk, replayed', firstChunk('hit'), 'median, streams replayed from the cache'],
    ];
    console.log(renderTable(['metric', 'value', 'note'], rows, ['left', 'right', 'left']));

    await ledger.flush();
    console.log(
      `\nThe cache's cost ledger (${ledger instanceof RedisCostLedger ? 'in Redis, shared by every instance' : 'in memory'}):\n`,
    );
    console.log(formatLedgerReport(await ledger.report()));
  } finally {
    await Promise.all([cache.close(), ledger.close(), client.close()]);
    await provider.close();
  }
}

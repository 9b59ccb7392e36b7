import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Cache, Circuit, MemoryCostLedger, PriceTable } from '../../lib';
import { ChatClient, chatKeyPolicy, type ChatCompletion, type ChatRequest } from '../../lib/llm';
import { instrument, instrumentCache, instrumentChatClient, instrumentStore, METRICS } from '../../lib/otel';
import { RedisRateLimiter, RedisStore } from '../../lib/redis';
import { toRateRule } from '../../lib/rate-limit/gcra';
import { ConcurrentRouter } from '../../lib/router';
import { LocalProvider } from '../../lib/testing';
import { cleanUpKeys, testRedisUrl, uniquePrefix } from '../support/redis';
import { countOf, Telemetry, valueOf } from './telemetry';

// A real run: a Cache over a RedisStore on the test redis-server, a ChatClient and a ConcurrentRouter
// over LocalProviders on 127.0.0.1, a RedisRateLimiter, a Circuit and a cost ledger, instrumented into the
// OpenTelemetry SDK's in-memory reader and span exporter.

const MODEL = 'gpt-4o-mini';
const request = (question: string): ChatRequest => ({
  model: MODEL,
  messages: [{ role: 'user', content: question }],
  temperature: 0,
});

describe('cachet/otel', () => {
  const prefix = uniquePrefix('otel');
  let telemetry: Telemetry;
  let provider: LocalProvider;
  let client: ChatClient;

  beforeEach(async () => {
    telemetry = new Telemetry();
    provider = new LocalProvider();
    client = new ChatClient({ baseURL: await provider.start(), apiKey: 'k' });
  });

  afterEach(async () => {
    await client.close();
    await provider.close();
    await telemetry.close();
  });

  afterAll(() => cleanUpKeys(prefix));

  describe('a cached chat call over Redis', () => {
    let store: RedisStore;
    let cache: Cache;
    let ledger: MemoryCostLedger;
    let stop: () => void;
    let ask: (request: ChatRequest) => Promise<ChatCompletion>;
    let provided: ChatCompletion[];

    beforeEach(() => {
      store = new RedisStore({ url: testRedisUrl() });
      ledger = new MemoryCostLedger({ prices: new PriceTable({ [MODEL]: { inputPer1K: 0.15, outputPer1K: 0.6 } }) });
      cache = new Cache({ store, prefix: uniquePrefix(prefix), namespace: 'faq', ledger });
      provided = [];
      ask = cache.wrap(
        async (req: ChatRequest) => {
          const completion = await client.complete(req);
          provided.push(completion);
          return completion;
        },
        { name: 'Assistant.ask', ttl: '10m', ...chatKeyPolicy({ tenant: false }) },
      );
      const { meterProvider, tracerProvider } = telemetry;
      stop = instrument({
        caches: [cache],
        stores: [store],
        chatClients: [client],
        ledgers: [ledger],
        meterProvider,
        tracerProvider,
      });
    });

    afterEach(async () => {
      stop();
      await cache.close();
    });

    /** One miss, one hit, and three identical concurrent calls (one fill, two coalesced), under a `request` span. */
    async function run(): Promise<void> {
      const tracer = telemetry.tracerProvider.getTracer('test');
      await tracer.startActiveSpan('request', async (span) => {
        await ask(request('What is the refund policy?'));
        await ask(request('What is the refund policy?'));
        await Promise.all([1, 2, 3].map(() => ask(request('How do I reset my password?'))));
        span.end();
      });
    }

    it('counts lookups by result, fills, coalesced calls and fill durations per namespace and method', async () => {
      await run();
      const metrics = await telemetry.collect();
      const method = { 'cachet.namespace': 'faq', 'cachet.method': 'Assistant.ask' };
      expect(valueOf(metrics, METRICS.cacheLookups, { ...method, 'cachet.result': 'hit' })).toBe(1);
      expect(valueOf(metrics, METRICS.cacheLookups, { ...method, 'cachet.result': 'miss' })).toBe(4);
      expect(valueOf(metrics, METRICS.cacheLookups, { ...method, 'cachet.result': 'semantic_hit' })).toBe(0);
      expect(valueOf(metrics, METRICS.cacheFills, method)).toBe(2);
      expect(valueOf(metrics, METRICS.cacheCoalesced, method)).toBe(2);
      expect(valueOf(metrics, METRICS.cacheStale, method)).toBe(0);
      expect(valueOf(metrics, METRICS.cacheErrors, { ...method, 'error.type': 'store' })).toBe(0);
      expect(valueOf(metrics, METRICS.cacheErrors, { ...method, 'error.type': 'decode' })).toBe(0);
      expect(countOf(metrics, METRICS.cacheFillDuration, { ...method, 'cachet.stored': true })).toBe(2);
      expect(metrics.get(METRICS.cacheFillDuration)?.descriptor.unit).toBe('s');
      // The same figures as the cache's own stats.
      const stats = cache.stats().methods['faq:Assistant.ask'];
      expect(stats).toMatchObject({ hits: 1, misses: 4, fills: 2, coalesced: 2 });
    });

    it('times the RedisStore operations by operation', async () => {
      await run();
      const metrics = await telemetry.collect();
      const redis = { 'cachet.store': 'redis' };
      // Five lookups, and the two fills' re-reads under their lease: at least one get per call.
      expect(
        countOf(metrics, METRICS.storeOperationDuration, { ...redis, 'cachet.operation': 'get' }),
      ).toBeGreaterThanOrEqual(5);
      // A fill stores through `setIfCurrent` (the write that checks no invalidation raced it).
      expect(countOf(metrics, METRICS.storeOperationDuration, { ...redis, 'cachet.operation': 'setIfCurrent' })).toBe(
        2,
      );
      expect(countOf(metrics, METRICS.storeOperationDuration, { ...redis, 'cachet.operation': 'set' })).toBe(0);
      expect(countOf(metrics, METRICS.storeOperationDuration, { 'error.type': 'ERR_CACHET_STORE' })).toBe(0);
    });

    it('reports the tokens and dollars the ledger recorded as spent and saved', async () => {
      await run();
      const metrics = await telemetry.collect();
      const row = { 'cachet.namespace': 'faq', 'gen_ai.request.model': MODEL };
      const [first, second] = provided.map((c) => c.usage!);
      const spentInput = first!.prompt_tokens + second!.prompt_tokens;
      const spentOutput = first!.completion_tokens + second!.completion_tokens;
      // Saved: the hit on the first question, and the two callers that shared the second's fill.
      const savedInput = first!.prompt_tokens + 2 * second!.prompt_tokens;
      expect(valueOf(metrics, METRICS.ledgerCalls, { ...row, 'cachet.ledger.kind': 'spent' })).toBe(2);
      expect(valueOf(metrics, METRICS.ledgerCalls, { ...row, 'cachet.ledger.kind': 'saved' })).toBe(3);
      const tokens = (kind: string, type: string) =>
        valueOf(metrics, METRICS.ledgerTokens, { ...row, 'cachet.ledger.kind': kind, 'gen_ai.token.type': type });
      expect(tokens('spent', 'input')).toBe(spentInput);
      expect(tokens('spent', 'output')).toBe(spentOutput);
      expect(tokens('saved', 'input')).toBe(savedInput);
      const dollars = (spentInput * 0.15 + spentOutput * 0.6) / 1_000;
      expect(valueOf(metrics, METRICS.ledgerCost, { ...row, 'cachet.ledger.kind': 'spent' })).toBeCloseTo(dollars, 9);
      expect((await ledger.report()).total.costSpent).toBeCloseTo(dollars, 9);
    });

    it('opens a cachet.fill span per fill under the caller, and a GenAI chat span under each fill', async () => {
      await run();
      const spans = telemetry.finished();
      const [root] = spans.filter((s) => s.name === 'request');
      const fills = spans.filter((s) => s.name === 'cachet.fill');
      const chats = spans.filter((s) => s.name === `chat ${MODEL}`);
      expect(fills).toHaveLength(2);
      expect(chats).toHaveLength(2);
      for (const fill of fills) {
        expect(parentOf(fill)).toBe(root!.spanContext().spanId);
        expect(fill.spanContext().traceId).toBe(root!.spanContext().traceId);
        expect(fill.attributes).toMatchObject({ 'cachet.namespace': 'faq', 'cachet.method': 'Assistant.ask' });
      }
      expect(chats.map(parentOf).sort()).toEqual(fills.map((f) => f.spanContext().spanId).sort());
      chats.forEach((chat) => {
        const completion = provided.find((c) => c.id === chat.attributes['gen_ai.response.id'])!;
        expect(chat.kind).toBe(SpanKind.CLIENT);
        expect(chat.attributes).toMatchObject({
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.system': 'openai',
          'gen_ai.request.model': MODEL,
          'gen_ai.request.temperature': 0,
          'gen_ai.response.model': completion.model,
          'gen_ai.usage.input_tokens': completion.usage!.prompt_tokens,
          'gen_ai.usage.output_tokens': completion.usage!.completion_tokens,
          'gen_ai.response.finish_reasons': ['stop'],
        });
        expect(chat.status.code).toBe(SpanStatusCode.UNSET);
      });
    });

    it('records the GenAI client metrics: token usage by type and operation duration', async () => {
      await run();
      const metrics = await telemetry.collect();
      const call = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': MODEL };
      expect(countOf(metrics, METRICS.genAiTokenUsage, { ...call, 'gen_ai.token.type': 'input' })).toBe(2);
      expect(countOf(metrics, METRICS.genAiTokenUsage, { ...call, 'gen_ai.token.type': 'output' })).toBe(2);
      expect(countOf(metrics, METRICS.genAiOperationDuration, call)).toBe(2);
    });

    it('stops reporting and restores the store and the client once stopped', async () => {
      stop();
      expect(Object.prototype.hasOwnProperty.call(store, 'get')).toBe(false);
      expect(Object.prototype.hasOwnProperty.call(client, 'complete')).toBe(false);
      await run();
      expect(telemetry.finished().map((s) => s.name)).toEqual(['request']);
      const metrics = await telemetry.collect();
      expect(metrics.has(METRICS.cacheLookups)).toBe(false);
      expect(metrics.has(METRICS.storeOperationDuration)).toBe(false);
    });
  });

  it('marks a failed model call and its fill span with the error, and the fill span ends', async () => {
    const cache = new Cache({ namespace: 'faq' });
    const ask = cache.wrap((req: ChatRequest) => client.complete(req), { name: 'ask' });
    const { meterProvider, tracerProvider } = telemetry;
    const stop = instrument({ caches: [cache], chatClients: [client], meterProvider, tracerProvider });
    provider.failNext(1, 503);
    await expect(ask(request('Down?'))).rejects.toMatchObject({ status: 503 });
    const [chat] = telemetry.finished().filter((s) => s.name === `chat ${MODEL}`);
    const [fill] = telemetry.finished().filter((s) => s.name === 'cachet.fill');
    expect(chat!.status.code).toBe(SpanStatusCode.ERROR);
    expect(chat!.attributes['error.type']).toBe('503');
    expect(parentOf(chat!)).toBe(fill!.spanContext().spanId);
    expect(fill!.status.code).toBe(SpanStatusCode.ERROR);
    stop();
  });

  it('traces a stream to its last chunk, with the usage of the final chunk', async () => {
    const { meterProvider, tracerProvider } = telemetry;
    const stop = instrumentChatClient(client, { providerName: 'groq', meterProvider, tracerProvider });
    const chunks = [];
    for await (const chunk of client.stream({ ...request('Stream it'), stream_options: { include_usage: true } }))
      chunks.push(chunk);
    const usage = chunks.at(-1)!.usage!;
    const [chat] = telemetry.finished();
    expect(chat!.name).toBe(`chat ${MODEL}`);
    expect(chat!.attributes).toMatchObject({
      'gen_ai.provider.name': 'groq',
      'gen_ai.usage.input_tokens': usage.prompt_tokens,
      'gen_ai.usage.output_tokens': usage.completion_tokens,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    stop();
  });

  it('marks a stream that fails mid-way with the error the provider sent, and ends its span', async () => {
    const { meterProvider, tracerProvider } = telemetry;
    const stop = instrumentChatClient(client, { meterProvider, tracerProvider });
    provider.configure({ streamError: { after: 1 } });
    const chunks = [];
    await expect(
      (async () => {
        for await (const chunk of client.stream(request('Overloaded?'))) chunks.push(chunk);
      })(),
    ).rejects.toMatchObject({ inStream: true });
    expect(chunks.length).toBeGreaterThan(0);
    const [chat] = telemetry.finished();
    expect(chat!.status.code).toBe(SpanStatusCode.ERROR);
    // `overloaded_error` is the status a provider gives it over HTTP: 529.
    expect(chat!.attributes['error.type']).toBe('529');
    const metrics = await telemetry.collect();
    expect(countOf(metrics, METRICS.genAiOperationDuration, { 'error.type': chat!.attributes['error.type'] })).toBe(1);
    stop();
  });

  it('counts router attempts, fallbacks and cooldowns per endpoint, with chat spans under the route', async () => {
    const backup = new LocalProvider();
    const backupClient = new ChatClient({ baseURL: await backup.start(), apiKey: 'k' });
    try {
      const router = new ConcurrentRouter({
        failureThreshold: 1,
        endpoints: [
          { name: 'primary', client, maxConcurrent: 2, priority: 0 },
          { name: 'backup', client: backupClient, model: 'gpt-4o', maxConcurrent: 2, priority: 1 },
        ],
      });
      const { meterProvider, tracerProvider } = telemetry;
      const stop = instrument({
        routers: [router],
        chatClients: [client, backupClient],
        meterProvider,
        tracerProvider,
      });
      provider.failNext(1, 500);
      const tracer = tracerProvider.getTracer('test');
      const result = await tracer.startActiveSpan('route', async (span) => {
        const answer = await router.route(request('Which endpoint?'));
        span.end();
        return answer;
      });
      expect(result.endpoint).toBe('backup');
      const metrics = await telemetry.collect();
      expect(
        valueOf(metrics, METRICS.routerAttempts, {
          'cachet.endpoint': 'primary',
          'gen_ai.request.model': MODEL,
          'cachet.outcome': 'failed',
        }),
      ).toBe(1);
      expect(
        valueOf(metrics, METRICS.routerAttempts, {
          'cachet.endpoint': 'backup',
          'gen_ai.request.model': 'gpt-4o',
          'cachet.outcome': 'ok',
        }),
      ).toBe(1);
      expect(countOf(metrics, METRICS.routerAttemptDuration, { 'cachet.endpoint': 'backup' })).toBe(1);
      expect(
        valueOf(metrics, METRICS.routerFallbacks, { 'cachet.endpoint': 'primary', 'cachet.verdict': 'next' }),
      ).toBe(1);
      expect(valueOf(metrics, METRICS.routerCooldowns, { 'cachet.endpoint': 'primary' })).toBe(1);
      expect(valueOf(metrics, METRICS.routerInFlight, { 'cachet.endpoint': 'backup' })).toBe(0);
      const spans = telemetry.finished();
      const route = spans.find((s) => s.name === 'route')!;
      const chats = spans.filter((s) => s.name.startsWith('chat '));
      expect(chats.map((s) => [s.name, s.status.code, parentOf(s)])).toEqual([
        [`chat ${MODEL}`, SpanStatusCode.ERROR, route.spanContext().spanId],
        ['chat gpt-4o', SpanStatusCode.UNSET, route.spanContext().spanId],
      ]);
      stop();
    } finally {
      await backupClient.close();
      await backup.close();
    }
  });

  it('counts rate limit decisions of a RedisRateLimiter and a circuit’s state changes', async () => {
    const limiter = new RedisRateLimiter({ url: testRedisUrl(), prefix: uniquePrefix(prefix) });
    const circuit = new Circuit({ name: 'openai', threshold: 1, halfOpenAfter: '1h' });
    const { meterProvider } = telemetry;
    const stop = instrument({ limiters: [limiter], circuits: [circuit], meterProvider });
    try {
      const rule = toRateRule(1, 60_000, 1);
      const decisions = [];
      for (let i = 0; i < 3; i++) decisions.push((await limiter.decide('user:1', rule, 1)).allowed);
      expect(decisions).toEqual([true, false, false]);
      await expect(circuit.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
      expect(circuit.state).toBe('open');
      const metrics = await telemetry.collect();
      expect(
        valueOf(metrics, METRICS.rateLimitDecisions, { 'cachet.limiter': 'redis', 'cachet.decision': 'admitted' }),
      ).toBe(1);
      expect(
        valueOf(metrics, METRICS.rateLimitDecisions, { 'cachet.limiter': 'redis', 'cachet.decision': 'rejected' }),
      ).toBe(2);
      const circuitOf = (state: string) => ({ 'cachet.circuit': 'openai', 'cachet.circuit.state': state });
      expect(valueOf(metrics, METRICS.circuitTransitions, circuitOf('open'))).toBe(1);
      expect(valueOf(metrics, METRICS.circuitState, circuitOf('open'))).toBe(1);
      expect(valueOf(metrics, METRICS.circuitState, circuitOf('closed'))).toBe(0);
    } finally {
      stop();
      await limiter.close();
    }
  });

  it('rejects what it cannot instrument with a TypeError saying what it expected', () => {
    expect(() => instrumentCache({} as Cache)).toThrow('Expected `cache` to be a Cache, got');
    expect(() => instrumentStore(new Cache() as never)).toThrow('Expected `store` to be a CacheStore');
    expect(() => instrument({ caches: new Cache() as never })).toThrow('Expected `caches` to be an array');
    expect(() => instrument({ tracer: 1 } as never)).toThrow(TypeError);
    expect(() => instrumentCache(new Cache(), { meterProvider: {} as never })).toThrow(
      'Expected `meterProvider` to be a MeterProvider',
    );
    expect(() => instrumentChatClient(client, { providerName: '' })).toThrow('Expected `providerName`');
  });

  it('leaves nothing behind when one entry of instrument() is invalid', () => {
    const store = new Cache().store;
    expect(() => instrument({ stores: [store], caches: [{} as Cache] })).toThrow(TypeError);
    expect(Object.prototype.hasOwnProperty.call(store, 'get')).toBe(false);
  });
});

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

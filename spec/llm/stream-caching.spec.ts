import { Cache, Cached, currentSignal, MemoryCostLedger, PriceTable } from '../../lib';
import { ChatClient, chatKeyPolicy, ProviderError, type ChatCompletionChunk, type ChatRequest } from '../../lib/llm';
import { LocalProvider } from '../../lib/testing';
import { defaultReply } from '../../lib/testing/chat-answer';
import { eventually } from '../support/async';
import { startWorker } from '../support/child-processes';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

// Streamed completions over real HTTP on loopback, cached by @Cached({ stream: true }).
describe('streamed chat completions under @Cached', () => {
  let provider: LocalProvider;
  let baseURL: string;
  let client: ChatClient;

  beforeAll(async () => {
    provider = new LocalProvider({ chunkDelay: '5ms' });
    baseURL = await provider.start();
    client = new ChatClient({ baseURL, apiKey: 'test-key', connections: 4 });
  });
  afterEach(() => {
    provider.resetCounters();
    provider.configure({
      breakStreamAfter: Infinity,
      truncateStreamAfter: Infinity,
      streamError: false,
      chunkDelay: '5ms',
      reply: defaultReply,
    });
  });
  afterAll(async () => {
    await client.close();
    await provider.close();
  });

  function assistant(cache = new Cache()) {
    class Assistant {
      @Cached({ cache, ttl: '10m', stream: true, ...chatKeyPolicy({ tenant: false }) })
      stream(request: ChatRequest): AsyncIterable<ChatCompletionChunk> {
        return client.stream(request, { signal: currentSignal() });
      }
    }
    return { assistant: new Assistant(), cache };
  }

  const request = (content: string): ChatRequest => ({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content }],
    temperature: 0,
    stream_options: { include_usage: true },
  });

  const contentOf = (chunks: readonly ChatCompletionChunk[]) =>
    chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

  async function read(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return chunks;
  }

  it('makes one provider request for 50 concurrent identical streams, each receiving every chunk in order', async () => {
    const direct = await read(client.stream(request('How do refunds work?')));
    provider.resetCounters();
    const { assistant: a } = assistant();
    const all = await Promise.all(Array.from({ length: 50 }, () => read(a.stream(request('How do refunds work?')))));
    expect(provider.requests).toBe(1);
    const expected = direct.map((c) => c.choices[0]?.delta ?? null);
    for (const chunks of all) expect(chunks.map((c) => c.choices[0]?.delta ?? null)).toEqual(expected);
    expect(contentOf(all[0]!)).toContain('How do refunds work?');
  });

  it('replays a completed stream from the cache without a provider request', async () => {
    const { assistant: a, cache } = assistant();
    const live = await read(a.stream(request('shipping?')));
    const replayed = await read(a.stream(request('shipping?')));
    expect(replayed).toEqual(live);
    expect(provider.requests).toBe(1);
    expect(cache.stats().total).toMatchObject({ hits: 1, fills: 1 });
  });

  it('stores nothing when the provider breaks the stream midway; every reader sees the error', async () => {
    const { assistant: a, cache } = assistant();
    provider.configure({ breakStreamAfter: 2 });
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const chunks: ChatCompletionChunk[] = [];
        try {
          for await (const chunk of a.stream(request('warranty?'))) chunks.push(chunk);
          return { chunks, error: undefined };
        } catch (error) {
          return { chunks, error };
        }
      }),
    );
    expect(provider.requests).toBe(1);
    for (const outcome of outcomes) {
      expect(outcome.error).toBeInstanceOf(ProviderError);
      expect(outcome.chunks).toHaveLength(outcomes[0]!.chunks.length);
    }
    expect(cache.stats().total.fills).toBe(0);
    provider.configure({ breakStreamAfter: Infinity });
    await read(a.stream(request('warranty?')));
    expect(provider.requests).toBe(2);
  });

  /** Reads a stream to its end or its error. */
  async function outcome(
    stream: AsyncIterable<ChatCompletionChunk>,
  ): Promise<{ chunks: ChatCompletionChunk[]; error: unknown }> {
    const chunks: ChatCompletionChunk[] = [];
    try {
      for await (const chunk of stream) chunks.push(chunk);
      return { chunks, error: undefined };
    } catch (error) {
      return { chunks, error };
    }
  }

  for (const shape of ['event', 'data'] as const) {
    it(`stores nothing when the provider sends an error mid-stream (${shape} shape); every reader sees the same chunks, then the error`, async () => {
      const { assistant: a, cache } = assistant();
      provider.configure({ streamError: { after: 2, shape, type: 'overloaded_error', message: 'Overloaded' } });
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => outcome(a.stream(request('overloaded?')))));
      expect(provider.requests).toBe(1);
      for (const { chunks, error } of outcomes) {
        expect(chunks).toEqual(outcomes[0]!.chunks);
        expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'Local ', 'answer ']);
        expect(error).toBeInstanceOf(ProviderError);
        expect(error).toMatchObject({ type: 'overloaded_error', status: 529, inStream: true });
      }
      expect(cache.stats().total).toMatchObject({ fills: 0, hits: 0 });
      // Nothing was stored: the next call goes to the provider again, and its whole answer is stored.
      provider.configure({ streamError: false });
      const whole = await read(a.stream(request('overloaded?')));
      expect(contentOf(whole)).toBe(defaultReply(request('overloaded?') as never));
      expect(provider.requests).toBe(2);
      expect(await read(a.stream(request('overloaded?')))).toEqual(whole);
      expect(provider.requests).toBe(2);
    });
  }

  it('does not store a stream that ended cleanly without a finish_reason (truncated)', async () => {
    const { assistant: a, cache } = assistant();
    provider.configure({ truncateStreamAfter: 2 });
    const truncated = await read(a.stream(request('truncated?')));
    expect(contentOf(truncated)).toBe('Local answer ');
    expect(truncated.some((c) => c.choices[0]?.finish_reason)).toBe(false);
    provider.configure({ truncateStreamAfter: Infinity });
    const whole = await read(a.stream(request('truncated?')));
    expect(provider.requests).toBe(2);
    expect(contentOf(whole)).toBe(defaultReply(request('truncated?') as never));
    await read(a.stream(request('truncated?')));
    expect(provider.requests).toBe(2);
    expect(cache.stats().total).toMatchObject({ fills: 2, hits: 1 });
  });

  it('closes the provider request when the only reader stops early, and stores nothing', async () => {
    const { assistant: a, cache } = assistant();
    // 200 words at 50 ms each: the whole answer would take 10 s.
    provider.configure({ chunkDelay: '50ms', reply: () => 'word '.repeat(200) });
    for await (const _chunk of a.stream(request('a long answer please'))) break;
    // The provider sees the connection close long before its answer could end.
    await eventually(() => provider.inFlight === 0, 2_000);
    expect(cache.fillsInProgress).toBe(0);
    expect(cache.stats().total.fills).toBe(0);
  });

  it('records the provider’s usage once in the ledger, and the saving of every joiner and replay', async () => {
    const ledger = new MemoryCostLedger({
      prices: new PriceTable({ 'gpt-4o-mini': { inputPer1K: 0.15, outputPer1K: 0.6 } }),
    });
    const { assistant: a } = assistant(new Cache({ ledger }));
    const first = await Promise.all([read(a.stream(request('returns?'))), read(a.stream(request('returns?')))]);
    await read(a.stream(request('returns?')));
    const usage = first[0]!.at(-1)!.usage!;
    const { total } = await ledger.report();
    expect(total).toMatchObject({
      fills: 1,
      hits: 2,
      spentPromptTokens: usage.prompt_tokens,
      spentCompletionTokens: usage.completion_tokens,
      savedCompletionTokens: 2 * usage.completion_tokens,
    });
  });

  describe('across processes on one Redis', () => {
    const prefix = uniquePrefix('stream-x');
    afterAll(async () => {
      const redis = await connectTestClient();
      await deleteKeys(redis, prefix);
      await redis.close();
    });

    it('3 processes × 20 identical concurrent streams make one provider request', async () => {
      provider.configure({ chunkDelay: '20ms' });
      const env = { REDIS_URL: testRedisUrl(), PREFIX: prefix, BASE_URL: baseURL, CALLS: '20' };
      const workers = [1, 2, 3].map(() => startWorker('stream-worker', env));
      try {
        await Promise.all(workers.map((w) => w.ready));
        workers.forEach((w) => w.go());
        const results = (await Promise.all(workers.map((w) => w.result))) as { distinct: string[] }[];
        expect(provider.requests).toBe(1);
        const texts = new Set(results.flatMap((r) => r.distinct));
        expect(texts.size).toBe(1);
        expect([...texts][0]).toContain('What is the refund policy?');
      } finally {
        workers.forEach((w) => w.kill());
      }
    }, 60_000);
  });
});

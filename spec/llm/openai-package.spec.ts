import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import { Cache, Cached, Fallback, RateLimited, currentSignal, isTransientError, MemoryCostLedger } from '../../lib';
import { chatKeyPolicy } from '../../lib/llm';
import { LocalProvider, defaultReply } from '../../lib/testing';

// The official `openai` package, pointed at the local provider by `baseURL`, inside a decorated
// service method: the recommended stack works around a client we do not control.
describe('the openai package under cachet decorators', () => {
  let provider: LocalProvider;
  let baseURL: string;

  beforeAll(async () => {
    provider = new LocalProvider();
    baseURL = await provider.start();
  });
  afterEach(() => {
    provider.resetCounters();
    provider.configure({ errorRate: 0, streamError: false, truncateStreamAfter: Infinity, framing: {} });
  });
  afterAll(() => provider.close());

  function makeAssistant() {
    // maxRetries 0: retrying is cachet's job here, and the SDK's own retries would hide provider calls.
    const openai = new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0 });
    const cache = new Cache();
    class Assistant {
      @Fallback({ to: 'offline' })
      @Cached({ cache, ttl: '10m', ...chatKeyPolicy({ tenant: false }) })
      @RateLimited({ limit: 3, interval: '1m', burst: 3 })
      async ask(request: ChatCompletionCreateParamsNonStreaming): Promise<string> {
        const completion = await openai.chat.completions.create(request);
        return completion.choices[0]?.message.content ?? '';
      }

      async offline(): Promise<string> {
        return 'The assistant is offline; please try again later.';
      }
    }
    return new Assistant();
  }

  const ask = (content: string, temperature = 0): ChatCompletionCreateParamsNonStreaming => ({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content }],
    temperature,
  });

  it('answers repeated deterministic requests from the cache with one provider request', async () => {
    const assistant = makeAssistant();
    const answers = await Promise.all([assistant.ask(ask('refunds?')), assistant.ask(ask('refunds?'))]);
    await assistant.ask(ask('refunds?'));
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toContain('refunds?');
    expect(provider.requests).toBe(1);
  });

  it('does not cache sampling requests (temperature above 0, no seed)', async () => {
    const assistant = makeAssistant();
    await assistant.ask(ask('a poem', 0.9));
    await assistant.ask(ask('a poem', 0.9));
    expect(provider.requests).toBe(2);
  });

  it('falls back when the provider fails, and caches only real answers', async () => {
    const assistant = makeAssistant();
    provider.failNext(1, 500);
    await expect(assistant.ask(ask('status?'))).resolves.toMatch(/offline/);
    await expect(assistant.ask(ask('status?'))).resolves.toContain('status?');
    expect(provider.requests).toBe(2);
  });

  it('falls back past the rate limit without calling the provider', async () => {
    const assistant = makeAssistant();
    for (const q of ['one', 'two', 'three']) await assistant.ask(ask(q));
    await expect(assistant.ask(ask('four'))).resolves.toMatch(/offline/);
    expect(provider.requests).toBe(3);
  });

  it('sees the SDK’s HTTP errors as transient for @Retry', async () => {
    const openai = new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0 });
    provider.failNext(1, 503);
    const error = await openai.chat.completions.create(ask('x')).catch((e: unknown) => e);
    expect((error as { status?: number }).status).toBe(503);
    expect(isTransientError(error)).toBe(true);
  });

  describe('streamed (`stream: true`)', () => {
    function makeStreamingAssistant(cache = new Cache()) {
      const openai = new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0 });
      class Assistant {
        @Fallback({ to: 'offline' })
        @Cached({ cache, ttl: '10m', stream: true, ...chatKeyPolicy({ tenant: false }) })
        @RateLimited({ limit: 3, interval: '1m', burst: 3 })
        async ask(request: ChatCompletionCreateParamsStreaming): Promise<AsyncIterable<ChatCompletionChunk>> {
          // The SDK's own Stream, closed by cachet when every reader stops early.
          return openai.chat.completions.create(request, { signal: currentSignal() });
        }

        async offline(): Promise<AsyncIterable<ChatCompletionChunk>> {
          return (async function* () {
            yield {
              id: 'offline',
              object: 'chat.completion.chunk',
              created: 0,
              model: 'none',
              choices: [{ index: 0, delta: { content: 'offline' }, finish_reason: 'stop' }],
            } as ChatCompletionChunk;
          })();
        }
      }
      return new Assistant();
    }

    const streamed = (content: string): ChatCompletionCreateParamsStreaming => ({
      ...ask(content),
      stream: true,
      stream_options: { include_usage: true },
    });

    async function text(stream: AsyncIterable<ChatCompletionChunk>): Promise<string> {
      let out = '';
      for await (const chunk of stream) out += chunk.choices[0]?.delta.content ?? '';
      return out;
    }

    it('streams identical concurrent and later requests from one provider request', async () => {
      const assistant = makeStreamingAssistant();
      const texts = await Promise.all([1, 2, 3].map(async () => text(await assistant.ask(streamed('returns?')))));
      texts.push(await text(await assistant.ask(streamed('returns?'))));
      expect(new Set(texts).size).toBe(1);
      expect(texts[0]).toContain('returns?');
      expect(provider.requests).toBe(1);
    });

    it('falls back when the provider refuses the stream, and caches only real answers', async () => {
      const assistant = makeStreamingAssistant();
      provider.failNext(1, 503);
      await expect(text(await assistant.ask(streamed('status?')))).resolves.toBe('offline');
      await expect(text(await assistant.ask(streamed('status?')))).resolves.toContain('status?');
      await expect(text(await assistant.ask(streamed('status?')))).resolves.toContain('status?');
      expect(provider.requests).toBe(2);
    });

    it('falls back past the rate limit without calling the provider', async () => {
      const assistant = makeStreamingAssistant();
      for (const q of ['one', 'two', 'three']) await text(await assistant.ask(streamed(q)));
      await expect(text(await assistant.ask(streamed('four')))).resolves.toBe('offline');
      expect(provider.requests).toBe(3);
    });

    /** Reads a stream to its end or its error. */
    async function outcome(stream: AsyncIterable<ChatCompletionChunk>): Promise<{ text: string; error: unknown }> {
      let out = '';
      try {
        for await (const chunk of stream) out += chunk.choices[0]?.delta.content ?? '';
        return { text: out, error: undefined };
      } catch (error) {
        return { text: out, error };
      }
    }

    for (const shape of ['event', 'data'] as const) {
      it(`stores nothing when the provider sends an error mid-stream (${shape} shape), which the SDK throws; every reader sees it after the same chunks`, async () => {
        const cache = new Cache();
        const assistant = makeStreamingAssistant(cache);
        provider.configure({ streamError: { after: 2, shape, type: 'overloaded_error', message: 'Overloaded' } });
        const outcomes = await Promise.all([1, 2, 3].map(async () => outcome(await assistant.ask(streamed('busy?')))));
        expect(provider.requests).toBe(1);
        for (const { text, error } of outcomes) {
          expect(text).toBe('Local answer ');
          expect(error).toBeInstanceOf(OpenAI.APIError);
          expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe('overloaded_error');
        }
        expect(cache.stats().total).toMatchObject({ fills: 0, hits: 0 });
        provider.configure({ streamError: false });
        await expect(text(await assistant.ask(streamed('busy?')))).resolves.toContain('busy?');
        expect(provider.requests).toBe(2);
        await text(await assistant.ask(streamed('busy?')));
        expect(provider.requests).toBe(2);
      });
    }

    it('does not store a stream the provider ended without a finish_reason, which the SDK ends quietly', async () => {
      const cache = new Cache();
      const assistant = makeStreamingAssistant(cache);
      provider.configure({ truncateStreamAfter: 2 });
      await expect(text(await assistant.ask(streamed('cut?')))).resolves.toBe('Local answer ');
      provider.configure({ truncateStreamAfter: Infinity });
      await expect(text(await assistant.ask(streamed('cut?')))).resolves.toContain('cut?');
      await expect(text(await assistant.ask(streamed('cut?')))).resolves.toContain('cut?');
      expect(provider.requests).toBe(2);
      expect(cache.stats().total).toMatchObject({ fills: 2, hits: 1 });
    });

    it('reads the local provider’s framings (CRLF cut in two, multi-line data, comments, split characters)', async () => {
      const openai = new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0 });
      provider.configure({ reply: () => 'Grüße, 東京 🎉 done' });
      try {
        const framings = [
          { lineEnding: '\r\n', multiLineData: true, comments: true, split: 'line-ending' },
          { split: 'utf8' },
          { lineEnding: '\r', split: 5 },
        ] as const;
        for (const framing of framings) {
          provider.configure({ framing });
          expect(await text(await openai.chat.completions.create(streamed('x')))).toBe('Grüße, 東京 🎉 done');
        }
      } finally {
        provider.configure({ reply: defaultReply });
      }
    });

    it('records the SDK stream’s usage chunk in the ledger', async () => {
      const ledger = new MemoryCostLedger();
      const assistant = makeStreamingAssistant(new Cache({ ledger }));
      await text(await assistant.ask(streamed('prices?')));
      await text(await assistant.ask(streamed('prices?')));
      const { total } = await ledger.report();
      expect(total).toMatchObject({ fills: 1, hits: 1 });
      expect(total.spentCompletionTokens).toBeGreaterThan(0);
      expect(total.savedCompletionTokens).toBe(total.spentCompletionTokens);
      expect(total.savedNanos).toBe(total.spentNanos);
    });
  });
});

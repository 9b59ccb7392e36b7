import type { LanguageModel } from 'ai';
import { z } from 'zod';
import { Cache, MemoryCostLedger, PriceTable, type CacheOptions } from '../../lib';
import { cachetMiddleware, ChatKeyError, type AiSdkStreamPart, type CachetMiddlewareOptions } from '../../lib/ai-sdk';
import { RedisStore } from '../../lib/redis';
import { LocalProvider } from '../../lib/testing';
import { defaultReply } from '../../lib/testing/chat-answer';
import { cleanUpKeys, testRedisUrl, uniquePrefix } from '../support/redis';
import { aiMajors } from './ai-majors';

// The real `ai` package of each supported major and its @ai-sdk/openai-compatible over real HTTP against
// LocalProvider, with the middleware caching through a memory cache and through Redis.
type WrappedModel = Exclude<LanguageModel, string>;
type V2Params = Parameters<WrappedModel['doStream']>[0];

const backends = [
  { name: 'memory', make: (_prefix: string, extra: CacheOptions) => new Cache({ ttl: '10m', ...extra }) },
  {
    name: 'Redis',
    make: (prefix: string, extra: CacheOptions) =>
      new Cache({ ttl: '10m', prefix, store: new RedisStore({ url: testRedisUrl() }), ...extra }),
  },
];

describe.each(aiMajors)('cachetMiddleware with $name', ({ ai, createOpenAICompatible, spec }) => {
  const { generateObject, generateText, streamText, wrapLanguageModel } = ai;

  describe.each(backends)('over a $name cache', ({ make }) => {
    let provider: LocalProvider;
    let local: ReturnType<typeof createOpenAICompatible>;
    const prefixes: string[] = [];
    const caches: Cache[] = [];

    beforeAll(async () => {
      provider = new LocalProvider();
      const baseURL = await provider.start();
      local = createOpenAICompatible({
        name: 'local',
        baseURL,
        apiKey: 'test',
        includeUsage: true,
        supportsStructuredOutputs: true,
      });
    });
    afterEach(async () => {
      provider.resetCounters();
      provider.configure({ breakStreamAfter: Infinity, truncateStreamAfter: Infinity, streamError: false });
      provider.configure({ reply: defaultReply });
      await Promise.all(caches.splice(0).map((cache) => cache.close()));
    });
    afterAll(async () => {
      await provider.close();
      await Promise.all(prefixes.map((prefix) => cleanUpKeys(prefix)));
    });

    function setUp(options: Partial<CachetMiddlewareOptions> = {}, cache = newCache()) {
      const middleware = cachetMiddleware({ cache, tenant: false, ...options });
      return { cache, model: wrapLanguageModel({ model: local.chatModel('gpt-4o-mini'), middleware }) };
    }
    function newCache(extra: CacheOptions = {}): Cache {
      const prefix = uniquePrefix('aisdk');
      prefixes.push(prefix);
      const cache = make(prefix, extra);
      caches.push(cache);
      return cache;
    }

    async function streamed(model: WrappedModel, prompt: string) {
      const parts: string[] = [];
      const errors: unknown[] = [];
      const onError = ({ error }: { error: unknown }) => void errors.push(error);
      const result = streamText({ model, prompt, temperature: 0, maxRetries: 0, onError });
      try {
        for await (const part of result.fullStream) {
          if (part.type === 'text-delta') parts.push(part.text);
        }
      } catch (error) {
        // A stream cut off mid-way fails the read (after the deltas that came).
        errors.push(error);
      }
      if (errors.length > 0) return { parts, errors };
      return { parts, errors, text: await result.text, usage: await result.usage };
    }

    async function modelParts(model: WrappedModel, params: V2Params): Promise<AiSdkStreamPart[]> {
      const { stream } = await model.doStream(params);
      const parts: AiSdkStreamPart[] = [];
      for await (const part of stream as unknown as AsyncIterable<AiSdkStreamPart>) parts.push(part);
      return parts;
    }

    it('answers a repeated generateText from the cache: one provider request, the same text and usage', async () => {
      const { model, cache } = setUp();
      const first = await generateText({ model, prompt: 'What is cachet?', temperature: 0, maxRetries: 0 });
      const second = await generateText({ model, prompt: 'What is cachet?', temperature: 0, maxRetries: 0 });
      expect(provider.requests).toBe(1);
      expect(first.text).toBe('Local answer from gpt-4o-mini to: What is cachet?');
      expect(second.text).toBe(first.text);
      expect(second.usage).toEqual(first.usage);
      expect(second.finishReason).toBe('stop');
      expect(second.response.modelId).toBe(first.response.modelId);
      expect(second.response.timestamp).toEqual(first.response.timestamp);
      expect(cache.stats().total).toMatchObject({ hits: 1, fills: 1 });
    });

    it('caches generateObject, and keeps generate and stream entries apart', async () => {
      provider.configure({ reply: () => '{"answer":42}' });
      const { model } = setUp();
      const schema = z.object({ answer: z.number() });
      const ask = () => generateObject({ model, schema, prompt: 'The answer?', temperature: 0, maxRetries: 0 });
      const [first, second] = [await ask(), await ask()];
      expect(first.object).toEqual({ answer: 42 });
      expect(second.object).toEqual({ answer: 42 });
      expect(provider.requests).toBe(1);
    });

    it('replays a repeated streamText: one provider request, the same text, deltas and model parts', async () => {
      const { model } = setUp();
      const first = await streamed(model, 'Stream to me');
      const second = await streamed(model, 'Stream to me');
      expect(provider.requests).toBe(1);
      expect(first.errors).toEqual([]);
      expect(first.text).toBe('Local answer from gpt-4o-mini to: Stream to me');
      expect(second).toEqual(first);
      expect(first.parts.length).toBeGreaterThan(1);

      const params: V2Params = {
        prompt: [{ role: 'user', content: [{ type: 'text', text: 'Parts' }] }],
        temperature: 0,
      };
      const live = await modelParts(model, params);
      const replayed = await modelParts(model, params);
      expect(provider.requests).toBe(2);
      expect(replayed).toEqual(live);
      expect(live.map((part) => part.type)).toContain('finish');
      // The model the middleware wraps is this major's: its finish reason is a string in v2, an object after.
      const finish = replayed.find((part) => part.type === 'finish');
      expect(typeof finish?.finishReason).toBe(spec === 'v2' ? 'string' : 'object');
      const metadata = replayed.find((part) => part.type === 'response-metadata');
      expect(metadata?.timestamp).toBeInstanceOf(Date);
    });

    it('shares one live stream between identical concurrent streamText calls', async () => {
      const { model } = setUp();
      const results = await Promise.all([1, 2, 3].map(() => streamed(model, 'Together')));
      expect(provider.requests).toBe(1);
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
    });

    it.each([
      ['cut off (the socket breaks)', { breakStreamAfter: 2 }],
      ['ended early without a finish reason', { truncateStreamAfter: 2 }],
      ['failed by an error event', { streamError: { after: 2 } }],
    ])('stores nothing from a stream %s: the next call goes to the provider', async (_how, settings) => {
      const { model } = setUp();
      provider.configure(settings);
      await streamed(model, 'Fragile');
      expect(provider.requests).toBe(1);
      provider.configure({ breakStreamAfter: Infinity, truncateStreamAfter: Infinity, streamError: false });
      const again = await streamed(model, 'Fragile');
      expect(provider.requests).toBe(2);
      expect(again.text).toBe('Local answer from gpt-4o-mini to: Fragile');
      await streamed(model, 'Fragile');
      expect(provider.requests).toBe(2);
    });

    it('never shares an answer between tenants, and refuses a call without a tenant', async () => {
      const { model } = setUp({ tenant: (params) => params.headers?.['x-tenant'] ?? '' });
      const ask = (tenant: string | undefined) =>
        generateText({ model, prompt: 'Mine?', temperature: 0, maxRetries: 0, headers: { 'x-tenant': tenant } });
      await ask('acme');
      await ask('globex');
      expect(provider.requests).toBe(2);
      await ask('acme');
      await ask('globex');
      expect(provider.requests).toBe(2);
      await expect(ask(undefined)).rejects.toThrow(ChatKeyError);
      expect(provider.requests).toBe(2);
    });

    it('bypasses a sampling call (temperature 0.7, no seed) unless deterministicOnly is false', async () => {
      const { model, cache } = setUp();
      const sample = () => generateText({ model, prompt: 'Surprise me', temperature: 0.7, maxRetries: 0 });
      await sample();
      await sample();
      expect(provider.requests).toBe(2);
      expect(cache.stats().total.bypassed).toBe(2);
      const seeded = () => generateText({ model, prompt: 'Surprise me', temperature: 0.7, seed: 7, maxRetries: 0 });
      await seeded();
      await seeded();
      expect(provider.requests).toBe(3);

      const opted = setUp({ deterministicOnly: false }).model;
      await generateText({ model: opted, prompt: 'Surprise me', temperature: 0.7, maxRetries: 0 });
      await generateText({ model: opted, prompt: 'Surprise me', temperature: 0.7, maxRetries: 0 });
      expect(provider.requests).toBe(4);
    });

    it('keys what changes the answer, not headers or the abort signal', async () => {
      const { model } = setUp();
      const ask = (extra: Partial<Parameters<typeof generateText>[0]>) =>
        generateText({ model, prompt: 'Key me', temperature: 0, maxRetries: 0, ...extra } as Parameters<
          typeof generateText
        >[0]);
      await ask({ headers: { 'x-trace': '1' } });
      await ask({ headers: { 'x-trace': '2' }, abortSignal: new AbortController().signal });
      expect(provider.requests).toBe(1);
      await ask({ maxOutputTokens: 50 });
      await ask({ topP: 0.5 });
      await ask({ stopSequences: ['x'] });
      await ask({ system: 'Be brief' });
      await ask({ providerOptions: { local: { user: 'u1' } } });
      expect(provider.requests).toBe(6);
    });

    it('records fills and hits in the cost ledger', async () => {
      const ledger = new MemoryCostLedger({
        prices: new PriceTable({ 'gpt-4o-mini': { inputPer1K: 0.15, outputPer1K: 0.6 } }),
      });
      const { model } = setUp({}, newCache({ ledger }));
      const first = await generateText({ model, prompt: 'Costly', temperature: 0, maxRetries: 0 });
      await generateText({ model, prompt: 'Costly', temperature: 0, maxRetries: 0 });
      await streamed(model, 'Costly stream');
      const streamedAgain = await streamed(model, 'Costly stream');
      const { total } = await ledger.report();
      expect(total).toMatchObject({
        fills: 2,
        hits: 2,
        spentPromptTokens: first.usage.inputTokens! + streamedAgain.usage!.inputTokens!,
        savedCompletionTokens: first.usage.outputTokens! + streamedAgain.usage!.outputTokens!,
      });
    });

    it('validates its options', () => {
      const cache = newCache();
      expect(() => cachetMiddleware({ cache } as unknown as CachetMiddlewareOptions)).toThrow(/tenant/);
      expect(() => cachetMiddleware({ cache, tenant: false, tll: '1m' } as unknown as CachetMiddlewareOptions)).toThrow(
        /tll/,
      );
      expect(() => cachetMiddleware({ tenant: false } as unknown as CachetMiddlewareOptions)).toThrow(/cache/);
    });
  });
});

describe('cachetMiddleware across AI SDK majors', () => {
  let provider: LocalProvider;
  let baseURL: string;
  beforeAll(async () => {
    provider = new LocalProvider();
    baseURL = await provider.start();
  });
  afterAll(() => provider.close());

  it('never replays one specification version to another: each major on one cache fills its own entry', async () => {
    const cache = new Cache({ ttl: '10m' });
    const middleware = cachetMiddleware({ cache, tenant: false });
    const ask = ({ ai, createOpenAICompatible }: (typeof aiMajors)[number]) => {
      const local = createOpenAICompatible({ name: 'local', baseURL, apiKey: 'test', includeUsage: true });
      const model = ai.wrapLanguageModel({ model: local.chatModel('gpt-4o-mini'), middleware });
      return ai.generateText({ model, prompt: 'Which major?', temperature: 0, maxRetries: 0 });
    };
    for (const major of aiMajors) await ask(major);
    expect(provider.requests).toBe(aiMajors.length);
    const again = [];
    for (const major of aiMajors) again.push(await ask(major));
    expect(provider.requests).toBe(aiMajors.length);
    expect(again.map((result) => result.text)).toEqual(
      aiMajors.map(() => 'Local answer from gpt-4o-mini to: Which major?'),
    );
    expect(cache.stats().total).toMatchObject({ fills: aiMajors.length, hits: aiMajors.length });
    await cache.close();
  });
});

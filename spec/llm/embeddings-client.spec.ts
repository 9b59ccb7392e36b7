import { MemoryCostLedger } from '../../lib/ledger/cost-ledger';
import { EmbeddingsClient } from '../../lib/llm/embeddings-client';
import { isProviderError } from '../../lib/llm/provider-error';
import { cosine } from '../../lib/semantic/calibrate';
import { OfflineEmbedder } from '../../lib/semantic/offline-embedder';
import { LocalProvider } from '../../lib/testing/local-provider';

// Over real HTTP: the EmbeddingsClient against the LocalProvider's OpenAI-compatible /v1/embeddings.
describe('EmbeddingsClient', () => {
  let provider: LocalProvider;
  let baseURL: string;
  const open: EmbeddingsClient[] = [];

  beforeEach(async () => {
    provider = new LocalProvider();
    baseURL = await provider.start();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
    await provider.close();
  });

  const client = (options: Partial<ConstructorParameters<typeof EmbeddingsClient>[0]> = {}) => {
    const made = new EmbeddingsClient({ baseURL, apiKey: 'k', model: 'local-embed', dimensions: 256, ...options });
    open.push(made);
    return made;
  };

  it('returns one normalised vector per text, in order, the provider’s vectors', async () => {
    const texts = ['How do I reset my password?', 'I forgot my password, how can I change it?', '今天天气怎么样'];
    const vectors = await client().embed(texts);
    const expected = await new OfflineEmbedder({ dimensions: 256 }).embed(texts);
    expect(vectors).toHaveLength(3);
    vectors.forEach((vector, i) => {
      expect(vector).toHaveLength(256);
      expect(cosine(vector, vector)).toBeCloseTo(1, 5);
      expect(cosine(vector, expected[i] as Float32Array)).toBeCloseTo(1, 5);
    });
  });

  it('sends the texts of concurrent callers in one request, each distinct text once', async () => {
    const embed = client();
    const results = await Promise.all([embed.embed(['a', 'b']), embed.embed(['b', 'c']), embed.embed(['a'])]);
    expect(provider.requests).toBe(1);
    expect(provider.embeddedTexts).toBe(3);
    expect(results[0]?.[1]).toBe(results[1]?.[0]);
    expect(embed.counts).toEqual({ requests: 1, texts: 3, cached: 0 });
  });

  it('splits a large batch into requests of at most maxBatch texts', async () => {
    const embed = client({ maxBatch: 2 });
    await embed.embed(['1', '2', '3', '4', '5']);
    expect(provider.requests).toBe(3);
  });

  it('answers a text asked for again from memory, and not with cacheSize 0', async () => {
    const embed = client();
    const [first] = await embed.embed(['same question']);
    const [again] = await embed.embed(['same question']);
    expect(again).toBe(first);
    expect(provider.requests).toBe(1);
    expect(embed.counts.cached).toBe(1);

    const uncached = client({ cacheSize: 0 });
    await uncached.embed(['same question']);
    await uncached.embed(['same question']);
    expect(provider.requests).toBe(3);
  });

  it('records the embedding tokens in the ledger as spent', async () => {
    const ledger = new MemoryCostLedger();
    await client({ ledger, namespace: 'faq-embeddings', tenant: 'acme' }).embed(['twelve chars', 'x']);
    const report = await ledger.report();
    expect(report.total.fills).toBe(1);
    expect(report.total.spentPromptTokens).toBe(Math.ceil(12 / 4) + 1);
    expect(report.rows[0]).toMatchObject({ namespace: 'faq-embeddings', tenant: 'acme', model: 'local-embed' });
  });

  it('rejects with a ProviderError shaped for @Retry, and remembers nothing, when the provider fails', async () => {
    provider.failNext(1, 503);
    const embed = client();
    const failure = await embed.embed(['q']).catch((error: unknown) => error);
    expect(isProviderError(failure)).toBe(true);
    expect(failure).toMatchObject({ status: 503 });
    await expect(embed.embed(['q'])).resolves.toHaveLength(1);
    expect(provider.requests).toBe(2);
  });

  it('refuses vectors of another length than `dimensions`, naming both', async () => {
    const failure = await client({ dimensions: 8 })
      .embed(['q'])
      .catch((error: unknown) => error);
    expect(isProviderError(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/8 numbers, got 256 items/);
    // Asked for, the provider shortens its vectors to the given length.
    await expect(client({ dimensions: 8, sendDimensions: true }).embed(['q'])).resolves.toEqual([
      expect.any(Float32Array),
    ]);
  });

  it('refuses bad options with a TypeError that says what was expected', () => {
    expect(() => new EmbeddingsClient({ baseURL, dimensions: 8 })).toThrow(/model/);
    expect(() => new EmbeddingsClient({ baseURL, model: 'm' })).toThrow(/dimensions/);
    expect(() => new EmbeddingsClient({ baseURL, model: 'm', dimensions: 8, cacheSize: -1 })).toThrow(
      /cacheSize.*non-negative integer/,
    );
    expect(() => new EmbeddingsClient({ baseURL, model: 'm', dimensions: 8, colour: 'red' } as never)).toThrow(
      /colour/,
    );
  });
});

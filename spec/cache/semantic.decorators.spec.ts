import { Cache, Cached } from '../../lib';
import type { SemanticHitEvent } from '../../lib/cache/cache-events';
import { chatKeyPolicy } from '../../lib/llm';
import type { ChatRequest } from '../../lib/llm/chat-request';
import { OfflineEmbedder } from '../../lib/semantic/offline-embedder';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.
//
// Similarities with OfflineEmbedder (measured; the threshold 0.7 sits below every pair here, so what refuses a
// near miss below is a guard, not the cosine): "How do I reset my password?" vs "How can I reset my
// password?" 0.978, vs "How do I not reset my password?" 0.845, vs "How do I reset my 2 passwords?" 0.823;
// "How do I reset my Pro password?" vs "... Plus password?" 0.714.

const embed = new OfflineEmbedder();
const THRESHOLD = 0.7;

function counting(cache: Cache, semantic: Record<string, unknown> = {}) {
  const calls: string[] = [];
  class Support {
    @Cached({ cache, semantic: { embed, threshold: THRESHOLD, ...semantic } })
    async ask(question: string, product = 'acme'): Promise<string> {
      calls.push(question);
      return `answer to ${question} for ${product}`;
    }
  }
  return { support: new Support(), calls };
}

describe('@Cached({ semantic })', () => {
  let cache: Cache;
  let hits: SemanticHitEvent[];
  beforeEach(() => {
    cache = new Cache();
    hits = [];
    cache.on('semanticHit', (event) => hits.push(event));
  });

  it('serves a paraphrase the answer of the question it means, counted and reported apart from exact hits', async () => {
    const { support, calls } = counting(cache);
    const first = await support.ask('How do I reset my password?');
    await expect(support.ask('How can I reset my password?')).resolves.toBe(first);
    expect(calls).toEqual(['How do I reset my password?']);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      method: 'default:Support.ask',
      question: 'How can I reset my password?',
      matched: { question: 'How do I reset my password?' },
    });
    expect(hits[0]!.similarity).toBeGreaterThan(0.97);
    const stats = cache.stats().methods['default:Support.ask'];
    expect(stats).toMatchObject({ hits: 0, semanticHits: 1, misses: 1, fills: 1, embeddings: 2 });
    expect(stats!.hitRate).toBeCloseTo(0.5);
  });

  it('replays a stream recorded for the question a paraphrase means, and streams a near miss afresh', async () => {
    const calls: string[] = [];
    class Streamer {
      @Cached({ cache, stream: true, semantic: { embed, threshold: THRESHOLD } })
      async *ask(question: string): AsyncGenerator<string> {
        calls.push(question);
        yield 'Open settings, ';
        yield `then answer: ${question}`;
      }
    }
    const streamer = new Streamer();
    const read = async (question: string): Promise<string[]> => {
      const chunks: string[] = [];
      for await (const chunk of streamer.ask(question) as AsyncIterable<string>) chunks.push(chunk);
      return chunks;
    };
    const first = await read('How do I reset my password?');
    await expect(read('How can I reset my password?')).resolves.toEqual(first);
    expect(calls).toEqual(['How do I reset my password?']);
    expect(hits).toHaveLength(1);
    await expect(read('How do I not reset my password?')).resolves.toEqual([
      'Open settings, ',
      'then answer: How do I not reset my password?',
    ]);
    expect(calls).toHaveLength(2);
    expect(cache.stats().methods['default:Streamer.ask']).toMatchObject({ semanticHits: 1, fills: 2 });
  });

  it('answers an exact repeat from the exact entry, without embedding', async () => {
    const { support, calls } = counting(cache);
    await support.ask('How do I reset my password?');
    await support.ask('How do I reset my password?');
    expect(calls).toHaveLength(1);
    expect(cache.stats().methods['default:Support.ask']).toMatchObject({ hits: 1, semanticHits: 0, embeddings: 1 });
  });

  it.each([
    ['a negation', 'How do I not reset my password?'],
    ['a number', 'How do I reset my 2 passwords?'],
  ])('does not serve a near miss differing in %s, though its cosine is above the threshold', async (_, nearMiss) => {
    const { support, calls } = counting(cache);
    await support.ask('How do I reset my password?');
    await support.ask(nearMiss);
    expect(calls).toEqual(['How do I reset my password?', nearMiss]);
    expect(hits).toEqual([]);
    // Without the guards, the cosine alone would have served it.
    const loose = counting(new Cache(), { guards: false });
    await loose.support.ask('How do I reset my password?');
    await loose.support.ask(nearMiss);
    expect(loose.calls).toHaveLength(1);
  });

  it('does not serve a near miss differing in a listed entity', async () => {
    const { support, calls } = counting(cache, { entities: ['Pro', 'Plus'] });
    await support.ask('How do I reset my Pro password?');
    await support.ask('How do I reset my Plus password?');
    expect(calls).toHaveLength(2);
  });

  it('asks `verify` about a candidate, and serves it only when it agrees', async () => {
    const asked: [string, string][] = [];
    let agree = false;
    const { support, calls } = counting(cache, {
      verify: async (query: string, candidate: string) => {
        asked.push([query, candidate]);
        return agree;
      },
    });
    await support.ask('How do I reset my password?');
    await support.ask('How can I reset my password?');
    agree = true;
    await support.ask('how can i reset my password');
    expect(asked).toEqual([
      ['How can I reset my password?', 'How do I reset my password?'],
      // The nearest now is the second question, stored when verify refused the first.
      ['how can i reset my password', 'How can I reset my password?'],
    ]);
    expect(calls).toHaveLength(2);
  });

  it('never matches across partitions (by default, the other arguments)', async () => {
    const { support, calls } = counting(cache);
    await support.ask('How do I reset my password?', 'acme');
    await expect(support.ask('How can I reset my password?', 'globex')).resolves.toContain('globex');
    expect(calls).toHaveLength(2);
  });

  it('drops a question whose entry was invalidated, and fills again', async () => {
    const { support, calls } = counting(cache);
    await support.ask('How do I reset my password?');
    await cache.invalidate(support, 'ask', 'How do I reset my password?');
    await support.ask('How can I reset my password?');
    await support.ask('How can I reset my password?');
    expect(calls).toEqual(['How do I reset my password?', 'How can I reset my password?']);
  });

  it('keeps at most `maxEntries` questions, the newest', async () => {
    const { support, calls } = counting(cache, { maxEntries: 1 });
    await support.ask('How do I reset my password?');
    await support.ask('What is the capital of France?');
    await support.ask('How can I reset my password?');
    expect(calls).toHaveLength(3);
    await support.ask('What is the capital of France ?');
    expect(calls).toHaveLength(4);
    await support.ask('What is the capital of France?');
    expect(calls).toHaveLength(4);
  });

  it('goes on as an exact miss when the embedder fails, reporting the error', async () => {
    const errors: unknown[] = [];
    cache.on('error', (event) => errors.push(event.operation));
    const failing = { model: 'broken', dimensions: 1, embed: () => Promise.reject(new Error('down')) };
    const { support, calls } = counting(cache, { embed: failing });
    await expect(support.ask('How do I reset my password?')).resolves.toContain('reset');
    expect(calls).toHaveLength(1);
    expect(errors).toEqual(['semantic lookup']);
  });

  it('leaves a method without `semantic` unchanged: no embedding, no semantic counter', async () => {
    const calls: string[] = [];
    class Plain {
      @Cached({ cache })
      async ask(question: string): Promise<string> {
        calls.push(question);
        return question;
      }
    }
    const plain = new Plain();
    await plain.ask('How do I reset my password?');
    await plain.ask('How can I reset my password?');
    expect(calls).toHaveLength(2);
    expect(cache.stats().methods['default:Plain.ask']).toMatchObject({ misses: 2, semanticHits: 0, embeddings: 0 });
  });

  it('works through cache.wrap with `text` and `partition`', async () => {
    let runs = 0;
    const ask = cache.wrap(
      async (request: { question: string; lang: string }) => {
        runs++;
        return `${request.lang}: ${request.question}`;
      },
      {
        name: 'ask',
        semantic: { embed, threshold: THRESHOLD, text: (r) => r.question, partition: (r) => r.lang },
      },
    );
    await ask({ question: 'How do I reset my password?', lang: 'en' });
    await expect(ask({ question: 'How can I reset my password?', lang: 'en' })).resolves.toBe(
      'en: How do I reset my password?',
    );
    await ask({ question: 'How can I reset my password?', lang: 'fr' });
    expect(runs).toBe(2);
  });

  it('refuses bad options with a TypeError naming them', () => {
    const bad = (semantic: unknown) => () =>
      cache.wrap(async (q: string) => q, { name: 'f', semantic: semantic as never });
    expect(bad({ threshold: 0.9 })).toThrow(/semantic\.embed/);
    expect(bad({ embed, threshold: 2 })).toThrow(/semantic\.threshold/);
    expect(bad({ embed, threshold: 0.9, text: (q: string) => q })).toThrow(/semantic\.partition/);
    expect(bad({ embed, threshold: 0.9, maxEntries: 0 })).toThrow(/semantic\.maxEntries/);
    expect(bad({ embed, threshold: 0.9, guards: 'none' })).toThrow(/semantic\.guards/);
    expect(bad({ embed, threshold: 0.9, entities: [''] })).toThrow(/semantic\.entities/);
    expect(bad({ embed, threshold: 0.9, thresold: 1 })).toThrow(/thresold/);
    const unmeasured = { embed: embed.embed.bind(embed), dimensions: 2048, model: 'unmeasured' };
    expect(bad({ embed: unmeasured })).toThrow(TypeError);
    expect(bad({ embed: unmeasured })).toThrow(/semantic\.threshold.*model unmeasured.*calibrateThreshold/);
    expect(bad({ embed: { ...unmeasured, recommendedThreshold: 1.5 } })).toThrow(/recommendedThreshold/);
  });

  it("uses the embedder's recommendedThreshold when `threshold` is not set", async () => {
    expect(embed.recommendedThreshold).toBe(0.95);
    expect(new OfflineEmbedder({ dimensions: 256 }).recommendedThreshold).toBeUndefined();
    let runs = 0;
    const ask = (name: string, embedder: object) =>
      cache.wrap(
        async (q: string) => {
          runs++;
          return q;
        },
        { name, semantic: { embed: embedder as OfflineEmbedder } },
      );
    const defaulted = ask('defaulted', embed);
    await defaulted('How do I reset my password?');
    // 0.978 >= 0.95: served.
    await expect(defaulted('How can I reset my password?')).resolves.toBe('How do I reset my password?');
    expect(runs).toBe(1);
    // Its own recommendation, whatever it is: 0.99 refuses the same pair.
    const strict = ask('strict', {
      embed: embed.embed.bind(embed),
      dimensions: 2048,
      model: 'strict',
      recommendedThreshold: 0.99,
    });
    await strict('How do I reset my password?');
    await expect(strict('How can I reset my password?')).resolves.toBe('How can I reset my password?');
    expect(runs).toBe(3);
  });

  describe('cache.explainSemantic', () => {
    it('explains a lookup candidate by candidate, nearest first, without serving it or counting a lookup', async () => {
      const { support, calls } = counting(cache);
      const cached = [
        'How do I reset my password?',
        'How do I not reset my password?',
        'How do I reset my 2 passwords?',
        'How do I cancel my subscription?',
      ];
      for (const question of cached) await support.ask(question);
      expect(calls).toEqual(cached);
      const before = cache.stats().methods['default:Support.ask']!;

      const explained = await cache.explainSemantic(support, 'ask', 'How can I reset my password?');
      expect(explained).toMatchObject({
        method: 'default:Support.ask',
        question: 'How can I reset my password?',
        threshold: THRESHOLD,
        served: { question: 'How do I reset my password?' },
      });
      expect(explained.partition).toMatch(/:sem:/);
      expect(explained.candidates.map((c) => [c.question, c.refusedBy])).toEqual([
        ['How do I reset my password?', undefined],
        ['How do I not reset my password?', 'negation'],
        ['How do I reset my 2 passwords?', 'numbers'],
        ['How do I cancel my subscription?', 'threshold'],
      ]);
      expect(explained.candidates.map((c) => Number(c.similarity.toFixed(3)))).toEqual([0.978, 0.826, 0.804, 0.054]);
      expect(explained.candidates[2]!.refusal).toMatchObject({ guard: 'numbers', query: [], candidate: ['2'] });

      // Nothing served, nothing counted but the embedding.
      expect(hits).toEqual([]);
      expect(calls).toHaveLength(4);
      expect(cache.stats().methods['default:Support.ask']).toMatchObject({
        hits: before.hits,
        misses: before.misses,
        semanticHits: 0,
        embeddings: before.embeddings + 1,
      });
      // The other partition holds nothing.
      await expect(
        cache.explainSemantic(support, 'ask', 'How can I reset my password?', 'globex'),
      ).resolves.toMatchObject({ candidates: [], served: undefined });
    });

    it('names `verify` and a gone entry as what refuses a candidate', async () => {
      let agree = false;
      const { support } = counting(cache, { verify: () => agree });
      await support.ask('How do I reset my password?');
      const explain = () => cache.explainSemantic(support, 'ask', 'How can I reset my password?');
      await expect(explain()).resolves.toMatchObject({
        candidates: [{ question: 'How do I reset my password?', refusedBy: 'verify' }],
        served: undefined,
      });
      agree = true;
      await expect(explain()).resolves.toMatchObject({ served: { question: 'How do I reset my password?' } });
      await cache.invalidate(support, 'ask', 'How do I reset my password?');
      await expect(explain()).resolves.toMatchObject({
        candidates: [{ question: 'How do I reset my password?', refusedBy: 'gone' }],
        served: undefined,
      });
    });

    it('refuses a method without `semantic` with a TypeError', async () => {
      class Plain {
        @Cached({ cache })
        async ask(question: string): Promise<string> {
          return question;
        }
      }
      await expect(cache.explainSemantic(new Plain(), 'ask', 'How?')).rejects.toThrow(/not cached with `semantic`/);
    });
  });

  describe('with chatKeyPolicy', () => {
    const request = (question: string, over: Partial<ChatRequest> = {}, before: ChatRequest['messages'] = []) =>
      ({
        model: 'gpt-x',
        temperature: 0,
        messages: [
          { role: 'system', content: 'You are the support bot.' },
          ...before,
          { role: 'user', content: question },
        ],
        ...over,
      }) as ChatRequest;

    function chat() {
      const calls: ChatRequest[] = [];
      class Bot {
        tenant = 'acme';
        @Cached({
          cache,
          ...chatKeyPolicy({
            tenant(this: Bot) {
              return this.tenant;
            },
          }),
          semantic: { embed, threshold: THRESHOLD },
        })
        async complete(req: ChatRequest): Promise<string> {
          calls.push(req);
          return `answer ${calls.length}`;
        }
      }
      return { bot: new Bot(), calls };
    }

    it('serves a paraphrased last user message in the same conversation', async () => {
      const { bot, calls } = chat();
      await bot.complete(request('How do I reset my password?'));
      await expect(bot.complete(request('How can I reset my password?'))).resolves.toBe('answer 1');
      expect(calls).toHaveLength(1);
    });

    it.each<[string, (bot: { tenant: string }) => ChatRequest]>([
      ['model', () => request('How can I reset my password?', { model: 'gpt-y' })],
      [
        'system prompt',
        () => ({
          ...request('How can I reset my password?'),
          messages: [
            { role: 'system', content: 'You are a pirate.' },
            { role: 'user', content: 'How can I reset my password?' },
          ],
        }),
      ],
      ['answer-changing parameter', () => request('How can I reset my password?', { max_tokens: 5 })],
      [
        'earlier turns',
        () =>
          request('How can I reset my password?', {}, [
            { role: 'user', content: 'Hi' },
            { role: 'assistant', content: 'Hello' },
          ]),
      ],
      ['tenant', (bot) => ((bot.tenant = 'globex'), request('How can I reset my password?'))],
    ])('never crosses partitions: a different %s', async (_, second) => {
      const { bot, calls } = chat();
      await bot.complete(request('How do I reset my password?'));
      await bot.complete(second(bot));
      expect(calls).toHaveLength(2);
      expect(hits).toEqual([]);
    });
  });
});

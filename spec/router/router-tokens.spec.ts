import { MemoryRateLimiter } from '../../lib';
import { ChatClient, estimateChatTokens, type ChatCompletion, type ChatRequest } from '../../lib/llm';
import { registerResource } from '../../lib/resources/named-resources';
import { ConcurrentRouter, routerFromConfig, type RouterOptions } from '../../lib/router';
import { LocalProvider } from '../../lib/testing';

// Real HTTP to two LocalProviders; the router's clock is held still, so only tokens decide.
// LocalProvider reports usage as characters / 4 of the prompt and of its answer.
const ask = (content: string, maxTokens: number): ChatRequest => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  max_tokens: maxTokens,
});

describe('ConcurrentRouter with tokensPerMinute', () => {
  let quota: LocalProvider;
  let spare: LocalProvider;
  let clients: ChatClient[];
  /** Characters of the quota endpoint's next answers. */
  let answerChars = 40;
  beforeAll(async () => {
    quota = new LocalProvider({ reply: () => 'x'.repeat(answerChars) });
    spare = new LocalProvider();
    clients = [new ChatClient({ baseURL: await quota.start() }), new ChatClient({ baseURL: await spare.start() })];
  });
  afterEach(() => {
    quota.resetCounters();
    spare.resetCounters();
    answerChars = 40;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await quota.close();
    await spare.close();
  });

  const router = (extra: Partial<RouterOptions> = {}, tokensPerMinute = 1_000) =>
    new ConcurrentRouter<ChatRequest, ChatCompletion>({
      clock: { now: () => 50_000 },
      endpoints: [
        { name: 'quota', client: clients[0]!, maxConcurrent: 4, tokensPerMinute },
        { name: 'spare', client: clients[1]!, maxConcurrent: 4, priority: 1 },
      ],
      ...extra,
    });

  it('reserves the estimate and gives back what the answer did not use: large estimates keep fitting', async () => {
    const r = router();
    // Each estimate is 1 + 4 + 600 = 605 tokens of a 1,000 minute; each answer uses 1 + 10.
    expect(estimateChatTokens(ask('q', 600))).toBe(605);
    const endpoints = [];
    for (let i = 0; i < 5; i++) endpoints.push((await r.route(ask('q', 600))).endpoint);
    // Without the refunds the second would already have gone to the spare endpoint.
    expect(endpoints).toEqual(['quota', 'quota', 'quota', 'quota', 'quota']);
    expect(quota.requests).toBe(5);
  });

  it('charges what an answer used beyond its estimate, and skips the endpoint until it has drained', async () => {
    const r = router();
    answerChars = 4_000; // 1,000 tokens of answer to a request estimated at 15
    const first = await r.route(ask('q', 10));
    expect(first.response.usage?.total_tokens).toBe(1_001);
    const next = await r.route(ask('q', 10));
    expect(next.endpoint).toBe('spare');
    // Alone, the endpoint is set aside with the time the estimate fits again: 1,001 + 15 tokens on a
    // minute of 1,000 is 16 over, at 60 ms a token.
    const only = new ConcurrentRouter<ChatRequest, ChatCompletion>({
      clock: { now: () => 50_000 },
      endpoints: [{ name: 'quota', client: clients[0]!, maxConcurrent: 4, tokensPerMinute: 1_000 }],
    });
    await only.route(ask('q', 10));
    const error = await only.route(ask('q', 10)).catch((e: unknown) => e);
    expect(error).toMatchObject({
      reason: 'exhausted',
      skipped: [{ endpoint: 'quota', reason: 'rate-limited', until: 50_960 }],
    });
  });

  it('gives a failed attempt’s tokens back: the request that fails over leaves the quota whole', async () => {
    let failures = 1;
    const flaky = {
      complete: (request: ChatRequest, options: { signal?: AbortSignal }) => {
        if (failures-- > 0) return Promise.reject(Object.assign(new Error('overloaded'), { status: 503 }));
        return clients[0]!.complete(request, options);
      },
    };
    const r = new ConcurrentRouter<ChatRequest, ChatCompletion>({
      clock: { now: () => 50_000 },
      endpoints: [
        { name: 'quota', client: flaky, maxConcurrent: 4, tokensPerMinute: 1_000 },
        { name: 'spare', client: clients[1]!, maxConcurrent: 4, priority: 1 },
      ],
    });
    const failedOver = await r.route(ask('q', 900));
    expect(failedOver.attempts.map((a) => `${a.endpoint}:${a.outcome}`)).toEqual(['quota:failed', 'spare:ok']);
    // The 905 reserved for the failed attempt came back: 905 fit again.
    expect((await r.route(ask('q', 900))).endpoint).toBe('quota');
  });

  it('shares one token budget between routers through the router limiter, named in the data too', async () => {
    const shared = new MemoryRateLimiter();
    const unregister = registerResource('rateLimiter', 'tokens-shared', shared);
    try {
      const data = {
        limiter: 'tokens-shared',
        endpoints: [
          { name: 'quota', client: 'quota', maxConcurrent: 4, tokensPerMinute: 1_000 },
          { name: 'spare', client: 'spare', maxConcurrent: 4, priority: 1 },
        ],
      };
      const named = { clients: { quota: clients[0]!, spare: clients[1]! } };
      const a = routerFromConfig(data, named);
      const b = routerFromConfig(data, named);
      expect((await a.router.route(ask('q', 700))).endpoint).toBe('quota');
      answerChars = 3_000; // 751 used of 105 reserved
      expect((await b.router.route(ask('q', 100))).endpoint).toBe('quota');
      // 11 + 751 = 762 of 1,000 spent by the two routers together: a third 705 does not fit in either.
      expect((await a.router.route(ask('q', 700))).endpoint).toBe('spare');
      expect((await b.router.route(ask('q', 700))).endpoint).toBe('spare');
      expect((await b.router.route(ask('q', 100))).endpoint).toBe('quota');
      await a.close();
      await b.close();
    } finally {
      unregister();
    }
  });

  it('corrects a stream from its usage chunk', async () => {
    const r = router();
    answerChars = 400; // 100 tokens of answer
    const chunks = [];
    for await (const chunk of r.stream({ ...ask('q', 10), stream_options: { include_usage: true } }))
      chunks.push(chunk);
    expect(chunks.at(-1)).toMatchObject({ usage: { total_tokens: 101 } });
    // 101 used, not the 15 estimated: 899 left, so 905 goes elsewhere and 895 fits.
    expect((await r.route(ask('q', 900))).endpoint).toBe('spare');
    expect((await r.route(ask('q', 890))).endpoint).toBe('quota');
  });

  it('rejects a bad tokensPerMinute, limiter or estimate with a TypeError naming it', async () => {
    const endpoint = { name: 'e', client: clients[0]!, maxConcurrent: 1 };
    expect(() => new ConcurrentRouter({ endpoints: [{ ...endpoint, tokensPerMinute: 0 }] })).toThrow(
      'Expected `endpoints[0].tokensPerMinute` to be a positive integer',
    );
    expect(() => new ConcurrentRouter({ endpoints: [endpoint], limiter: {} as never })).toThrow(
      'Expected `limiter` to be a RateLimiter',
    );
    const r = new ConcurrentRouter({
      endpoints: [{ ...endpoint, tokensPerMinute: 10 }],
      estimateTokens: () => Number.NaN,
    });
    await expect(r.route(ask('q', 1))).rejects.toThrow('Expected `estimateTokens()` to be a finite number >= 0');
    expect(() =>
      routerFromConfig({ limiter: 5, endpoints: [{ ...endpoint, client: 'c' }] }, { clients: { c: clients[0]! } }),
    ).toThrow('Expected `limiter` to be the name of a registered rate limiter');
  });
});

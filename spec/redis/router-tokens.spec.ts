import { ChatClient, type ChatCompletion, type ChatRequest } from '../../lib/llm';
import { RedisRateLimiter } from '../../lib/redis';
import { ConcurrentRouter } from '../../lib/router';
import { LocalProvider } from '../../lib/testing';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

const ask = (content: string, maxTokens: number): ChatRequest => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  max_tokens: maxTokens,
});

describe('ConcurrentRouter tokensPerMinute shared through a RedisRateLimiter', () => {
  let quota: LocalProvider;
  let spare: LocalProvider;
  let clients: ChatClient[];
  let answerChars = 40;
  beforeAll(async () => {
    quota = new LocalProvider({ reply: () => 'x'.repeat(answerChars) });
    spare = new LocalProvider();
    clients = [new ChatClient({ baseURL: await quota.start() }), new ChatClient({ baseURL: await spare.start() })];
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await quota.close();
    await spare.close();
  });

  it('charges one instance’s overdraft to the budget another instance reads, and refunds across them too', async () => {
    const prefix = uniquePrefix('router-tokens');
    const limiters = [0, 1].map(() => new RedisRateLimiter({ url: testRedisUrl(), prefix }));
    const [a, b] = limiters.map(
      (limiter) =>
        new ConcurrentRouter<ChatRequest, ChatCompletion>({
          limiter,
          endpoints: [
            // 6,000 a minute: a token every 10 ms, so the few ms the test takes refill almost nothing.
            { name: 'quota', client: clients[0]!, maxConcurrent: 4, tokensPerMinute: 6_000 },
            { name: 'spare', client: clients[1]!, maxConcurrent: 4, priority: 1 },
          ],
        }),
    ) as [ConcurrentRouter<ChatRequest, ChatCompletion>, ConcurrentRouter<ChatRequest, ChatCompletion>];
    try {
      // Instance a reserves 5,005 and uses 11: the refund lets instance b reserve 5,005 at once.
      expect((await a.route(ask('q', 5_000))).endpoint).toBe('quota');
      expect((await b.route(ask('q', 5_000))).endpoint).toBe('quota');
      // b's request estimated 15 and used 1 + 7,000, more than the whole minute: a waits for that overdraft
      // (about 10 s of it), so its next request goes to the spare endpoint.
      answerChars = 28_000;
      expect((await b.route(ask('q', 10))).endpoint).toBe('quota');
      answerChars = 40;
      expect((await a.route(ask('q', 10))).endpoint).toBe('spare');
      expect(limiters.map((l) => l.errors)).toEqual([0, 0]);
    } finally {
      await Promise.all(limiters.map((l) => l.close()));
      const client = await connectTestClient();
      await deleteKeys(client, prefix);
      client.destroy();
    }
  });
});

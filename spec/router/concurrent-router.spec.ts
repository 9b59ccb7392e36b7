import { Cache } from '../../lib';
import {
  ChatClient,
  chatKeyPolicy,
  ProviderError,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
} from '../../lib/llm';
import { ConcurrentRouter, isRouterError, type EndpointClient, type RouterOptions } from '../../lib/router';
import { LocalProvider } from '../../lib/testing';
import { eventually } from '../support/async';

// Every endpoint here is a LocalProvider on 127.0.0.1 reached through a ChatClient, unless a test needs
// an error no HTTP provider of ours can produce (then a small in-process client says so).

const request = (content: string): ChatRequest => ({
  model: 'any',
  messages: [{ role: 'user', content }],
  temperature: 0,
});

interface Node {
  readonly provider: LocalProvider;
  readonly client: ChatClient;
}

describe('ConcurrentRouter', () => {
  const nodes: Node[] = [];
  let now = 1_000_000;
  const clock = { now: () => now };

  async function node(options: ConstructorParameters<typeof LocalProvider>[0] = {}): Promise<Node> {
    const provider = new LocalProvider(options);
    const client = new ChatClient({ baseURL: await provider.start(), apiKey: 'k', connections: 32 });
    const made = { provider, client };
    nodes.push(made);
    return made;
  }

  afterEach(async () => {
    await Promise.all(
      nodes.splice(0).map(async ({ provider, client }) => {
        provider.resume();
        await client.close();
        await provider.close();
      }),
    );
  });

  function router(
    options: Partial<RouterOptions<ChatRequest, ChatCompletion, ChatCompletionChunk>> &
      Pick<RouterOptions, 'endpoints'>,
  ) {
    return new ConcurrentRouter<ChatRequest, ChatCompletion, ChatCompletionChunk>({ clock, ...options });
  }

  /** Endpoints `a` then `b` (by priority), each with `maxConcurrent` permits. */
  function pair(a: Node, b: Node, options: Partial<RouterOptions> = {}, maxConcurrent = 4) {
    return router({
      ...options,
      endpoints: [
        { name: 'a', client: a.client, maxConcurrent },
        { name: 'b', client: b.client, maxConcurrent, priority: 1 },
      ],
    });
  }

  describe('concurrency caps', () => {
    it('never puts more than maxConcurrent requests in flight on an endpoint, spilling over to the next', async () => {
      const a = await node({ latency: '30ms' });
      const b = await node({ latency: '30ms' });
      const r = router({
        spillover: true,
        endpoints: [
          { name: 'a', client: a.client, model: 'model-a', maxConcurrent: 2 },
          { name: 'b', client: b.client, model: 'model-b', maxConcurrent: 3, priority: 1 },
        ],
      });
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => r.route(request(`q${i}`))));
      expect(a.provider.maxInFlight).toBeLessThanOrEqual(2);
      expect(b.provider.maxInFlight).toBeLessThanOrEqual(3);
      expect(a.provider.requests + b.provider.requests).toBe(30);
      expect(b.provider.requests).toBeGreaterThan(0);
      expect(new Set(results.map((x) => x.model))).toEqual(new Set(['model-a', 'model-b']));
      expect(r.health().map((h) => h.inFlight)).toEqual([0, 0]);
    });

    it('holds the permit for the whole stream, and gives it back when the caller stops early', async () => {
      const a = await node({ chunkDelay: '5ms' });
      const r = router({ endpoints: [{ name: 'a', client: a.client, maxConcurrent: 2 }] });
      const texts = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          let text = '';
          for await (const chunk of r.stream(request(`stream ${i}`))) text += chunk.choices[0]?.delta.content ?? '';
          return text;
        }),
      );
      expect(texts.every((t, i) => t.includes(`stream ${i}`))).toBe(true);
      expect(a.provider.maxInFlight).toBe(2);

      a.provider.configure({ chunkDelay: '200ms', reply: () => 'word '.repeat(100) });
      for await (const _chunk of r.stream(request('stop early'))) break;
      expect(r.health()[0]).toMatchObject({ inFlight: 0 });
      await eventually(() => a.provider.inFlight === 0, 2_000);
    });
  });

  describe('fallback', () => {
    it('answers from the next endpoint when the preferred one fails, and attempts tell what happened', async () => {
      const primary = await node();
      const backup = await node();
      const r = router({
        endpoints: [
          { name: 'primary', client: primary.client, model: 'big', maxConcurrent: 4 },
          { name: 'backup', client: backup.client, model: 'small', maxConcurrent: 4, priority: 1 },
        ],
      });
      const fallbacks: string[] = [];
      r.on('fallback', ({ from }) => fallbacks.push(from));
      primary.provider.failNext(1, 503);
      const result = await r.route(request('hello'), { preferredModel: 'big' });
      expect(result).toMatchObject({ model: 'small', endpoint: 'backup', cached: false });
      expect(result.response.choices[0]?.message.content).toContain('hello');
      expect(result.attempts.map((a) => [a.endpoint, a.outcome, a.verdict])).toEqual([
        ['primary', 'failed', 'next'],
        ['backup', 'ok', undefined],
      ]);
      expect((result.attempts[0]?.error as ProviderError).status).toBe(503);
      expect([primary.provider.requests, backup.provider.requests]).toEqual([1, 1]);
      expect(fallbacks).toEqual(['primary']);
    });

    it('tries the preferred model first even when the strategy would not', async () => {
      const cheap = await node();
      const best = await node();
      const r = router({
        endpoints: [
          { name: 'cheap', client: cheap.client, model: 'mini', maxConcurrent: 4 },
          { name: 'best', client: best.client, model: 'large', maxConcurrent: 4, priority: 5 },
        ],
      });
      expect((await r.route(request('x'), { preferredModel: 'large' })).endpoint).toBe('best');
      expect((await r.route(request('x'))).endpoint).toBe('cheap');
    });

    it('does not send a request refused with a 400 to another endpoint', async () => {
      const a = await node();
      const b = await node();
      const r = pair(a, b);
      a.provider.failNext(1, 400);
      const error = await r.route(request('bad')).catch((e: unknown) => e);
      expect(isRouterError(error) && error.reason).toBe('request');
      expect(isRouterError(error) && error.status).toBe(400);
      expect(b.provider.requests).toBe(0);
    });

    it('lets a classifier send a 400 elsewhere', async () => {
      const a = await node();
      const b = await node();
      const r = pair(a, b, { classify: (error) => ((error as ProviderError).status === 400 ? 'next' : undefined) });
      a.provider.failNext(1, 400);
      await expect(r.route(request('odd'))).resolves.toMatchObject({ endpoint: 'b' });
    });

    it('moves a request that is too long to an endpoint with a larger context window', async () => {
      const tooLong = new ProviderError("This model's maximum context length is 8192 tokens.", {
        status: 400,
        providerCode: 'context_length_exceeded',
      });
      const calls: string[] = [];
      const client = (name: string, fail: boolean): EndpointClient<ChatRequest, string> => ({
        async complete() {
          calls.push(name);
          if (fail) throw tooLong;
          return `answer from ${name}`;
        },
      });
      const r = new ConcurrentRouter<ChatRequest, string>({
        clock,
        endpoints: [
          { name: 'small', client: client('small', true), maxConcurrent: 1, contextWindow: 8_192 },
          { name: 'same', client: client('same', true), maxConcurrent: 1, contextWindow: 8_192, priority: 1 },
          { name: 'large', client: client('large', false), maxConcurrent: 1, contextWindow: 128_000, priority: 2 },
        ],
      });
      const result = await r.route(request('a very long document'));
      expect(result.response).toBe('answer from large');
      expect(calls).toEqual(['small', 'large']);
      expect(r.health().every((h) => h.state === 'healthy')).toBe(true);
    });

    it('gives one error listing every attempt when every endpoint fails', async () => {
      const a = await node();
      const b = await node();
      const r = pair(a, b, {}, 1);
      a.provider.failNext(1, 500);
      b.provider.failNext(1, 502);
      const error = await r.route(request('doomed')).catch((e: unknown) => e);
      expect(isRouterError(error)).toBe(true);
      if (!isRouterError(error)) return;
      expect(error.reason).toBe('exhausted');
      expect(error.attempts.map((a) => [a.endpoint, (a.error as ProviderError).status])).toEqual([
        ['a', 500],
        ['b', 502],
      ]);
      expect(error.message).toMatch(/^No endpoint answered: tried: a failed \(.*\) after \d+ ms; b failed/);
    });

    it('moves past an endpoint that exceeds its timeout, and aborts its request', async () => {
      const slow = await node({ latency: '20s' });
      const fast = await node();
      const r = new ConcurrentRouter<ChatRequest, ChatCompletion>({
        endpoints: [
          { name: 'slow', client: slow.client, maxConcurrent: 1, timeout: '100ms' },
          { name: 'fast', client: fast.client, maxConcurrent: 1, priority: 1 },
        ],
      });
      const result = await r.route(request('hurry'));
      expect(result.endpoint).toBe('fast');
      expect(result.attempts[0]).toMatchObject({ endpoint: 'slow', outcome: 'timeout', verdict: 'next' });
      await eventually(() => slow.provider.inFlight === 0, 2_000);
    });

    it('falls back before the first chunk of a stream', async () => {
      const a = await node();
      const b = await node();
      const r = pair(a, b, {}, 1);
      a.provider.failNext(1, 500);
      let text = '';
      for await (const chunk of r.stream(request('stream me'))) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toContain('stream me');
      expect([a.provider.requests, b.provider.requests]).toEqual([1, 1]);
    });
  });

  describe('deadlines and signals', () => {
    it('rejects by the deadline while every endpoint is slow, and aborts the requests', async () => {
      const a = await node({ latency: '20s' });
      const r = new ConcurrentRouter<ChatRequest, ChatCompletion>({
        endpoints: [{ name: 'a', client: a.client, maxConcurrent: 1 }],
      });
      const error = await r.route(request('late'), { deadline: '150ms' }).catch((e: unknown) => e);
      expect(isRouterError(error) && [error.reason, error.attempts[0]?.outcome]).toEqual(['deadline', 'timeout']);
      await eventually(() => a.provider.inFlight === 0, 2_000);
      // The caller's deadline cut the request, not the endpoint's own timeout: no mark against it.
      expect(r.health()[0]).toMatchObject({ state: 'healthy', errorRate: 0 });
    });

    it('rejects by the deadline while waiting for a permit, and leaves the queue', async () => {
      const a = await node();
      a.provider.pause();
      const r = new ConcurrentRouter<ChatRequest, ChatCompletion>({
        endpoints: [{ name: 'a', client: a.client, maxConcurrent: 1 }],
      });
      const holder = r.route(request('holder'));
      await eventually(() => a.provider.inFlight === 1);
      const error = await r.route(request('waiter'), { deadline: '100ms' }).catch((e: unknown) => e);
      expect(isRouterError(error) && [error.reason, error.attempts[0]?.outcome]).toEqual(['deadline', 'no-permit']);
      expect(r.health()[0]).toMatchObject({ inFlight: 1, queued: 0 });
      a.provider.resume();
      await holder;
      expect(a.provider.requests).toBe(1);
    });

    it('stops at once when the caller aborts, with the caller’s reason', async () => {
      const a = await node({ latency: '20s' });
      const r = new ConcurrentRouter<ChatRequest, ChatCompletion>({
        endpoints: [{ name: 'a', client: a.client, maxConcurrent: 1 }],
      });
      const controller = new AbortController();
      const pending = r.route(request('cancel me'), { signal: controller.signal });
      await eventually(() => a.provider.inFlight === 1);
      controller.abort(new Error('user left'));
      await expect(pending).rejects.toThrow('user left');
      expect(r.health()[0]).toMatchObject({ inFlight: 0, state: 'healthy' });
    });
  });

  describe('cooldown', () => {
    it('sets an endpoint aside for its Retry-After, then brings it back with one probe', async () => {
      const limited = await node({ rateLimit: 1, clock });
      const other = await node();
      const r = router({
        endpoints: [
          { name: 'limited', client: limited.client, maxConcurrent: 4 },
          { name: 'other', client: other.client, maxConcurrent: 4, priority: 1 },
        ],
      });
      const events: string[] = [];
      r.on('cooldown', ({ endpoint, forMs }) => events.push(`cooldown ${endpoint} ${forMs}`));
      r.on('recovered', ({ endpoint }) => events.push(`recovered ${endpoint}`));

      now = 5_000_200; // 800 ms before the provider's one-second window ends
      expect((await r.route(request('one'))).endpoint).toBe('limited');
      const second = await r.route(request('two'));
      expect(second.attempts.map((a) => [a.endpoint, a.outcome])).toEqual([
        ['limited', 'failed'],
        ['other', 'ok'],
      ]);
      expect(events).toEqual(['cooldown limited 800']);
      expect(r.health()[0]).toMatchObject({ state: 'cooling', cooldownUntil: 5_001_000 });

      // While it cools, requests skip it without asking it.
      const during = await r.route(request('three'));
      expect(during.attempts.map((a) => a.endpoint)).toEqual(['other']);
      expect(limited.provider.requests).toBe(2);

      now = 5_001_000;
      expect(r.health()[0]?.state).toBe('probing');
      const probe = await r.route(request('four'));
      expect(probe.attempts[0]).toMatchObject({ endpoint: 'limited', outcome: 'ok', probe: true });
      expect(events).toEqual(['cooldown limited 800', 'recovered limited']);
      expect(r.health()[0]?.state).toBe('healthy');
    });

    it('sets an endpoint aside after repeated failures, for the cooldown', async () => {
      const a = await node();
      const b = await node();
      const r = pair(a, b, { failureThreshold: 2, cooldown: '10s' });
      a.provider.failNext(2, 500);
      await r.route(request('1'));
      expect(r.health()[0]?.state).toBe('healthy');
      await r.route(request('2'));
      expect(r.health()[0]).toMatchObject({ state: 'cooling', cooldownUntil: now + 10_000, errorRate: 1 });
      await r.route(request('3'));
      expect(a.provider.requests).toBe(2);
      now += 10_000;
      a.provider.failNext(1, 500);
      const failedProbe = await r.route(request('4'));
      expect(failedProbe.attempts[0]).toMatchObject({ endpoint: 'a', probe: true, outcome: 'failed' });
      expect(r.health()[0]).toMatchObject({ state: 'cooling', cooldownUntil: now + 10_000 });
    });
  });

  describe('caching around the router', () => {
    it('answers a repeated request from the cache without taking a permit or calling an endpoint', async () => {
      const a = await node();
      a.provider.pause();
      const r = router({
        cached: { cache: new Cache(), ttl: '1m', ...chatKeyPolicy({ tenant: false }) },
        endpoints: [{ name: 'a', client: a.client, maxConcurrent: 1 }],
      });
      const first = r.route(request('cache me'));
      await eventually(() => a.provider.inFlight === 1);
      a.provider.resume();
      expect(await first).toMatchObject({ endpoint: 'a', cached: false });

      // Occupy the only permit; a cached answer must not need it.
      a.provider.pause();
      const busy = r.route(request('something else'));
      await eventually(() => a.provider.inFlight === 1);
      const hit = await r.route(request('cache me'));
      expect(hit).toMatchObject({ endpoint: undefined, cached: true, attempts: [] });
      expect(hit.response.choices[0]?.message.content).toContain('cache me');
      expect(a.provider.inFlight).toBe(1);
      a.provider.resume();
      await busy;
      expect(a.provider.requests).toBe(2);
    });

    it('caches streams too, replaying them without a permit', async () => {
      const a = await node();
      const r = router({
        cached: { cache: new Cache(), ttl: '1m', ...chatKeyPolicy({ tenant: false }) },
        endpoints: [{ name: 'a', client: a.client, maxConcurrent: 1 }],
      });
      const read = async () => {
        let text = '';
        for await (const chunk of r.stream(request('stream once'))) text += chunk.choices[0]?.delta.content ?? '';
        return text;
      };
      const [x, y] = await Promise.all([read(), read()]);
      expect(await read()).toBe(x);
      expect(y).toBe(x);
      expect(a.provider.requests).toBe(1);
    });
  });

  describe('strategies', () => {
    const stub = (name: string, seen: string[]): EndpointClient<ChatRequest, string> => ({
      async complete() {
        seen.push(name);
        return name;
      },
    });

    it('orders by moving average latency with `latency`', async () => {
      const seen: string[] = [];
      const r = new ConcurrentRouter<ChatRequest, string>({
        strategy: 'latency',
        clock,
        endpoints: [
          {
            name: 'x',
            client: {
              async complete() {
                now += 50;
                seen.push('x');
                return 'x';
              },
            },
            maxConcurrent: 1,
          },
          {
            name: 'y',
            client: {
              async complete() {
                now += 5;
                seen.push('y');
                return 'y';
              },
            },
            maxConcurrent: 1,
          },
        ],
      });
      // Both unmeasured: priority order, x first; then y is unmeasured (0) and goes first; then y, faster.
      await r.route(request('1'));
      await r.route(request('2'));
      await r.route(request('3'));
      expect(seen).toEqual(['x', 'y', 'y']);
      expect(r.health().map((h) => h.latencyMs)).toEqual([50, 5]);
    });

    it('spreads traffic by weight with `weighted`', async () => {
      const seen: string[] = [];
      let draw = 0;
      const draws = [0.1, 0.9, 0.9, 0.1];
      const r = new ConcurrentRouter<ChatRequest, string>({
        strategy: 'weighted',
        random: () => draws[draw++ % draws.length]!,
        endpoints: [
          { name: 'light', client: stub('light', seen), maxConcurrent: 1, weight: 1 },
          { name: 'heavy', client: stub('heavy', seen), maxConcurrent: 1, weight: 9 },
        ],
      });
      await r.route(request('1'));
      await r.route(request('2'));
      // 0.1^(1/1) < 0.9^(1/9): heavy first; 0.9^(1/1) = 0.9 > 0.1^(1/9) ≈ 0.774: light first.
      expect(seen).toEqual(['heavy', 'light']);
    });

    it('prefers the endpoint with the most free capacity with `least-busy`', async () => {
      const held: (() => void)[] = [];
      const seen: string[] = [];
      const slow = (name: string): EndpointClient<ChatRequest, string> => ({
        complete: () => {
          seen.push(name);
          return new Promise((resolve) => held.push(() => resolve(name)));
        },
      });
      const r = new ConcurrentRouter<ChatRequest, string>({
        strategy: 'least-busy',
        endpoints: [
          { name: 'two', client: slow('two'), maxConcurrent: 2 },
          { name: 'four', client: slow('four'), maxConcurrent: 4, priority: 1 },
        ],
      });
      const pending = [r.route(request('1')), r.route(request('2')), r.route(request('3'))];
      await eventually(() => seen.length === 3);
      // 0/2 = 0/4: priority picks `two`; then 1/2 > 0/4 picks `four`; then 1/2 > 1/4 picks `four`.
      expect(seen).toEqual(['two', 'four', 'four']);
      held.forEach((release) => release());
      await Promise.all(pending);
    });
  });

  it('rejects bad options when it is made, naming them', () => {
    const client = { complete: async () => 'x' };
    expect(() => new ConcurrentRouter({ endpoints: [] })).toThrow(
      /Expected `endpoints` to be a non-empty array of endpoints/,
    );
    expect(() => new ConcurrentRouter({ endpoints: [{ name: 'a', client, maxConcurrent: 0 }] })).toThrow(
      /Expected `endpoints\[0\].maxConcurrent` to be a positive integer/,
    );
    expect(() => new ConcurrentRouter({ endpoints: [{ name: 'a', client: {} as never, maxConcurrent: 1 }] })).toThrow(
      /Expected `endpoints\[0\].client` to be a client with complete/,
    );
    expect(
      () =>
        new ConcurrentRouter({
          endpoints: [
            { name: 'a', client, maxConcurrent: 1 },
            { name: 'a', client, maxConcurrent: 1 },
          ],
        }),
    ).toThrow(/two are named "a"/);
    expect(
      () =>
        new ConcurrentRouter({ endpoints: [{ name: 'a', client, maxConcurrent: 1 }], strategy: 'fastest' as never }),
    ).toThrow(/Expected `strategy` to be one of 'priority', 'least-busy', 'latency', 'weighted'/);
  });
});

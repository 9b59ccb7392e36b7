import {
  Cache,
  Cached,
  CircuitBreaker,
  Fallback,
  RateLimited,
  Retry,
  describePolicies,
  isRateLimitError,
  MemoryRateLimiter,
} from '../../lib';

// The recommended stack for a model client, outermost first (the decorator nearest the method wraps
// first): @Fallback > @Cached > @Retry > @CircuitBreaker > @RateLimited.
// - a cache hit returns before the limiter and the breaker: it spends no token;
// - the fallback sits outside the cache: its answer is never stored as the primary's;
// - retries happen inside the cache's single flight: concurrent misses share one retried call.

function http(status: number): Error {
  return Object.assign(new Error(`provider answered ${status}`), { status });
}

function makeClient(limit = 2) {
  let now = 1_000_000;
  const clock = { now: () => now };
  const cache = new Cache({ clock });
  const limiter = new MemoryRateLimiter({ clock });

  class ModelClient {
    providerCalls = 0;
    /** How many of the next provider calls fail with a 503. */
    failures = 0;

    @Fallback({ value: 'Sorry, the assistant is busy; please try again in a minute.' })
    @Cached({ cache, ttl: '10m' })
    @Retry({ attempts: 3, base: 1, max: 1, random: () => 0, on: (e) => (e as { status?: number }).status === 503 })
    @CircuitBreaker({ threshold: 5, halfOpenAfter: '30s', clock })
    @RateLimited({ limit, interval: '1m', burst: limit, limiter })
    async complete(prompt: string): Promise<string> {
      this.providerCalls++;
      await new Promise((resolve) => setImmediate(resolve));
      if (this.failures > 0) {
        this.failures--;
        throw http(503);
      }
      return `answer to ${prompt}`;
    }
  }
  return { client: new ModelClient(), cache, advance: (ms: number) => (now += ms) };
}

describe('the recommended decorator stack', () => {
  it('answers repeated questions from the cache without spending rate-limit tokens', async () => {
    const { client } = makeClient();
    await expect(client.complete('a')).resolves.toBe('answer to a');
    for (let i = 0; i < 10; i++) await expect(client.complete('a')).resolves.toBe('answer to a');
    // The quota (2 a minute) still has room for a second distinct question.
    await expect(client.complete('b')).resolves.toBe('answer to b');
    expect(client.providerCalls).toBe(2);
  });

  it('degrades to the fallback past the limit, and never caches the fallback as the answer', async () => {
    const { client, advance } = makeClient();
    await client.complete('a');
    await client.complete('b');
    const degraded = await client.complete('c');
    expect(degraded).toMatch(/busy/);
    expect(client.providerCalls).toBe(2);
    // Once the quota refills, the real answer comes, proving the fallback was not stored under 'c'.
    advance(60_000);
    await expect(client.complete('c')).resolves.toBe('answer to c');
    expect(client.providerCalls).toBe(3);
  });

  it('retries transient provider errors inside the cache fill, once for all concurrent callers', async () => {
    // Every attempt is a real provider request, so each one spends a token: room for three.
    const { client, cache } = makeClient(3);
    client.failures = 2;
    const answers = await Promise.all(Array.from({ length: 50 }, () => client.complete('d')));
    expect(new Set(answers)).toEqual(new Set(['answer to d']));
    // One fill, three provider attempts (two 503s, then success), shared by all 50 callers.
    expect(client.providerCalls).toBe(3);
    expect(cache.stats().total).toMatchObject({ fills: 1, coalesced: 49 });
  });

  it('lists every policy of the method, nearest the method first', () => {
    const { client } = makeClient();
    const [method] = describePolicies(client.constructor as new () => unknown);
    expect(method?.policies.map((p) => p.kind)).toEqual([
      'rateLimited',
      'circuitBreaker',
      'retry',
      'cached',
      'fallback',
    ]);
  });

  it('lets a rate-limit rejection reach the caller when no fallback is configured', async () => {
    const cache = new Cache();
    class Bare {
      @Cached({ cache })
      @RateLimited({ limit: 1, interval: '1m', burst: 1 })
      async complete(prompt: string): Promise<string> {
        return prompt;
      }
    }
    const bare = new Bare();
    await bare.complete('x');
    await bare.complete('x'); // a hit: no token
    const error = await bare.complete('y').catch((e: unknown) => e);
    expect(isRateLimitError(error)).toBe(true);
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
  });
});

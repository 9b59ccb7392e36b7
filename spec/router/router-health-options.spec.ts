import { registerResource, UnknownResourceError } from '../../lib';
import { ChatClient, type ChatCompletion, type ChatRequest } from '../../lib/llm';
import { ConcurrentRouter, MemoryRouterHealth, type RouterOptions } from '../../lib/router';
import { LocalProvider } from '../../lib/testing';
import { eventually } from '../support/async';
import { manualClock } from '../ports/cache-store-contract';

const request = (content: string): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content }] });

describe('ConcurrentRouter health options', () => {
  let provider: LocalProvider;
  let client: ChatClient;
  const clock = manualClock();
  beforeAll(async () => {
    provider = new LocalProvider();
    client = new ChatClient({ baseURL: await provider.start(), apiKey: 'k' });
  });
  beforeEach(() => {
    provider.resetCounters();
    provider.clearFailures();
  });
  afterAll(async () => {
    await client.close();
    await provider.close();
  });

  const router = (options: Partial<RouterOptions> = {}) =>
    new ConcurrentRouter<ChatRequest, ChatCompletion>({
      endpoints: [{ name: 'p', client, maxConcurrent: 4 }],
      clock,
      ...options,
    });
  const outcome = (r: ConcurrentRouter<ChatRequest, ChatCompletion>, content = 'q') =>
    r.route(request(content)).then(
      (result) => (result.attempts[0]?.probe ? 'probe' : 'ok'),
      () => 'failed',
    );

  it('sets an endpoint aside after `failures.threshold` failures within the window, successes between or not', async () => {
    const r = router({ failureThreshold: 10, failures: { threshold: 3, window: '10s' }, cooldown: '1m' });
    provider.failNext(1, 500);
    expect(await outcome(r)).toBe('failed');
    clock.advance(11_000); // the first failure leaves the window
    for (const fails of [true, false, true, false]) {
      if (fails) provider.failNext(1, 500);
      expect(await outcome(r)).toBe(fails ? 'failed' : 'ok');
    }
    expect(r.health()[0]?.state).toBe('healthy');
    provider.failNext(1, 500);
    expect(await outcome(r)).toBe('failed');
    expect(r.health()[0]).toMatchObject({ state: 'cooling', cooldownUntil: clock.now() + 60_000 });
  });

  it('shares health between routers through a MemoryRouterHealth: one Retry-After for both, one probe', async () => {
    const health = new MemoryRouterHealth({ clock, instance: 'here' });
    const [a, b] = [router({ health }), router({ health })];
    const cooldowns: number[] = [];
    b.on('cooldown', ({ forMs, error }) => void (error === undefined && cooldowns.push(forMs)));
    provider.failNext(1, 429, { retryAfter: '2s' });
    expect(await outcome(a)).toBe('failed');
    await eventually(() => b.health()[0]?.state === 'cooling');
    expect(cooldowns).toEqual([2_000]);
    expect(await outcome(b)).toBe('failed');
    expect(provider.requests).toBe(1);

    clock.advance(2_000);
    provider.pause();
    const probes = [outcome(a, 'x'), outcome(b, 'y'), outcome(a, 'z'), outcome(b, 'w')];
    await eventually(() => provider.inFlight === 1);
    provider.resume();
    expect((await Promise.all(probes)).sort()).toEqual(['failed', 'failed', 'failed', 'probe']);
    await eventually(() => a.health()[0]?.state === 'healthy' && b.health()[0]?.state === 'healthy');
    expect(provider.requests).toBe(2);
    await Promise.all([a.close(), b.close()]);
  });

  it('finds a store registered by name, and reports a missing one as a `healthError`', async () => {
    const health = new MemoryRouterHealth({ clock });
    const unregister = registerResource('routerHealth', 'shared-health', health);
    try {
      const named = router({ health: 'shared-health' });
      provider.failNext(1, 429, { retryAfter: '1s' });
      expect(await outcome(named)).toBe('failed');
      expect(
        (await health.read('p', { threshold: 3, windowFailures: 0, windowMs: 0, cooldownMs: 1, probeLeaseMs: 1 }))
          .state,
      ).toBe('cooling');
      const errors: unknown[] = [];
      const missing = router({ health: 'nobody' });
      missing.on('healthError', ({ error }) => void errors.push(error));
      await eventually(() => errors.length === 1);
      expect(errors[0]).toBeInstanceOf(UnknownResourceError);
      expect(await outcome(missing)).toBe('ok'); // routing goes on
      provider.failNext(1, 429, { retryAfter: '1s' });
      expect(await outcome(missing)).toBe('failed');
      await eventually(() => errors.length === 2); // recording the failure failed too: decided locally
      expect(missing.health()[0]?.state).toBe('cooling');
      expect(await outcome(missing)).toBe('failed');
      expect(provider.requests).toBe(3); // the 429 of `named`, then `missing`: one answer, one 429, none while cooling
    } finally {
      unregister();
    }
  });

  it('rejects bad health options with what was expected', () => {
    expect(() => router({ failures: { threshold: 0, window: '1s' } })).toThrow(/failures\.threshold.*positive integer/);
    expect(() => router({ failures: { threshold: 2, window: 'soon' } as never })).toThrow(/failures\.window/);
    expect(() => router({ failures: { threshold: 2, window: '1s', extra: 1 } as never })).toThrow(/extra/);
    expect(() => router({ health: {} as never })).toThrow(/health.*EndpointHealthStore/);
    expect(() => router({ onHealthStoreError: 'panic' as never })).toThrow(/onHealthStoreError/);
  });
});

import { MemoryRateLimiter, rateLimited, registerResource } from '../../lib';
import { instrumentRateLimiter, METRICS } from '../../lib/otel';
import { Telemetry, valueOf } from './telemetry';

// Waits are published on a diagnostics channel by the policy of a `mode: 'wait'` function; the
// instrumented limiter counts those of its own calls. Time is Jest's fake clock, which the limiter reads.

describe('cachet/otel rate limit waits', () => {
  let telemetry: Telemetry;

  beforeEach(() => {
    jest.useFakeTimers();
    telemetry = new Telemetry();
  });

  afterEach(async () => {
    jest.useRealTimers();
    await telemetry.close();
  });

  it('counts the calls that queued for a slot of the instrumented limiter, and only its own', async () => {
    const clock = { now: () => Date.now() };
    const limiter = new MemoryRateLimiter({ clock });
    const other = new MemoryRateLimiter({ clock });
    const options = { limit: 1, interval: '1s', mode: 'wait', maxWait: '10s' } as const;
    const run = rateLimited(async (id: string) => id, { ...options, limiter });
    const elsewhere = rateLimited(async (id: string) => id, { ...options, limiter: other });
    const stop = instrumentRateLimiter(limiter, { meterProvider: telemetry.meterProvider });

    const calls = ['a', 'b', 'c'].map((id) => run(id));
    const others = ['x', 'y'].map((id) => elsewhere(id));
    await jest.advanceTimersByTimeAsync(2_000);
    await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c']);
    await expect(Promise.all(others)).resolves.toEqual(['x', 'y']);

    const metrics = await telemetry.collect();
    const memory = { 'cachet.limiter': 'memory' };
    expect(valueOf(metrics, METRICS.rateLimitWaits, memory)).toBe(2);
    // Each waiting call was refused once before it queued, then admitted.
    expect(valueOf(metrics, METRICS.rateLimitDecisions, { ...memory, 'cachet.decision': 'admitted' })).toBe(3);
    stop();
    const after = run('d');
    await jest.advanceTimersByTimeAsync(1_000);
    await after;
    expect(valueOf(await telemetry.collect(), METRICS.rateLimitWaits, memory)).toBe(2);
  });

  it('counts the waits of a limiter named by string for the limiter registered under that name', async () => {
    const clock = { now: () => Date.now() };
    const limiter = new MemoryRateLimiter({ clock });
    const unregister = registerResource('rateLimiter', 'otel-waits', limiter);
    const run = rateLimited(async (id: string) => id, {
      limit: 1,
      interval: '1s',
      mode: 'wait',
      maxWait: '10s',
      limiter: 'otel-waits',
    });
    const stop = instrumentRateLimiter(limiter, { meterProvider: telemetry.meterProvider });
    try {
      const calls = ['a', 'b', 'c'].map((id) => run(id));
      await jest.advanceTimersByTimeAsync(2_000);
      await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c']);
      const metrics = await telemetry.collect();
      expect(valueOf(metrics, METRICS.rateLimitWaits, { 'cachet.limiter': 'memory' })).toBe(2);
    } finally {
      stop();
      unregister();
    }
  });
});

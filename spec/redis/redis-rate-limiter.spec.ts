import fc from 'fast-check';
import { adjustmentUs, costUs, gcraAdjust, gcraStep, toRateRule } from '../../lib/rate-limit/gcra';
import { isRateLimitError } from '../../lib/rate-limit/rate-limit-error';
import { rateLimited } from '../../lib/rate-limit/rate-limited';
import type { RedisClientLike } from '../../lib/redis/connection';
import { GCRA_ADJUST, GCRA_DECIDE } from '../../lib/redis/gcra-script';
import { runLua } from '../../lib/redis/lua';
import { RedisRateLimiter } from '../../lib/redis/redis-rate-limiter';
import { describeRateLimiter } from '../ports/rate-limiter-contract';
import { redisLimiterFixture } from './redis-limiter-fixture';
import { startRedisServer, type TestRedisServer } from '../support/redis-server';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

describeRateLimiter('RedisRateLimiter', async () => {
  const prefix = uniquePrefix('rl');
  const limiter = new RedisRateLimiter({ url: testRedisUrl(), prefix });
  const client = await connectTestClient();
  return redisLimiterFixture(limiter, prefix, client, async () => {
    await limiter.close();
    await deleteKeys(client, prefix);
    client.destroy();
  });
});

describe('RedisRateLimiter on a shared server', () => {
  let client: RedisClientLike;
  let prefix: string;
  let limiter: RedisRateLimiter;
  beforeEach(async () => {
    client = await connectTestClient();
    prefix = uniquePrefix('rl');
    limiter = new RedisRateLimiter({ client, prefix });
  });
  afterEach(async () => {
    await limiter.close();
    await deleteKeys(client, prefix);
    client.destroy();
  });

  it('stores one key under the prefix that expires when the key has rested', async () => {
    const rule = toRateRule(10, 60_000, 10); // 6 s per unit
    await limiter.decide('user:1', rule, 3);
    const keys = await client.sendCommand<string[]>(['KEYS', `${prefix}:*`]);
    expect(keys).toEqual([`${prefix}:user:1`]);
    // 18 s of schedule, two emissions (12 s) to rest, and 1 ms for PX's rounding.
    const ttl = await client.sendCommand<number>(['PTTL', `${prefix}:user:1`]);
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(30_001);
  });

  it('decides exactly as gcraStep for any stored schedule, cost and burst: the script mirrors the TypeScript', async () => {
    let n = 0;
    const cases = fc.record({
      limit: fc.integer({ min: 1, max: 50 }),
      intervalMs: fc.integer({ min: 1, max: 10_000 }),
      burst: fc.integer({ min: 1, max: 6 }),
      // Where the stored schedule stands, in emissions from now: none, behind (in credit or rested), ahead.
      offset: fc.option(fc.double({ min: -3, max: 3, noNaN: true }), { nil: undefined }),
      cost: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.double({ min: 0, max: 6, noNaN: true })),
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ limit, intervalMs, burst, offset, cost }) => {
        const rule = toRateRule(limit, intervalMs, burst);
        const charge = costUs(rule, Math.min(cost, burst));
        const key = `${prefix}:mirror-${n++}`;
        const [seconds, micros] = await client.sendCommand<[string, string]>(['TIME']);
        const tat =
          offset === undefined
            ? undefined
            : Number(seconds) * 1e6 + Number(micros) + Math.round(offset * rule.emissionUs);
        if (tat !== undefined) await client.sendCommand(['SET', key, String(tat)]);
        const args = [rule.emissionUs, rule.toleranceUs, charge, rule.creditUs, rule.restUs].map(String);
        const [allowed, retryAfterUs, remaining, resetAfterUs, nowUs] = await runLua<number[]>(
          client,
          GCRA_DECIDE,
          [key],
          args,
        );
        const expected = gcraStep(tat, nowUs as number, rule, charge);
        expect({ allowed: allowed === 1, retryAfterUs, remaining, resetAfterUs }).toEqual({
          allowed: expected.allowed,
          retryAfterUs: expected.retryAfterUs,
          remaining: expected.remaining,
          resetAfterUs: expected.resetAfterUs,
        });
        // An admission's key lives until the key has rested: a short rule's key may be gone by now.
        const stored = await client.sendCommand<string | null>(['GET', key]);
        const lifeMs = (expected.tat + rule.restUs - (nowUs as number)) / 1_000;
        if (stored !== null || !expected.allowed || lifeMs > 1_000) {
          expect(stored).toBe(expected.allowed ? String(expected.tat) : tat === undefined ? null : String(tat));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('corrects exactly as gcraAdjust for any stored schedule, delta and reservation end: the script mirrors the TypeScript', async () => {
    let n = 0;
    const cases = fc.record({
      limit: fc.integer({ min: 1, max: 50 }),
      intervalMs: fc.integer({ min: 1_000, max: 10_000 }),
      burst: fc.integer({ min: 1, max: 6 }),
      offset: fc.option(fc.double({ min: -3, max: 3, noNaN: true }), { nil: undefined }),
      delta: fc.oneof(fc.integer({ min: -8, max: 8 }), fc.double({ min: -8, max: 8, noNaN: true })),
      // Where the reservation ends, in emissions from now; none means no bound on the refund.
      until: fc.option(fc.double({ min: -2, max: 6, noNaN: true }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ limit, intervalMs, burst, offset, delta, until }) => {
        const rule = toRateRule(limit, intervalMs, burst);
        const key = `${prefix}:adjust-${n++}`;
        const [seconds, micros] = await client.sendCommand<[string, string]>(['TIME']);
        const timeUs = Number(seconds) * 1e6 + Number(micros);
        const tat = offset === undefined ? undefined : timeUs + Math.round(offset * rule.emissionUs);
        if (tat !== undefined) await client.sendCommand(['SET', key, String(tat)]);
        const untilUs = until === undefined ? undefined : timeUs + Math.round(until * rule.emissionUs);
        const deltaUs = adjustmentUs(rule, delta);
        const [stored, nowUs] = await runLua<number[]>(
          client,
          GCRA_ADJUST,
          [key],
          [String(deltaUs), String(rule.creditUs), String(rule.restUs), String(untilUs ?? -1)],
        );
        const expected = gcraAdjust(tat, nowUs as number, rule, deltaUs, untilUs);
        expect(stored).toBe(expected === undefined ? 0 : 1);
        const value = await client.sendCommand<string | null>(['GET', key]);
        if (expected === undefined) expect(value).toBe(tat === undefined ? null : String(tat));
        else expect(value).toBe(String(expected));
      }),
      { numRuns: 300 },
    );
  });

  it('decides again after SCRIPT FLUSH: it reloads the script when Redis answers NOSCRIPT', async () => {
    const rule = toRateRule(2, 3_600_000, 2);
    expect((await limiter.decide('k', rule, 1)).allowed).toBe(true);
    await client.sendCommand(['SCRIPT', 'FLUSH']);
    expect(await client.sendCommand<number[]>(['SCRIPT', 'EXISTS', GCRA_DECIDE.sha1])).toEqual([0]);
    expect(await limiter.decide('k', rule, 1)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await limiter.decide('k', rule, 1)).allowed).toBe(false);
    expect(await client.sendCommand<number[]>(['SCRIPT', 'EXISTS', GCRA_DECIDE.sha1])).toEqual([1]);
  });

  it('reports the Redis server time of each decision', async () => {
    const [seconds, micros] = await client.sendCommand<[string, string]>(['TIME']);
    const before = Number(seconds) * 1_000 + Number(micros) / 1_000;
    const decision = await limiter.decide('k', toRateRule(1, 1_000, 1), 1);
    expect(decision.at).toBeGreaterThanOrEqual(before);
    expect(decision.at).toBeLessThan(before + 5_000);
  });

  it('serves rateLimited: one limit shared by two wrapped functions on the same key', async () => {
    const options = { limit: 2, interval: '1h', burst: 2, limiter, key: () => 'shared-model' } as const;
    const chat = rateLimited(async () => 'chat', options);
    const complete = rateLimited(async () => 'complete', options);
    await expect(chat()).resolves.toBe('chat');
    await expect(complete()).resolves.toBe('complete');
    const error = await chat().catch((e: unknown) => e);
    expect(isRateLimitError(error)).toBe(true);
    expect(error).toMatchObject({ key: 'shared-model', limit: 2 });
  });

  it('rejects invalid options with a TypeError', () => {
    expect(() => new RedisRateLimiter({} as never)).toThrow(
      'Expected `url or client` to be exactly one of a Redis URL or a node-redis client',
    );
    expect(() => new RedisRateLimiter({ client, prefix: 'has space' })).toThrow(TypeError);
    expect(() => new RedisRateLimiter({ client, operationTimeout: 0 })).toThrow(
      'Expected `operationTimeout` to be a positive integer',
    );
  });
});

describe('rateLimited over Redis when Redis is stopped', () => {
  let server: TestRedisServer;
  let limiter: RedisRateLimiter;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());
  beforeEach(async () => {
    limiter = new RedisRateLimiter({ url: server.url, operationTimeout: '100ms' });
    // Connected and scripted while Redis is up, as a running service would be.
    await limiter.decide('warm-up', toRateRule(1, 1_000, 1), 1);
    await server.stop();
  });
  afterEach(async () => {
    await limiter.close();
    await server.start();
  });

  const attempt = async (run: () => Promise<string>, calls: number): Promise<string[]> => {
    const outcomes: string[] = [];
    for (let i = 0; i < calls; i++)
      outcomes.push(await run().catch((error: unknown) => (isRateLimitError(error) ? error.reason : 'other')));
    return outcomes;
  };

  it("'local' keeps limiting in this process: it admits at most the limit", async () => {
    const errors: string[] = [];
    limiter.events.on('error', (error) => errors.push(error.code));
    const run = rateLimited(async () => 'ok', { limit: 3, interval: '1h', burst: 3, limiter, name: 'local' });
    expect(await attempt(run, 6)).toEqual(['ok', 'ok', 'ok', 'rejected', 'rejected', 'rejected']);
    expect(errors.length).toBe(6);
    // After repeated failures the breaker skips Redis at once rather than waiting out each timeout.
    expect(errors).toContain('ERR_CACHET_STORE_UNAVAILABLE');
    expect(limiter.circuit).toBe('open');
  });

  it("'allow' admits every call", async () => {
    const run = rateLimited(async () => 'ok', {
      limit: 1,
      interval: '1h',
      limiter,
      onStoreError: 'allow',
      name: 'allow',
    });
    expect(await attempt(run, 4)).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  it("'deny' rejects every call", async () => {
    const run = rateLimited(async () => 'ok', {
      limit: 5,
      interval: '1h',
      burst: 5,
      limiter,
      onStoreError: 'deny',
      name: 'deny',
    });
    expect(await attempt(run, 3)).toEqual(['store', 'store', 'store']);
  });
});

import { Cache } from '../../lib/cache/cache';
import { setLogger } from '../../lib/core/logger';
import { toRateRule } from '../../lib/rate-limit/gcra';
import { RedisRateLimiter } from '../../lib/redis/redis-rate-limiter';
import { RedisStore } from '../../lib/redis/redis-store';
import { manualClock, type ManualClock } from '../ports/cache-store-contract';
import { eventually, pollUntil } from '../support/async';
import { recordingLogger } from '../support/logger';
import { startRedisServer, type TestRedisServer } from '../support/redis-server';

// Each test has a redis-server of its own that it stops and starts. Breakers run on a manual clock: a
// breaker stays open until the test moves time past the cooldown.
const COOLDOWN_MS = 5_000;

describe('what the Redis classes log', () => {
  let server: TestRedisServer;
  let clock: ManualClock;
  let closing: { close(): Promise<void> }[];

  beforeEach(async () => {
    server = await startRedisServer();
    clock = manualClock();
    closing = [];
  });

  afterEach(async () => {
    setLogger(undefined);
    for (const each of closing) {
      let settled = false;
      const closed = each.close().finally(() => (settled = true));
      // A close() that waits for an unreachable Redis would keep the run from exiting: bring Redis back for it.
      if (!(await pollUntil(() => settled, 5_000))) await server.start();
      await closed;
    }
    await server.stop();
  });

  function redisStore(logger = recordingLogger()): { store: RedisStore; logger: typeof logger } {
    const store = new RedisStore({
      url: server.url,
      operationTimeout: '100ms',
      breakerCooldown: COOLDOWN_MS,
      clock,
      logger,
    });
    closing.push(store);
    return { store, logger };
  }

  it("logs the breaker opening once and closing once per outage, on the store's own logger", async () => {
    const { store, logger } = redisStore();
    await store.set('k', 'v', 60_000);
    await server.stop();
    for (let i = 0; i < 3; i++) await expect(store.get('k')).rejects.toThrow();
    expect(store.circuit).toBe('open');
    expect(logger.lines).toEqual([
      [
        'warn',
        { event: 'cachet.breaker-opened', backend: 'RedisStore', failures: 3, cooldownMs: COOLDOWN_MS },
        expect.stringMatching(/^RedisStore: Redis failed 3 times in a row/),
      ],
    ]);

    // Probes fail while Redis is down (the breaker opens again each time): none of them is logged.
    for (let i = 0; i < 3; i++) {
      clock.advance(COOLDOWN_MS);
      await expect(store.get('k')).rejects.toThrow();
    }
    expect(logger.lines).toHaveLength(1);

    await server.start();
    await eventually(async () => {
      clock.advance(COOLDOWN_MS);
      await store.get('k').catch(() => undefined);
      return store.circuit === 'closed';
    });
    expect(logger.lines).toHaveLength(2);
    const [level, fields, message] = logger.lines[1] ?? [];
    expect(level).toBe('info');
    expect(fields).toMatchObject({ event: 'cachet.breaker-closed', backend: 'RedisStore' });
    expect(fields?.openMs).toBeGreaterThanOrEqual(4 * COOLDOWN_MS);
    expect(message).toMatch(/^RedisStore: Redis answered a probe: operations reach it again after \d+ ms$/);
  });

  it('logs a RedisRateLimiter breaker on the global logger when the limiter has none of its own', async () => {
    const logger = recordingLogger();
    setLogger(logger);
    const limiter = new RedisRateLimiter({ url: server.url, operationTimeout: '100ms', breakerThreshold: 2, clock });
    closing.push(limiter);
    const rule = toRateRule(10, 1_000, 10);
    await limiter.decide('user', rule, 1);
    await server.stop();
    for (let i = 0; i < 2; i++) await expect(limiter.decide('user', rule, 1)).rejects.toThrow();
    expect(logger.lines.map(([level, fields]) => [level, fields])).toEqual([
      ['warn', { event: 'cachet.breaker-opened', backend: 'RedisRateLimiter', failures: 2, cooldownMs: 1_000 }],
    ]);
  });

  it('logs the notice channel lost when Redis goes, and subscribed again when it is back', async () => {
    const { store, logger } = redisStore();
    await store.notices.subscribe('cachet:test-notices', () => {});
    expect(store.notices.live).toBe(true);
    expect(logger.lines).toEqual([]);

    await server.stop();
    await eventually(() => !store.notices.live);
    const lost = logger.lines.filter(([, fields]) => fields.event === 'cachet.notices-lost');
    expect(lost).toEqual([
      [
        'warn',
        expect.objectContaining({ backend: 'RedisStore', channels: ['cachet:test-notices'] }),
        expect.stringContaining('RedisStore: the notice channel was lost'),
      ],
    ]);

    await server.start();
    await eventually(() => store.notices.live);
    const restored = logger.lines.filter(([, fields]) => fields.event === 'cachet.notices-restored');
    expect(restored).toEqual([
      [
        'info',
        { event: 'cachet.notices-restored', backend: 'RedisStore', channels: ['cachet:test-notices'] },
        'RedisStore: the notice channel is subscribed again',
      ],
    ]);
    // Failed reconnection attempts in between did not log the loss again.
    expect(logger.lines.filter(([, fields]) => fields.event === 'cachet.notices-lost')).toHaveLength(1);
  });

  it('logs an entry another writer left that does not decode, with the key and the redis store', async () => {
    const { store } = redisStore();
    const logger = recordingLogger();
    const cache = new Cache({ store, logger, prefix: 'logging' });
    const keys: string[] = [];
    cache.on('miss', ({ key }) => keys.push(key));
    const lookup = cache.wrap(async (id: number) => ({ id }), { name: 'lookup' });
    await lookup(7);
    const key = keys[0] as string;
    await store.client.sendCommand(['SET', key, 'garbage', 'PX', '60000']);

    await expect(lookup(7)).resolves.toEqual({ id: 7 });
    expect(logger.lines).toEqual([
      [
        'warn',
        {
          event: 'cachet.decode-failed',
          namespace: 'default',
          method: 'default:lookup',
          key,
          store: 'redis',
          err: expect.any(Error),
        },
        expect.stringContaining('default:lookup read an entry it cannot decode'),
      ],
    ]);
  });

  it('rejects a logger without warn and error methods, saying what it expected', () => {
    expect(() => new RedisStore({ url: server.url, logger: { warn: () => {} } as never })).toThrow(
      new TypeError(
        'Expected `logger` to be a logger with warn(fields, message) and error(fields, message) methods, got `{}` (object)',
      ),
    );
  });
});

import type { CachetLogger } from '../../lib/core/logger';
import type { CircuitPolicy } from '../../lib/ports/circuit-state';
import { RedisBlobStore } from '../../lib/redis/redis-blob-store';
import { RedisCircuitState } from '../../lib/redis/redis-circuit-state';
import { RedisCostLedger } from '../../lib/redis/redis-cost-ledger';
import type { RedisConnectionOptions } from '../../lib/redis/redis-executor';
import { RedisRouterHealth } from '../../lib/redis/redis-router-health';
import { RedisSemaphore } from '../../lib/redis/redis-semaphore';
import { manualClock, type ManualClock } from '../ports/cache-store-contract';
import { eventually, pollUntil } from '../support/async';
import { recordingLogger } from '../support/logger';
import { startRedisServer, type TestRedisServer } from '../support/redis-server';

// The Redis classes besides RedisStore and RedisRateLimiter (spec/redis/logging.spec.ts) share the same
// executor: each must hand its `logger` to it and name itself in the breaker's lines. Each test has a
// redis-server of its own that it stops and starts; breakers run on a manual clock.
const COOLDOWN_MS = 5_000;

const POLICY: CircuitPolicy = {
  threshold: 5,
  failureRate: 0,
  minimumCalls: 1,
  windowMs: 60_000,
  halfOpenAfterMs: 30_000,
  probeTimeoutMs: 10_000,
};

/** One Redis class: how to build it on the shared connection options, and one operation that reaches Redis. */
interface Subject {
  readonly close: () => Promise<void>;
  readonly operate: () => Promise<unknown>;
}

const CLASSES: [string, (connection: RedisConnectionOptions) => Subject][] = [
  [
    'RedisSemaphore',
    (connection) => {
      const semaphore = new RedisSemaphore({ ...connection, name: 'logging', max: 1 });
      const operate = async () => (await semaphore.acquire()).release();
      return { close: () => semaphore.close(), operate };
    },
  ],
  [
    'RedisCircuitState',
    (connection) => {
      const state = new RedisCircuitState({ ...connection, serverTime: false });
      return { close: () => state.close(), operate: () => state.enter('logging', POLICY, 0) };
    },
  ],
  [
    'RedisCostLedger',
    (connection) => {
      const ledger = new RedisCostLedger({ ...connection, flushInterval: '1h' });
      return { close: () => ledger.close(), operate: () => ledger.report() };
    },
  ],
  [
    'RedisBlobStore',
    (connection) => {
      const blobs = new RedisBlobStore(connection);
      return { close: () => blobs.close(), operate: () => blobs.getBlob('logging') };
    },
  ],
  [
    'RedisRouterHealth',
    (connection) => {
      const health = new RedisRouterHealth(connection);
      return { close: () => health.close(), operate: () => health.read('logging') };
    },
  ],
];

describe.each(CLASSES)('what a %s breaker logs', (backend, build) => {
  let server: TestRedisServer;
  let clock: ManualClock;
  let subject: Subject;
  let logger: CachetLogger & ReturnType<typeof recordingLogger>;

  beforeEach(async () => {
    server = await startRedisServer();
    clock = manualClock();
    logger = recordingLogger();
    subject = build({ url: server.url, operationTimeout: '100ms', breakerCooldown: COOLDOWN_MS, clock, logger });
  });

  afterEach(async () => {
    let settled = false;
    const closed = subject.close().finally(() => (settled = true));
    // A close() that waits for an unreachable Redis would keep the run from exiting: bring Redis back for it.
    if (!(await pollUntil(() => settled, 5_000))) await server.start();
    await closed.catch(() => undefined);
    await server.stop();
  });

  it(`logs one opened line naming ${backend} for an outage, and one closed line once Redis is back`, async () => {
    await subject.operate();
    await server.stop();
    // Some classes fall back to local state instead of rejecting: what matters is what reached the logger.
    for (let i = 0; i < 3; i++) await subject.operate().catch(() => undefined);
    expect(logger.lines).toEqual([
      [
        'warn',
        { event: 'cachet.breaker-opened', backend, failures: 3, cooldownMs: COOLDOWN_MS },
        expect.stringMatching(new RegExp(`^${backend}: Redis failed 3 times in a row`)),
      ],
    ]);

    // Failed probes while Redis is down are not logged.
    clock.advance(COOLDOWN_MS);
    await subject.operate().catch(() => undefined);
    expect(logger.lines).toHaveLength(1);

    await server.start();
    await eventually(async () => {
      clock.advance(COOLDOWN_MS);
      await subject.operate().catch(() => undefined);
      return logger.lines.length > 1;
    });
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[1]).toEqual([
      'info',
      { event: 'cachet.breaker-closed', backend, openMs: expect.any(Number) },
      expect.stringMatching(new RegExp(`^${backend}: Redis answered a probe`)),
    ]);
  });
});

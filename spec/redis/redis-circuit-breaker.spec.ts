import type { StoreError } from '../../lib/core/errors';
import { RedisCircuitState } from '../../lib/redis/redis-circuit-state';
import { Circuit } from '../../lib/resilience/circuit-breaker';
import { startRedisServer, type TestRedisServer } from '../support/redis-server';
import { connectTestClient } from '../support/redis';
import { redisTarget, type RedisTarget } from '../support/redis-target';
import { manualClock } from '../ports/cache-store-contract';
import { pollUntil } from '../support/async';
import { describeRedisCircuitState, fail, ProviderError, succeed } from './redis-circuit-state-suite';

describe('RedisCircuitState', () => {
  let target: RedisTarget;
  beforeAll(async () => {
    target = await redisTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  describeRedisCircuitState('on one Redis', () => target);
});

describe('RedisCircuitState when Redis fails', () => {
  let server: TestRedisServer;

  beforeEach(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('keeps every call going through the local circuit while Redis is down, then returns to Redis', async () => {
    const clock = manualClock();
    const outageClock = manualClock();
    const store = new RedisCircuitState({
      url: server.url,
      prefix: 'outage',
      serverTime: false,
      clock: outageClock,
      breakerCooldown: '5s',
    });
    const errors: StoreError[] = [];
    store.events.on('error', (error) => errors.push(error));
    const circuit = new Circuit({ name: 'openai', store, clock, threshold: 2, halfOpenAfter: '10s' });
    try {
      await expect(circuit.execute(succeed)).resolves.toBe('ok');
      await server.stop();
      await expect(circuit.execute(succeed)).resolves.toBe('ok');
      await expect(circuit.execute(fail)).rejects.toBeInstanceOf(ProviderError);
      await expect(circuit.execute(fail)).rejects.toBeInstanceOf(ProviderError);
      expect(errors.length).toBeGreaterThan(0);
      // The local circuit opened after the threshold, as it would have in Redis.
      await expect(circuit.execute(succeed)).rejects.toMatchObject({ state: 'open', retryAfterMs: 10_000 });
      clock.advance(10_000);
      await expect(circuit.execute(succeed)).resolves.toBe('ok');
      expect(circuit.state).toBe('closed');

      await server.start();
      const admin = await connectTestClient(server.url);
      try {
        const backOnRedis = await pollUntil(async () => {
          outageClock.advance(5_000); // past the outage cooldown: the next decision asks Redis again
          await circuit.execute(fail).catch(() => undefined);
          return (await admin.sendCommand<string | null>(['HGET', 'outage:openai', 'consecutive'])) !== null;
        }, 5_000);
        expect(backOnRedis).toBe(true);
      } finally {
        await admin.close();
      }
    } finally {
      await store.close();
    }
  });
});

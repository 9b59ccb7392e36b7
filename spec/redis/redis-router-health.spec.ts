import { RedisRouterHealth } from '../../lib/redis/redis-router-health';
import type { HealthPolicy } from '../../lib/ports/endpoint-health';
import { describeEndpointHealthStore } from '../ports/endpoint-health-contract';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster';
import { clusterTarget, redisTarget, type RedisTarget } from '../support/redis-target';
import { uniquePrefix } from '../support/redis';

/** The contract over two RedisRouterHealth instances (two connections) on `target()`; time moved by editing keys. */
function describeOn(label: string, target: () => RedisTarget): void {
  describeEndpointHealthStore(`RedisRouterHealth ${label}`, async () => {
    const t = target();
    const prefix = uniquePrefix('rh');
    const stores = [
      new RedisRouterHealth({ ...(await t.source()), prefix, instance: 'instance-a' }),
      new RedisRouterHealth({ ...(await t.source()), prefix, instance: 'instance-b' }),
    ] as const;
    const key = (endpoint: string, suffix: string) => `{${prefix}:${endpoint}}${suffix}`;
    return {
      stores,
      // Deleting the key is what its PX expiry does when the time is up.
      endCooldown: async (endpoint) => void (await t.admin.sendCommand(['DEL', key(endpoint, ':cooldown')])),
      expireLease: async (endpoint) => void (await t.admin.sendCommand(['DEL', key(endpoint, ':probe')])),
      ageFailures: async (endpoint, ms) => {
        const list = key(endpoint, ':failures');
        const times = await t.admin.sendCommand<string[]>(['LRANGE', list, '0', '-1']);
        for (let i = 0; i < times.length; i++) {
          await t.admin.sendCommand(['LSET', list, String(i), String(Number(times[i]) - ms)]);
        }
      },
      cleanup: async () => {
        await Promise.all(stores.map((s) => s.close()));
        await t.release();
        await t.deleteKeys(prefix, `{${prefix}`);
      },
    };
  });
}

describe('RedisRouterHealth', () => {
  let target: RedisTarget;
  beforeAll(async () => {
    target = await redisTarget();
  });
  afterAll(() => target.close());

  describeOn('on one Redis', () => target);

  const rules: HealthPolicy = { threshold: 3, windowFailures: 0, windowMs: 0, cooldownMs: 10_000, probeLeaseMs: 4_000 };

  it('times the cooldown and the probe lease in Redis (PX), and keeps an endpoint`s keys in one hash slot', async () => {
    const prefix = uniquePrefix('rh');
    const store = new RedisRouterHealth({ url: (await target.source()).url!, prefix });
    try {
      await store.failed('gpt', rules, { retryAfterMs: 2_000 });
      const cooling = await target.admin.sendCommand<number>(['PTTL', `{${prefix}:gpt}:cooldown`]);
      expect(cooling).toBeGreaterThan(1_000);
      expect(cooling).toBeLessThanOrEqual(2_000);
      await target.admin.sendCommand(['DEL', `{${prefix}:gpt}:cooldown`]);
      const claim = await store.claimProbe('gpt', rules);
      expect(claim.claimed).toBe(true);
      const lease = await target.admin.sendCommand<number>(['PTTL', `{${prefix}:gpt}:probe`]);
      expect(lease).toBeGreaterThan(3_000);
      expect(lease).toBeLessThanOrEqual(4_000);
      const keys = await target.admin.sendCommand<string[]>(['KEYS', `*${prefix}*`]);
      expect(keys.sort()).toEqual([`${prefix}:gpt`, `{${prefix}:gpt}:probe`]);
    } finally {
      await store.close();
      await target.deleteKeys(prefix, `{${prefix}`);
    }
  });

  it('rejects with a StoreError, and emits it, when Redis does not answer', async () => {
    const store = new RedisRouterHealth({ url: 'redis://127.0.0.1:1', operationTimeout: '50ms' });
    const errors: unknown[] = [];
    store.events.on('error', (error) => errors.push(error));
    try {
      await expect(store.failed('gpt', rules, {})).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_CACHET_STORE/),
      });
      expect(errors).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('validates its options', () => {
    expect(() => new RedisRouterHealth({ url: 'redis://x', prefix: 'a}b' })).toThrow(/prefix/);
    expect(() => new RedisRouterHealth({ url: 'redis://x', instance: 'two words' })).toThrow(/instance/);
    expect(() => new RedisRouterHealth({ url: 'redis://x', bogus: 1 } as never)).toThrow(/bogus/);
  });
});

describe('RedisRouterHealth on a three-master cluster', () => {
  let cluster: TestRedisCluster;
  let target: RedisTarget;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    target = await clusterTarget(cluster.urls);
  }, 60_000);
  afterAll(async () => {
    await target.close();
    await cluster.stop();
  });

  describeOn('on a cluster', () => target);
});

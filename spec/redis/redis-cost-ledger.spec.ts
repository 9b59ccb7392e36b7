import { isStoreError } from '../../lib/core/errors';
import { RedisCostLedger, type RedisCostLedgerOptions } from '../../lib/redis/redis-cost-ledger';
import { startRedisServer, type TestRedisServer } from '../support/redis-server';
import { connectTestClient, testRedisUrl } from '../support/redis';
import { redisTarget, type RedisTarget } from '../support/redis-target';
import { pollUntil } from '../support/async';
import { describeRedisCostLedger, entry, prices } from './redis-cost-ledger-suite';

describe('RedisCostLedger on the shared server', () => {
  let target: RedisTarget;
  beforeAll(async () => {
    target = await redisTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  describeRedisCostLedger('contract', () => target);

  it('rejects unknown and invalid options at construction', () => {
    expect(() => new RedisCostLedger({ url: testRedisUrl(), flushIntervall: '1s' } as RedisCostLedgerOptions)).toThrow(
      'Unknown RedisCostLedger option `flushIntervall`',
    );
    expect(() => new RedisCostLedger({ url: testRedisUrl(), maxPendingRows: 0 })).toThrow(
      'Expected `maxPendingRows` to be a positive integer, got `0` (number)',
    );
    expect(() => new RedisCostLedger({ url: testRedisUrl(), key: 'has space' })).toThrow(TypeError);
  });
});

describe('RedisCostLedger when Redis goes away', () => {
  let server: TestRedisServer;

  beforeEach(async () => {
    server = await startRedisServer();
  });

  afterEach(async () => {
    await server.stop();
  });

  it('keeps counts recorded during an outage and flushes them once Redis is back', async () => {
    const l = new RedisCostLedger({ url: server.url, prices, flushInterval: '50ms', operationTimeout: '200ms' });
    try {
      await l.flush(); // connected
      await server.stop();
      l.recordFill(entry);
      for (let i = 0; i < 3; i++) l.recordHit(entry);
      const failure = await l.flush().catch((error: unknown) => error);
      expect(isStoreError(failure)).toBe(true);
      l.recordHit(entry); // recorded while the failed batch waits for a retry
      expect(l.pendingRows).toBe(2);

      await server.start(); // empty: everything it holds afterwards came from the retries
      const probe = await connectTestClient(server.url);
      try {
        const stored = async () =>
          (await probe.sendCommand<string | null>(['HGET', 'cachet-ledger', 'chat|acme|big|hits'])) === '4';
        expect(await pollUntil(stored, 15_000)).toBe(true);
        expect(await pollUntil(() => l.pendingRows === 0, 5_000)).toBe(true);
        const { total } = await l.report();
        expect(total).toMatchObject({ fills: 1, hits: 4, spentNanos: 7_500_000, savedNanos: 30_000_000 });
        expect(l.dropped).toBe(0);
      } finally {
        probe.destroy();
      }
    } finally {
      await l.close();
    }
  }, 30_000);

  it('drops and counts records for new rows past maxPendingRows while Redis is down', async () => {
    const l = new RedisCostLedger({
      url: server.url,
      prices,
      flushInterval: '1h',
      operationTimeout: '200ms',
      maxPendingRows: 2,
    });
    await server.stop();
    l.recordHit({ ...entry, tenant: 'a' });
    l.recordHit({ ...entry, tenant: 'b' });
    l.recordHit({ ...entry, tenant: 'b' }); // an existing row: always kept
    l.recordHit({ ...entry, tenant: 'c' }); // a third row: dropped
    l.recordHit({ ...entry, tenant: 'd' });
    expect(l.dropped).toBe(2);
    await server.start();
    await expect(
      pollUntil(
        async () =>
          await l.flush().then(
            () => true,
            () => false,
          ),
        15_000,
      ),
    ).resolves.toBe(true);
    const report = await l.report();
    expect(report.rows.map((r) => `${r.tenant}:${r.hits}`)).toEqual(['a:1', 'b:2']);
    await l.close();
  }, 30_000);

  it('close() rejects, after closing, when the last flush cannot reach Redis', async () => {
    const l = new RedisCostLedger({ url: server.url, prices, flushInterval: '1h', operationTimeout: '200ms' });
    await l.flush();
    await server.stop();
    l.recordHit(entry);
    await expect(l.close()).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_CACHET_STORE/) });
    expect(l.pendingRows).toBe(1);
  }, 30_000);
});

import { isStoreError } from '../../lib/core/errors';
import { PriceTable } from '../../lib/ledger/price-table';
import type { RedisClientLike } from '../../lib/redis/connection';
import { RedisCostLedger, type RedisCostLedgerOptions } from '../../lib/redis/redis-cost-ledger';
import { startRedisServer, type TestRedisServer } from '../support/redis-server';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';
import { pollUntil } from '../support/async';

const prices = new PriceTable({ big: { inputPer1K: 0.0025, outputPer1K: 0.01 } });
const usage = { promptTokens: 1000, completionTokens: 500 }; // 7_500_000 nano-dollars on 'big'
const entry = { namespace: 'chat', tenant: 'acme', model: 'big', usage };

describe('RedisCostLedger on the shared server', () => {
  let key: string;
  let client: RedisClientLike;
  let open: RedisCostLedger[];

  beforeEach(async () => {
    key = uniquePrefix('ledger');
    client = await connectTestClient();
    open = [];
  });

  afterEach(async () => {
    jest.useRealTimers();
    await Promise.all(open.map((l) => l.close()));
    await deleteKeys(client, key);
    client.destroy();
  });

  function ledger(options: Partial<RedisCostLedgerOptions> = {}): RedisCostLedger {
    const made = new RedisCostLedger({ url: testRedisUrl(), key, prices, flushInterval: '1h', ...options });
    open.push(made);
    return made;
  }

  it('adds the counts of two instances into the same totals', async () => {
    const [a, b] = [ledger(), ledger()];
    a.recordFill(entry);
    for (let i = 0; i < 4; i++) a.recordHit(entry);
    b.recordFill(entry);
    for (let i = 0; i < 5; i++) b.recordHit(entry);
    await a.flush();
    const { rows, total } = await b.report();
    expect(rows).toHaveLength(1);
    expect(total).toMatchObject({
      fills: 2,
      hits: 9,
      hitRate: 9 / 11,
      callsAvoided: 9,
      tokensSpent: 3000,
      tokensSaved: 13_500,
      spentNanos: 15_000_000,
      savedNanos: 67_500_000,
    });
    expect(await a.report({ tenant: 'acme' })).toEqual(await b.report({ tenant: 'acme' }));
  });

  it('sends nothing to Redis when recording, only on flush', async () => {
    const l = ledger();
    l.recordHit(entry);
    expect(await client.sendCommand(['EXISTS', key])).toBe(0);
    expect(l.pendingRows).toBe(1);
    await l.flush();
    expect(l.pendingRows).toBe(0);
    expect(await client.sendCommand(['HGET', key, 'chat|acme|big|hits'])).toBe('1');
  });

  it('flushes on its own every flushInterval', async () => {
    // Only setInterval is faked: the Redis driver's own timers stay real.
    jest.useFakeTimers({ doNotFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask', 'Date', 'hrtime', 'performance'] });
    const l = ledger({ flushInterval: '5s' });
    l.recordHit(entry);
    jest.advanceTimersByTime(4_999);
    expect(l.pendingRows).toBe(1);
    jest.advanceTimersByTime(1);
    expect(await pollUntil(async () => (await client.sendCommand(['HGET', key, 'chat|acme|big|hits'])) === '1')).toBe(true);
  });

  it('counts a batch once when Redis applied it but the reply was lost', async () => {
    // A real client whose first script reply is lost after Redis has run the script.
    const real = await connectTestClient();
    let lose = true;
    const flaky = Object.create(real) as RedisClientLike;
    flaky.sendCommand = async <T,>(args: readonly string[], options?: { timeout?: number }): Promise<T> => {
      const reply = await real.sendCommand<T>(args, options);
      if (lose && args[0]!.startsWith('EVAL')) {
        lose = false;
        throw new Error('connection lost before the reply');
      }
      return reply;
    };
    const l = new RedisCostLedger({ client: flaky, key, prices, flushInterval: '1h' });
    try {
      l.recordHit(entry);
      await expect(l.flush()).rejects.toThrow('connection lost before the reply');
      expect(await client.sendCommand(['HGET', key, 'chat|acme|big|hits'])).toBe('1');
      l.recordHit(entry);
      await l.flush(); // retries the lost batch (a no-op now), then sends the new hit
      expect(await client.sendCommand(['HGET', key, 'chat|acme|big|hits'])).toBe('2');
    } finally {
      await l.close();
      real.destroy();
    }
  });

  it('flushes what is left on close()', async () => {
    const l = new RedisCostLedger({ url: testRedisUrl(), key, prices, flushInterval: '1h' });
    l.recordFill(entry);
    await l.close();
    expect(await client.sendCommand(['HGET', key, 'chat|acme|big|spentNanos'])).toBe('7500000');
    l.recordHit(entry); // after close nothing would flush it: counted as dropped
    expect(l.dropped).toBe(1);
  });

  it('rejects unknown and invalid options at construction', () => {
    expect(() => new RedisCostLedger({ url: testRedisUrl(), flushIntervall: '1s' } as RedisCostLedgerOptions)).toThrow('Unknown RedisCostLedger option `flushIntervall`');
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
        const stored = async () => (await probe.sendCommand<string | null>(['HGET', 'cachet-ledger', 'chat|acme|big|hits'])) === '4';
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
    const l = new RedisCostLedger({ url: server.url, prices, flushInterval: '1h', operationTimeout: '200ms', maxPendingRows: 2 });
    await server.stop();
    l.recordHit({ ...entry, tenant: 'a' });
    l.recordHit({ ...entry, tenant: 'b' });
    l.recordHit({ ...entry, tenant: 'b' }); // an existing row: always kept
    l.recordHit({ ...entry, tenant: 'c' }); // a third row: dropped
    l.recordHit({ ...entry, tenant: 'd' });
    expect(l.dropped).toBe(2);
    await server.start();
    await expect(pollUntil(async () => (await l.flush().then(() => true, () => false)), 15_000)).resolves.toBe(true);
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

import { PriceTable } from '../../lib/ledger/price-table';
import { RedisCostLedger } from '../../lib/redis/redis-cost-ledger';
import { startWorker, type Worker } from '../support/child-processes';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

describe('cost ledger across processes', () => {
  let workers: Worker[] = [];
  afterEach(() => workers.forEach((w) => w.kill()));

  it('adds up the totals of 3 processes exactly', async () => {
    const key = uniquePrefix('ledger-xproc');
    const plan = [
      { fills: 37, hits: 1_000 },
      { fills: 51, hits: 2_003 },
      { fills: 12, hits: 3_001 },
    ];
    workers = plan.map((p, index) =>
      startWorker('ledger-worker', { REDIS_URL: testRedisUrl(), KEY: key, INDEX: String(index), FILLS: String(p.fills), HITS: String(p.hits) }),
    );
    await Promise.all(workers.map((w) => w.ready));
    workers.forEach((w) => w.go());
    const results = (await Promise.all(workers.map((w) => w.result))) as { fills: number; hits: number; dropped: number }[];
    expect(results.map((r) => r.dropped)).toEqual([0, 0, 0]);

    // Process i uses 100(i+1) prompt and 10(i+1) completion tokens per call; 'big' costs 2_500 and 10_000 nano-dollars per token.
    const expected = { fills: 0, hits: 0, tokensSpent: 0, tokensSaved: 0, spentNanos: 0, savedNanos: 0 };
    plan.forEach((p, i) => {
      const tokens = 110 * (i + 1);
      const nanos = 100 * (i + 1) * 2_500 + 10 * (i + 1) * 10_000;
      expected.fills += p.fills;
      expected.hits += p.hits;
      expected.tokensSpent += p.fills * tokens;
      expected.tokensSaved += p.hits * tokens;
      expected.spentNanos += p.fills * nanos;
      expected.savedNanos += p.hits * nanos;
    });

    const reader = new RedisCostLedger({ url: testRedisUrl(), key, prices: new PriceTable({}) });
    try {
      const report = await reader.report();
      expect(report.total).toMatchObject({ ...expected, hitRate: expected.hits / (expected.fills + expected.hits) });
      expect(report.rows.map((r) => r.tenant)).toEqual(['t0', 't1']);
      expect(report.rows[0]!.hits + report.rows[1]!.hits).toBe(6_004);
    } finally {
      await reader.close();
      const client = await connectTestClient();
      await deleteKeys(client, key);
      client.destroy();
    }
  }, 60_000);
});

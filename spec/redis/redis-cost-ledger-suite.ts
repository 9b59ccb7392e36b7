import { PriceTable } from '../../lib/ledger/price-table';
import type { RedisClientLike } from '../../lib/redis/connection';
import { RedisCostLedger, type RedisCostLedgerOptions } from '../../lib/redis/redis-cost-ledger';
import { pollUntil } from '../support/async';
import { startWorker, type Worker } from '../support/child-processes';
import { uniquePrefix } from '../support/redis';
import type { RedisTarget } from '../support/redis-target';

export const prices = new PriceTable({ big: { inputPer1K: 0.0025, outputPer1K: 0.01 } });
const usage = { promptTokens: 1000, completionTokens: 500 }; // 7_500_000 nano-dollars on 'big'
export const entry = { namespace: 'chat', tenant: 'acme', model: 'big', usage };

/**
 * The behaviour of {@link RedisCostLedger} against one Redis target (a server or a cluster). `target` is
 * read when the tests run, so a target made in `beforeAll` can be passed.
 */
export function describeRedisCostLedger(name: string, target: () => RedisTarget): void {
  describe(name, () => {
    let key: string;
    let admin: RedisClientLike;
    let open: RedisCostLedger[];

    beforeEach(() => {
      key = uniquePrefix('ledger');
      admin = target().admin;
      open = [];
    });

    afterEach(async () => {
      jest.useRealTimers();
      await Promise.all(open.map((l) => l.close()));
      await target().release();
      // Batch markers are named `{<key>}:batch:<id>`.
      await target().deleteKeys(key, `{${key}}`);
    });

    async function ledger(options: Partial<RedisCostLedgerOptions> = {}): Promise<RedisCostLedger> {
      const made = new RedisCostLedger({ ...(await target().source()), key, prices, flushInterval: '1h', ...options });
      open.push(made);
      return made;
    }

    it('adds the counts of two instances into the same totals', async () => {
      const [a, b] = [await ledger(), await ledger()];
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
      const l = await ledger();
      l.recordHit(entry);
      expect(await admin.sendCommand(['EXISTS', key])).toBe(0);
      expect(l.pendingRows).toBe(1);
      await l.flush();
      expect(l.pendingRows).toBe(0);
      expect(await admin.sendCommand(['HGET', key, 'chat|acme|big|hits'])).toBe('1');
    });

    it('flushes on its own every flushInterval', async () => {
      // Only setInterval is faked: the Redis driver's own timers stay real.
      jest.useFakeTimers({
        doNotFake: [
          'setTimeout',
          'clearTimeout',
          'setImmediate',
          'clearImmediate',
          'nextTick',
          'queueMicrotask',
          'Date',
          'hrtime',
          'performance',
        ],
      });
      const l = await ledger({ flushInterval: '5s' });
      l.recordHit(entry);
      jest.advanceTimersByTime(4_999);
      expect(l.pendingRows).toBe(1);
      jest.advanceTimersByTime(1);
      expect(await pollUntil(async () => (await admin.sendCommand(['HGET', key, 'chat|acme|big|hits'])) === '1')).toBe(
        true,
      );
    });

    it('counts a batch once when Redis applied it but the reply was lost', async () => {
      // The admin client, whose first script reply is lost after Redis has run the script.
      let lose = true;
      const flaky = Object.create(admin) as RedisClientLike;
      flaky.sendCommand = async <T>(args: readonly string[], options?: { timeout?: number }): Promise<T> => {
        const reply = await admin.sendCommand<T>(args, options);
        if (lose && args[0]!.startsWith('EVAL')) {
          lose = false;
          throw new Error('connection lost before the reply');
        }
        return reply;
      };
      const l = new RedisCostLedger({ client: flaky, key, prices, flushInterval: '1h' });
      open.push(l);
      l.recordHit(entry);
      await expect(l.flush()).rejects.toThrow('connection lost before the reply');
      expect(await admin.sendCommand(['HGET', key, 'chat|acme|big|hits'])).toBe('1');
      l.recordHit(entry);
      await l.flush(); // retries the lost batch (a no-op now), then sends the new hit
      expect(await admin.sendCommand(['HGET', key, 'chat|acme|big|hits'])).toBe('2');
    });

    it('flushes what is left on close()', async () => {
      const l = new RedisCostLedger({ ...(await target().source()), key, prices, flushInterval: '1h' });
      l.recordFill(entry);
      await l.close();
      expect(await admin.sendCommand(['HGET', key, 'chat|acme|big|spentNanos'])).toBe('7500000');
      l.recordHit(entry); // after close nothing would flush it: counted as dropped
      expect(l.dropped).toBe(1);
    });

    it('keeps the totals of a key that holds a hash tag under that key', async () => {
      const tagged = `{${key}}:totals`;
      const l = await ledger({ key: tagged });
      l.recordHit(entry);
      await l.flush();
      expect(await admin.sendCommand(['HGET', tagged, 'chat|acme|big|hits'])).toBe('1');
      expect((await l.report()).total.hits).toBe(1);
    });
  });
}

/** Three processes record into one ledger; the totals must be exact. */
export function describeLedgerAcrossProcesses(name: string, target: () => RedisTarget): void {
  describe(name, () => {
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
        startWorker('ledger-worker', {
          ...target().env,
          KEY: key,
          INDEX: String(index),
          FILLS: String(p.fills),
          HITS: String(p.hits),
        }),
      );
      await Promise.all(workers.map((w) => w.ready));
      workers.forEach((w) => w.go());
      const results = (await Promise.all(workers.map((w) => w.result))) as {
        fills: number;
        hits: number;
        dropped: number;
      }[];
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

      const reader = new RedisCostLedger({ ...(await target().source()), key, prices: new PriceTable({}) });
      try {
        const report = await reader.report();
        expect(report.total).toMatchObject({ ...expected, hitRate: expected.hits / (expected.fills + expected.hits) });
        expect(report.rows.map((r) => r.tenant)).toEqual(['t0', 't1']);
        expect(report.rows[0]!.hits + report.rows[1]!.hits).toBe(6_004);
      } finally {
        await reader.close();
        await target().release();
        await target().deleteKeys(key, `{${key}}`);
      }
    }, 60_000);
  });
}

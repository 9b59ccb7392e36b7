// One process of the cross-process ledger test: records FILLS fills and HITS hits on a shared Redis ledger,
// with a usage that depends on INDEX (so each process's share is distinguishable), then closes (flushes) and exits.
// Env: REDIS_URL or REDIS_CLUSTER_URLS (comma-separated masters), KEY, INDEX, FILLS, HITS. Prints `ready`, waits for `go`, prints `{ result }`.
import { createInterface } from 'node:readline';
import { PriceTable } from '../../../lib/ledger/price-table';
import { RedisCostLedger } from '../../../lib/redis/redis-cost-ledger';
import { connectCluster } from '../redis-target';

async function main(): Promise<void> {
  const prices = new PriceTable({ big: { inputPer1K: 0.0025, outputPer1K: 0.01 } });
  const cluster = process.env.REDIS_CLUSTER_URLS ? await connectCluster(process.env.REDIS_CLUSTER_URLS.split(',')) : undefined;
  const source = cluster === undefined ? { url: process.env.REDIS_URL! } : { client: cluster };
  // A short interval, so timer flushes run while recording goes on: the totals must be exact anyway.
  const ledger = new RedisCostLedger({ ...source, key: process.env.KEY!, prices, flushInterval: '20ms' });
  await ledger.flush(); // connected before the barrier
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

  const index = Number(process.env.INDEX);
  const usage = { promptTokens: 100 * (index + 1), completionTokens: 10 * (index + 1) };
  const fills = Number(process.env.FILLS);
  const hits = Number(process.env.HITS);
  for (let i = 0; i < fills; i++) ledger.recordFill({ namespace: 'chat', tenant: `t${i % 2}`, model: 'big', usage });
  for (let i = 0; i < hits; i++) {
    ledger.recordHit({ namespace: 'chat', tenant: `t${i % 2}`, model: 'big', usage });
    // Yield now and then so timer flushes interleave with recording.
    if (i % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  await ledger.close();
  await cluster?.close();
  process.stdout.write(JSON.stringify({ result: { fills, hits, dropped: ledger.dropped } }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

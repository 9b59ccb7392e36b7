// One process of the cross-process ledger test: records FILLS fills and HITS hits on a shared Redis ledger,
// with a usage that depends on INDEX (so each process's share is distinguishable), then closes (flushes) and exits.
// Env: REDIS_URL or REDIS_CLUSTER_URLS (comma-separated masters), KEY, INDEX, FILLS, HITS. Prints `ready`, waits for `go`, prints `{ result }`.
import { createInterface } from 'node:readline';
import { PriceTable } from '../../../lib/ledger/price-table';
import { RedisCostLedger } from '../../../lib/redis/redis-cost-ledger';
import { connectCluster } from '../redis-target';

async function main(): Promise<void> {
  const prices = new PriceTable({ big: { inputPer1K: 0.0025, outputPer1K: 0.01 } });
  const cluster = process.env.REDIS_CLUSTER_URLS
    ? await connectCluster(process.env.REDIS_CLUSTER_URLS.split(','))
    : undefined;
  const source = cluster === undefined ? { url: process.env.REDIS_URL! } : { client: cluster };
  // No timer flushes: the loop below sends its own, at known points.
  const ledger = new RedisCostLedger({ ...source, key: process.env.KEY!, prices, flushInterval: '1h' });
  await ledger.flush(); // connected before the barrier
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

  const index = Number(process.env.INDEX);
  const usage = { promptTokens: 100 * (index + 1), completionTokens: 10 * (index + 1) };
  const fills = Number(process.env.FILLS);
  const hits = Number(process.env.HITS);
  for (let i = 0; i < fills; i++) ledger.recordFill({ namespace: 'chat', tenant: `t${i % 2}`, model: 'big', usage });
  const flushes: Promise<void>[] = [];
  for (let i = 0; i < hits; i++) {
    ledger.recordHit({ namespace: 'chat', tenant: `t${i % 2}`, model: 'big', usage });
    if (i % 500 === 0) {
      // The flush takes its batch in a microtask, which `await null` lets run, and sends it. No reply can be
      // read before the next macrotask, so the next 250 hits are recorded while that batch is in flight.
      flushes.push(ledger.flush());
      await null;
    } else if (i % 500 === 250) {
      // Replies (this process's and the others') come in here, so the next flush finds the last one done.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await Promise.all(flushes);
  await ledger.close();
  await cluster?.close();
  process.stdout.write(JSON.stringify({ result: { fills, hits, dropped: ledger.dropped } }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

// One process of a service whose calls share a Redis semaphore. Env: REDIS_URL, PREFIX, MAX, CALLS, HOLD_MS,
// LEASE_TTL (ms, optional).
// Prints `ready`, waits for `go`, runs CALLS concurrent calls, prints `{ result: { intervals } }` where each
// interval is the [start, end] (Date.now) of one critical section.
import { createInterface } from 'node:readline';
import { limitConcurrency } from '../../../lib/concurrency/concurrency';
import { RedisSemaphore } from '../../../lib/redis/redis-semaphore';

async function main(): Promise<void> {
  // From a URL, as a service would: the semaphore connects and closes its own client.
  const semaphore = new RedisSemaphore({
    url: process.env.REDIS_URL!,
    prefix: process.env.PREFIX!,
    name: 'shared',
    max: Number(process.env.MAX),
    leaseTtl: Number(process.env.LEASE_TTL ?? 10_000),
    // A loaded test machine may stall a round trip; a fallback here would make the count meaningless.
    operationTimeout: '2s',
  });
  let fallbacks = 0;
  semaphore.events.on('fallback', () => fallbacks++);
  const intervals: Array<[number, number]> = [];
  const holdMs = Number(process.env.HOLD_MS ?? 5);
  const critical = limitConcurrency(
    async (): Promise<void> => {
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      intervals.push([start, Date.now()]);
    },
    { semaphore },
  );
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  await Promise.all(Array.from({ length: Number(process.env.CALLS ?? 10) }, () => critical()));
  process.stdout.write(JSON.stringify({ result: { intervals, fallbacks } }) + '\n');
  await semaphore.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

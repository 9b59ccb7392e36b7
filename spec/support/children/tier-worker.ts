// Another instance with a memory tier in front of the shared Redis. Env: REDIS_URL, KEY, PREFIX.
// Prints `ready` once it holds KEY's first value in its memory tier; on `go`, reads KEY every
// millisecond until it changes (printing `reading` once it has read it from memory again), then prints
// `{ result: { seen, memoryHits, afterMs } }`.
import { createInterface } from 'node:readline';
import { RedisStore, TieredStore } from '../../../lib/redis';

async function main(): Promise<void> {
  const store = new TieredStore({
    redis: new RedisStore({ url: process.env.REDIS_URL!, operationTimeout: '2s' }),
    channel: `${process.env.PREFIX}:tier`,
  });
  const key = process.env.KEY!;
  while (!store.coherent) await new Promise((r) => setTimeout(r, 5));
  const first = (await store.get(key))?.value;
  await store.get(key); // now from memory
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  const started = Date.now();
  let seen = first;
  while (seen === first && Date.now() - started < 5_000) {
    seen = (await store.get(key))?.value;
    // Two reads from memory: the test may update the key now.
    if (store.counts.memoryHits === 2) process.stdout.write('reading\n');
    await new Promise((r) => setTimeout(r, 1));
  }
  process.stdout.write(
    JSON.stringify({ result: { first, seen, memoryHits: store.counts.memoryHits, afterMs: Date.now() - started } }) +
      '\n',
  );
  await store.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

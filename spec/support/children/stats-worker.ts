// One instance counting into shared statistics. Env: REDIS_URL, PREFIX, CALLS.
// Prints `ready`, waits for `go`, makes CALLS calls over a few distinct questions, closes the cache
// (which sends its last counters) and prints `{ result: <its own stats().total> }`.
import { createInterface } from 'node:readline';
import { Cache, Cached } from '../../../lib';
import { RedisStore } from '../../../lib/redis';

async function main(): Promise<void> {
  const cache = new Cache({
    store: new RedisStore({ url: process.env.REDIS_URL!, operationTimeout: '2s' }),
    prefix: process.env.PREFIX!,
    sharedStats: { flushInterval: '50ms' },
  });
  class Faq {
    @Cached({ cache, ttl: '1m' })
    async answer(q: string): Promise<string> {
      return `answer to ${q}`;
    }
  }
  const faq = new Faq();
  await cache.store.get(`${process.env.PREFIX}:warm-up`);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  const calls = Number(process.env.CALLS ?? 50);
  for (let i = 0; i < calls; i++) await faq.answer(`q${i % 7}`);
  const { hits, misses, fills } = cache.stats().total;
  await cache.close();
  process.stdout.write(JSON.stringify({ result: { hits, misses, fills } }) + '\n');
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

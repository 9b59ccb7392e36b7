// One "instance" of a service: N concurrent identical calls of a @Cached method on a shared Redis.
// Env: REDIS_URL, PREFIX, CALLS, METHOD_MS. Prints `ready`, waits for `go`, prints `{ result }`.
import { createInterface } from 'node:readline';
import { Cache, Cached } from '../../../lib';
import { RedisStore } from '../../../lib/redis';

const cache = new Cache({ store: new RedisStore({ url: process.env.REDIS_URL! }), prefix: process.env.PREFIX! });
let methodCalls = 0;

class Assistant {
  @Cached({ cache, ttl: '1m' })
  async answer(question: string): Promise<{ text: string; pid: number }> {
    methodCalls++;
    await new Promise((r) => setTimeout(r, Number(process.env.METHOD_MS ?? 300)));
    return { text: `answer to ${question}`, pid: process.pid };
  }
}

async function main(): Promise<void> {
  // Connect before the barrier, so every worker starts from the same line.
  await cache.store.get(`${process.env.PREFIX}:warm-up`);
  const assistant = new Assistant();
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  const calls = Number(process.env.CALLS ?? 250);
  const answers = await Promise.all(Array.from({ length: calls }, () => assistant.answer('What is the refund policy?')));
  const distinct = [...new Set(answers.map((a) => JSON.stringify(a)))];
  process.stdout.write(JSON.stringify({ result: { methodCalls, distinct, stats: cache.stats().total } }) + '\n');
  await cache.close();
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

// One "instance" of a service: N concurrent identical calls of a @Cached method on a shared Redis.
// Env: REDIS_URL, PREFIX, CALLS. Prints `ready`, waits for `go`, makes the calls. The instance that takes the
// fill lease prints `filling` from the method and holds it until told `finish`; an instance that finds the
// lease taken prints `waiting`. Prints `{ result }` once every call has its answer.
import { createInterface } from 'node:readline';
import { Cache, Cached } from '../../../lib';
import { RedisStore } from '../../../lib/redis';

const store = new RedisStore({ url: process.env.REDIS_URL! });
const cache = new Cache({ store, prefix: process.env.PREFIX! });
const told = new Map<string, () => void>();
const heard = (line: string) => new Promise<void>((resolve) => told.set(line, resolve));
createInterface({ input: process.stdin }).on('line', (line) => told.get(line)?.());
let methodCalls = 0;

class Assistant {
  @Cached({ cache, ttl: '1m' })
  async answer(question: string): Promise<{ text: string; pid: number }> {
    methodCalls++;
    const finish = heard('finish');
    process.stdout.write('filling\n');
    await finish;
    return { text: `answer to ${question}`, pid: process.pid };
  }
}

// Says when this instance starts waiting for another one's fill (once: its calls share one wait).
const waitForFill = store.coordinator.waitForFill.bind(store.coordinator);
let waiting = false;
store.coordinator.waitForFill = (...args) => {
  if (!waiting) process.stdout.write('waiting\n');
  waiting = true;
  return waitForFill(...args);
};

async function main(): Promise<void> {
  // Connect before the barrier, so every worker starts from the same line.
  await cache.store.get(`${process.env.PREFIX}:warm-up`);
  const assistant = new Assistant();
  const go = heard('go');
  process.stdout.write('ready\n');
  await go;
  const calls = Number(process.env.CALLS ?? 250);
  const answers = await Promise.all(
    Array.from({ length: calls }, () => assistant.answer('What is the refund policy?')),
  );
  const distinct = [...new Set(answers.map((a) => JSON.stringify(a)))];
  process.stdout.write(JSON.stringify({ result: { methodCalls, distinct, stats: cache.stats().total } }) + '\n');
  await cache.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

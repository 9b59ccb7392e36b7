// One instance of a service that routes model requests through a ConcurrentRouter whose endpoint cap
// is a RedisSemaphore shared with the other instances. Env: REDIS_URL, PREFIX, BASE_URL, MAX, CALLS.
// Prints `ready`, waits for `go`, runs CALLS concurrent routes, prints `{ result: { ok, failed } }`.
import { createInterface } from 'node:readline';
import { ChatClient } from '../../../lib/llm';
import { ConcurrentRouter } from '../../../lib/router';
import { RedisSemaphore } from '../../../lib/redis';
import { connectTestClient } from '../redis';

async function main(): Promise<void> {
  const redis = await connectTestClient(process.env.REDIS_URL!);
  const max = Number(process.env.MAX);
  const client = new ChatClient({ baseURL: process.env.BASE_URL!, apiKey: 'k', connections: 16 });
  const router = new ConcurrentRouter({
    endpoints: [
      {
        name: 'shared',
        client,
        maxConcurrent: max,
        semaphore: new RedisSemaphore({ client: redis, prefix: process.env.PREFIX!, name: 'endpoint-shared', max }),
      },
    ],
  });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  const outcomes = await Promise.allSettled(
    Array.from({ length: Number(process.env.CALLS ?? 10) }, (_, i) =>
      router.route({ model: 'm', messages: [{ role: 'user', content: `q${process.pid}-${i}` }], temperature: 0 }),
    ),
  );
  const ok = outcomes.filter((o) => o.status === 'fulfilled').length;
  process.stdout.write(JSON.stringify({ result: { ok, failed: outcomes.length - ok } }) + '\n');
  await client.close();
  await redis.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

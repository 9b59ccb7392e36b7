// An instance of a semantically cached method over the shared Redis. Env: REDIS_URL, PREFIX.
// Prints `ready`; then for each stdin line `ask <question>` prints `{ answer: { value, calls, semanticHits } }`,
// on `stats` prints `{ stats: <the method's counters> }`, and exits on `exit`.
import { createInterface } from 'node:readline';
import { Cache, Cached } from '../../../lib';
import { RedisStore } from '../../../lib/redis';
import { OfflineEmbedder } from '../../../lib/semantic/offline-embedder';

async function main(): Promise<void> {
  const store = new RedisStore({ url: process.env.REDIS_URL!, operationTimeout: '2s' });
  const cache = new Cache({ store, prefix: process.env.PREFIX! });
  let calls = 0;
  class Support {
    @Cached({ cache, semantic: { embed: new OfflineEmbedder(), threshold: 0.7 } })
    async ask(question: string): Promise<string> {
      calls++;
      return `worker: ${question}`;
    }
  }
  const support = new Support();
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'exit') break;
    if (line === 'stats') {
      process.stdout.write(JSON.stringify({ stats: cache.stats().methods['default:Support.ask'] }) + '\n');
      continue;
    }
    if (!line.startsWith('ask ')) continue;
    const value = await support.ask(line.slice(4));
    const { semanticHits } = cache.stats().methods['default:Support.ask']!;
    process.stdout.write(JSON.stringify({ answer: { value, calls, semanticHits } }) + '\n');
  }
  await cache.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

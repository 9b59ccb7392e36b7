// One "instance" of a chat service: N concurrent identical streamed completions through a
// @Cached({ stream: true }) method on a shared Redis, against a LocalProvider in the parent.
// Env: REDIS_URL, PREFIX, BASE_URL, CALLS. Prints `ready`, waits for `go`, prints `{ result }`.
import { createInterface } from 'node:readline';
import { Cache, Cached, currentSignal } from '../../../lib';
import { ChatClient, chatKeyPolicy, type ChatCompletionChunk, type ChatRequest } from '../../../lib/llm';
import { RedisStore } from '../../../lib/redis';

const cache = new Cache({ store: new RedisStore({ url: process.env.REDIS_URL! }), prefix: process.env.PREFIX! });
const client = new ChatClient({ baseURL: process.env.BASE_URL!, apiKey: 'test-key' });

class Assistant {
  @Cached({ cache, ttl: '1m', stream: true, ...chatKeyPolicy({ tenant: false }) })
  stream(request: ChatRequest): AsyncIterable<ChatCompletionChunk> {
    return client.stream(request, { signal: currentSignal() });
  }
}

async function main(): Promise<void> {
  await cache.store.get(`${process.env.PREFIX}:warm-up`);
  const assistant = new Assistant();
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  const request: ChatRequest = {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'What is the refund policy?' }],
    temperature: 0,
  };
  const texts = await Promise.all(
    Array.from({ length: Number(process.env.CALLS ?? 20) }, async () => {
      let text = '';
      for await (const chunk of assistant.stream(request)) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    }),
  );
  process.stdout.write(
    JSON.stringify({ result: { distinct: [...new Set(texts)], stats: cache.stats().total } }) + '\n',
  );
  await Promise.all([cache.close(), client.close()]);
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});

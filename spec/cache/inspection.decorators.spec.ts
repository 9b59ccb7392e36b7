import { Cache, Cached, MemoryStore, OfflineEmbedder } from '../../lib';
import { manualClock } from '../ports/cache-store-contract';
import { describeInspection } from './inspection-suite';

// Runs twice: under legacy and TC39 standard decorators (`cache.peek` finds decorated methods in both).

let next = 0;
describeInspection(
  'memory',
  () => ({ kind: 'memory', store: async (clock) => new MemoryStore({ clock }), cleanup: async () => {} }),
  () => `mem${next++}`,
);

describe('looking inside a memory store', () => {
  it('peeks without refreshing the entry’s recency: the least recently used is still evicted first', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock, maxEntries: 2 });
    const cache = new Cache({ store, clock });
    class Service {
      @Cached({ cache })
      async get(id: string): Promise<string> {
        return id;
      }
    }
    const s = new Service();
    await s.get('old');
    await s.get('new');
    expect(await cache.peek(s, 'get', 'old')).toMatchObject({ value: 'old' });
    await s.get('third'); // evicts the least recently used: still `old`, as peek did not use it
    await expect(cache.peek(s, 'get', 'old')).resolves.toBeUndefined();
    expect(await cache.peek(s, 'get', 'new')).toMatchObject({ value: 'new' });
  });

  it('peeks at a semantic method’s exact entry without embedding the question', async () => {
    const cache = new Cache();
    class Support {
      @Cached({ cache, semantic: { embed: new OfflineEmbedder(), threshold: 0.7 } })
      async ask(question: string): Promise<string> {
        return `answer to ${question}`;
      }
    }
    const s = new Support();
    await s.ask('How do I reset my password?');
    const embeddings = cache.stats().total.embeddings;
    expect(await cache.peek(s, 'ask', 'How do I reset my password?')).toMatchObject({
      value: 'answer to How do I reset my password?',
    });
    // A question that means the same is a semantic hit for a call, but not an entry of its own.
    await expect(cache.peek(s, 'ask', 'How can I reset my password?')).resolves.toBeUndefined();
    expect(cache.stats().total).toMatchObject({ embeddings, semanticHits: 0, hits: 0 });
  });

  it('peeks at a stream’s recording, with the tags its chunks gave it', async () => {
    const cache = new Cache();
    class Streamer {
      @Cached({ cache, stream: true, tags: (chunks: string[]) => [`first:${chunks[0]}`] })
      async *words(text: string): AsyncGenerator<string> {
        for (const word of text.split(' ')) yield word;
      }
    }
    const s = new Streamer();
    for await (const word of s.words('hello cached world')) void word;
    expect(await cache.peek(s, 'words', 'hello cached world')).toMatchObject({
      value: { chunks: ['hello', 'cached', 'world'] },
      tags: ['first:hello'],
    });
  });

  it('lists only live keys', async () => {
    const clock = manualClock();
    const cache = new Cache({ store: new MemoryStore({ clock }), clock });
    const f = cache.wrap(async (ttl: string) => ttl, { name: 'f', ttl: (v: string) => v });
    await f('1s');
    await f('1h');
    clock.advance(1_000);
    const listed: string[] = [];
    for await (const page of cache.keys()) listed.push(...page);
    expect(listed).toEqual([(await cache.peek(f, '1h'))!.key]);
  });
});

import { Cache, Cached } from '../../lib';
import { RedisStore, TieredStore } from '../../lib/redis';
import { OfflineEmbedder } from '../../lib/semantic/offline-embedder';
import { startWorker, type Worker } from '../support/child-processes';
import { cleanUpKeys, connectTestClient, testRedisUrl, uniquePrefix } from '../support/redis';

// Similarities with OfflineEmbedder: "How do I reset my password?" vs "How can I reset my password?"
// 0.978, vs "How do I not reset my password?" 0.845 (a negation: the guard refuses it); threshold 0.7.

interface Answer {
  readonly value: string;
  readonly calls: number;
  readonly semanticHits: number;
}

function support(cache: Cache) {
  const calls: string[] = [];
  class Support {
    @Cached({ cache, semantic: { embed: new OfflineEmbedder(), threshold: 0.7 } })
    async ask(question: string): Promise<string> {
      calls.push(question);
      return `test: ${question}`;
    }
  }
  return { support: new Support(), calls };
}

describe('@Cached({ semantic }) over Redis', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const prefix of prefixes) await cleanUpKeys(prefix);
  });

  function newCache(tiered = false): Cache {
    const prefix = uniquePrefix('sem');
    prefixes.push(prefix);
    const redis = new RedisStore({ url: testRedisUrl(), operationTimeout: '2s' });
    return new Cache({ store: tiered ? new TieredStore({ redis, channel: `${prefix}:tier` }) : redis, prefix });
  }

  it.each([
    ['RedisStore', false],
    ['TieredStore', true],
  ])(
    '%s: serves a paraphrase, not a near miss, and keeps the question in one hash per partition',
    async (_, tiered) => {
      const cache = newCache(tiered);
      try {
        const { support: s, calls } = support(cache);
        await s.ask('How do I reset my password?');
        await expect(s.ask('How can I reset my password?')).resolves.toBe('test: How do I reset my password?');
        await s.ask('How do I not reset my password?');
        expect(calls).toEqual(['How do I reset my password?', 'How do I not reset my password?']);
        const client = await connectTestClient();
        try {
          const [hash] = await client
            .sendCommand<[string, string[]]>(['SCAN', '0', 'MATCH', `${prefixes.at(-1)}:*:sem:*`, 'COUNT', '1000'])
            .then(([, keys]) => keys);
          expect(hash).toBeDefined();
          const fields = await client.sendCommand<string[]>(['HKEYS', hash!]);
          expect(fields).toHaveLength(2);
          expect(await client.sendCommand<number>(['PTTL', hash!])).toBeGreaterThan(0);
        } finally {
          await client.close();
        }
      } finally {
        await cache.close();
      }
    },
  );

  describe('across processes', () => {
    let worker: Worker;
    let cache: Cache;
    let store: RedisStore;
    let prefix: string;
    beforeEach(async () => {
      prefix = uniquePrefix('sem');
      prefixes.push(prefix);
      store = new RedisStore({ url: testRedisUrl(), operationTimeout: '2s' });
      cache = new Cache({ store, prefix });
      worker = startWorker('semantic-worker', { REDIS_URL: testRedisUrl(), PREFIX: prefix });
      await worker.ready;
    });
    afterEach(async () => {
      worker.tell('exit');
      await worker.exited;
      await cache.close();
    });

    const ask = async (question: string): Promise<Answer> => {
      worker.tell(`ask ${question}`);
      return worker.message<Answer>('answer');
    };

    it('finds a question another process cached (read from Redis), and none anywhere once it is invalidated', async () => {
      await expect(ask('How do I reset my password?')).resolves.toMatchObject({ calls: 1 });
      const { support: s, calls } = support(cache);
      await expect(s.ask('How can I reset my password?')).resolves.toBe('worker: How do I reset my password?');
      expect(calls).toEqual([]);
      expect(cache.stats().methods['default:Support.ask']).toMatchObject({ semanticHits: 1 });

      await cache.invalidate(s, 'ask', 'How do I reset my password?');
      await expect(s.ask('How can I reset my password?')).resolves.toBe('test: How can I reset my password?');
      await expect(ask('how could I reset my password?')).resolves.toMatchObject({ semanticHits: 1 });
      await expect(ask('How do I reset my password?')).resolves.toMatchObject({
        value: 'test: How can I reset my password?',
      });
    });
  });
});

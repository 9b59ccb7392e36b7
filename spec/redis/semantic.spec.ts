import { Cache, Cached } from '../../lib';
import { RedisStore, TieredStore } from '../../lib/redis';
import { OfflineEmbedder } from '../../lib/semantic/offline-embedder';
import { eventually } from '../support/async';
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
    let workers: Worker[];
    let cache: Cache;
    let store: RedisStore;
    let prefix: string;
    const startOne = async (): Promise<Worker> => {
      const worker = startWorker('semantic-worker', { REDIS_URL: testRedisUrl(), PREFIX: prefix });
      workers.push(worker);
      await worker.ready;
      return worker;
    };
    beforeEach(() => {
      prefix = uniquePrefix('sem');
      prefixes.push(prefix);
      store = new RedisStore({ url: testRedisUrl(), operationTimeout: '2s' });
      cache = new Cache({ store, prefix });
      workers = [];
    });
    afterEach(async () => {
      for (const worker of workers) worker.tell('exit');
      await Promise.all(workers.map((worker) => worker.exited));
      await cache.close();
    });

    const ask = async (worker: Worker, question: string): Promise<Answer> => {
      worker.tell(`ask ${question}`);
      return worker.message<Answer>('answer');
    };

    const statsOf = async (worker: Worker): Promise<{ semanticNotices: number }> => {
      worker.tell('stats');
      return worker.message<{ semanticNotices: number }>('stats');
    };

    it('an instance that already read the partition learns a question another process added, by notice', async () => {
      const worker = await startOne();
      // The worker reads the partition (empty) and subscribes to the notices before it answers.
      await expect(ask(worker, 'How do I reset my password?')).resolves.toMatchObject({ calls: 1 });
      const { support: s, calls } = support(cache);
      // Another question of the same partition (similarity 0.075: no match), cached by this process.
      await expect(s.ask('How do I cancel my subscription?')).resolves.toBe('test: How do I cancel my subscription?');
      expect(calls).toEqual(['How do I cancel my subscription?']);
      await eventually(async () => (await statsOf(worker)).semanticNotices === 1);

      // The partition's hash goes: the worker can only know the question from the notice it received.
      const client = await connectTestClient();
      try {
        const [, hashes] = await client.sendCommand<[string, string[]]>([
          'SCAN',
          '0',
          'MATCH',
          `${prefix}:*:sem:*`,
          'COUNT',
          '1000',
        ]);
        expect(hashes).toHaveLength(1);
        expect(await client.sendCommand<number>(['DEL', hashes[0]!])).toBe(1);
      } finally {
        await client.close();
      }
      await expect(ask(worker, 'How can I cancel my subscription?')).resolves.toEqual({
        value: 'test: How do I cancel my subscription?',
        calls: 1,
        semanticHits: 1,
      });
      // Its own question did not count as learned, and this process learned nothing by notice either.
      expect((await statsOf(worker)).semanticNotices).toBe(1);
      expect(cache.stats().methods['default:Support.ask']).toMatchObject({ semanticNotices: 0 });
    });

    it('explains a lookup over a partition read from Redis, naming the question another process cached', async () => {
      const worker = await startOne();
      await ask(worker, 'How do I reset my password?');
      await ask(worker, 'How do I not reset my password?');
      const { support: s, calls } = support(cache);
      const explain = () => cache.explainSemantic(s, 'ask', 'How can I reset my password?');
      const explained = await explain();
      expect(explained).toMatchObject({
        question: 'How can I reset my password?',
        served: { question: 'How do I reset my password?' },
        candidates: [
          { question: 'How do I reset my password?' },
          { question: 'How do I not reset my password?', refusedBy: 'negation' },
        ],
      });
      expect(explained.candidates[0]!.refusedBy).toBeUndefined();
      expect(explained.candidates[0]!.similarity).toBeGreaterThan(0.97);
      // The partition is the hash in Redis holding both questions.
      const client = await connectTestClient();
      try {
        expect(explained.partition!.startsWith(`${prefix}:`)).toBe(true);
        expect(await client.sendCommand<number>(['HLEN', explained.partition!])).toBe(2);
      } finally {
        await client.close();
      }
      expect(calls).toEqual([]);
      expect(cache.stats().methods['default:Support.ask']).toMatchObject({ semanticHits: 0, misses: 0, embeddings: 1 });

      // Invalidated by this process: the question is still indexed, and its entry is gone.
      await cache.invalidate(s, 'ask', 'How do I reset my password?');
      await expect(explain()).resolves.toMatchObject({
        served: undefined,
        candidates: [{ question: 'How do I reset my password?', refusedBy: 'gone' }, { refusedBy: 'negation' }],
      });
    });

    // The cases below use what each process reads from Redis when it first reads a partition.
    it('finds a question another process cached (read from Redis), and none anywhere once it is invalidated', async () => {
      const first = await startOne();
      await expect(ask(first, 'How do I reset my password?')).resolves.toMatchObject({ calls: 1 });
      const { support: s, calls } = support(cache);
      await expect(s.ask('How can I reset my password?')).resolves.toBe('worker: How do I reset my password?');
      expect(calls).toEqual([]);
      expect(cache.stats().methods['default:Support.ask']).toMatchObject({ semanticHits: 1 });

      await cache.invalidate(s, 'ask', 'How do I reset my password?');
      await expect(s.ask('How can I reset my password?')).resolves.toBe('test: How can I reset my password?');

      // A process that starts now reads the partition: the test's question is there, the invalidated one is not.
      const second = await startOne();
      await expect(ask(second, 'How do I reset my password?')).resolves.toMatchObject({
        value: 'test: How can I reset my password?',
        calls: 0,
        semanticHits: 1,
      });
      // The first process still holds the invalidated question in its index; it finds its entry gone and
      // does not serve it: it runs the method, or finds the test's question if the notice came first.
      const again = await ask(first, 'How do I reset my password?');
      expect(again.calls === 2 || again.value === 'test: How can I reset my password?').toBe(true);
    });
  });
});

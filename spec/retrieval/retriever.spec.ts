import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { RedisBlobStore } from '../../lib/redis';
import {
  Bm25Index,
  loadSnapshotFile,
  saveSnapshotFile,
  saveSnapshot,
  SnapshotError,
  StreamingRetriever,
  type RetrievalDocument,
  type ScoredChunk,
} from '../../lib/retrieval';
import { Cache, Concurrency, RateLimited, setDefaultCache } from '../../lib';
import { deferred } from '../support/async';
import { startWorker } from '../support/child-processes';
import { connectTestClient, deleteKeys, testRedisUrl, uniquePrefix } from '../support/redis';

const DOCS: RetrievalDocument[] = [
  { id: 'refund-yearly', text: 'Yearly plans can be refunded pro rata within 14 days of purchase.' },
  { id: 'refund-monthly', text: 'Monthly plans are not refunded; cancel any time before renewal.' },
  { id: 'export', text: 'Export your projects to CSV or JSON under Settings, Export.' },
  { id: 'zh-refund', text: '年付计划在购买后十四天内可以按比例退款。' },
  { id: 'zh-export', text: '在设置中可以把项目导出为 CSV 或 JSON 文件。' },
];

function indexOf(docs = DOCS, options = {}): Bm25Index {
  const index = new Bm25Index(options);
  for (const doc of docs) index.add(doc);
  return index;
}

const ids = (hits: readonly ScoredChunk[]) => hits.map((h) => h.docId);

describe('Bm25Index', () => {
  it('ranks the passage that shares the rarer terms first, in English and in Chinese', () => {
    const index = indexOf();
    expect(ids(index.search('refund yearly plan'))[0]).toBe('refund-yearly');
    expect(ids(index.search('Export to csv'))[0]).toBe('export');
    expect(ids(index.search('年付退款'))[0]).toBe('zh-refund');
    expect(ids(index.search('导出 CSV'))[0]).toBe('zh-export');
    expect(index.search('nothing matches this')).toEqual([]);
  });

  it('changes results and version when a document is added or removed, and back again', () => {
    const index = indexOf();
    const before = index.version;
    index.add({ id: 'refund-annual', text: 'Annual refund policy: yearly refund yearly refund.' });
    expect(index.version).not.toBe(before);
    expect(ids(index.search('yearly refund'))[0]).toBe('refund-annual');
    expect(index.remove('refund-annual')).toBe(true);
    expect(index.version).toBe(before);
    expect(ids(index.search('yearly refund'))[0]).toBe('refund-yearly');
    expect(index.remove('refund-annual')).toBe(false);
  });

  it('has the same version on instances holding the same documents, whatever the order', () => {
    expect(indexOf([...DOCS].reverse()).version).toBe(indexOf().version);
    expect(indexOf(DOCS, { k1: 1.5 }).version).not.toBe(indexOf().version);
  });

  it('replaces a document added again under the same id', () => {
    const index = indexOf();
    index.add({ id: 'export', text: 'Imports come from Trello and Asana.' });
    expect(index.size).toBe(DOCS.length);
    expect(ids(index.search('export csv'))).not.toContain('export');
  });

  it('answers identically after a snapshot round trip through a Buffer and a file', async () => {
    const index = indexOf(DOCS, { chunking: { size: 30, overlap: 0 } });
    const queries = ['refund yearly plan', '导出 CSV', 'settings'];
    const copy = Bm25Index.fromSnapshot(index.toSnapshot());
    const path = join(mkdtempSync(join(tmpdir(), 'cachet-')), 'index.bm25');
    await saveSnapshotFile(index, path);
    const fromFile = await loadSnapshotFile(path);
    for (const loaded of [copy, fromFile]) {
      expect(loaded.version).toBe(index.version);
      for (const q of queries) expect(loaded.search(q)).toEqual(index.search(q));
    }
  });

  it('rejects bytes that are not a snapshot with a SnapshotError', async () => {
    expect(() => Bm25Index.fromSnapshot(Buffer.from('hello'))).toThrow(SnapshotError);
    const path = join(mkdtempSync(join(tmpdir(), 'cachet-')), 'bad.bm25');
    writeFileSync(path, 'not gzip');
    await expect(loadSnapshotFile(path)).rejects.toThrow(/Expected a Bm25Index snapshot/);
  });

  it('refuses a snapshot whose terms were stemmed by the earlier rules (version 1)', () => {
    const body = JSON.parse(gunzipSync(indexOf().toSnapshot()).toString('utf8')) as { version: number };
    expect(body.version).toBe(2);
    body.version = 1;
    expect(() => Bm25Index.fromSnapshot(gzipSync(JSON.stringify(body)))).toThrow(
      /Expected a cachet-bm25 snapshot of version 2, got cachet-bm25 1/,
    );
  });

  it('answers identically in another process that loads the snapshot from Redis', async () => {
    const key = `${uniquePrefix('bm25')}:index`;
    const client = await connectTestClient();
    const blobs = new RedisBlobStore({ client });
    const index = indexOf(DOCS, { chunking: { size: 30, overlap: 0 } });
    const queries = ['refund yearly plan', '导出 CSV', 'monthly renewal'];
    try {
      await saveSnapshot(index, blobs, key);
      const worker = startWorker('snapshot-worker', {
        REDIS_URL: testRedisUrl(),
        KEY: key,
        QUERIES: JSON.stringify(queries),
      });
      await worker.ready;
      worker.go();
      const result = (await worker.result) as { version: string; answers: unknown[] };
      expect(result.version).toBe(index.version);
      expect(result.answers).toEqual(
        queries.map((q) => index.search(q, { topK: 5 }).map((h) => [h.docId, h.start, h.end, h.score])),
      );
    } finally {
      await deleteKeys(client, key);
      await blobs.close();
      await client.close();
    }
  }, 30_000);

  it('rejects bad options', () => {
    expect(() => new Bm25Index({ b: 2 })).toThrow(/Expected `b` to be a number from 0 to 1/);
    expect(() => new Bm25Index({ chunking: { size: -1 } })).toThrow(/Expected `size` to be a number >= 1/);
    expect(() => indexOf().search('x', { topK: 0 })).toThrow(/Expected `topK` to be a positive integer/);
    expect(() => new Bm25Index().add({ id: '', text: 'x' })).toThrow(
      /Expected `document` to be \{ id: non-empty string, text: string \}/,
    );
  });
});

describe('StreamingRetriever', () => {
  let cache: Cache;
  beforeEach(() => {
    cache = new Cache();
    setDefaultCache(cache);
  });

  it('streams the ranked chunks and stops cleanly on break', async () => {
    const retriever = new StreamingRetriever(indexOf());
    const seen: string[] = [];
    for await (const hit of retriever.retrieve('refund plans', { topK: 5 })) {
      seen.push(hit.docId);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(ids(retriever.index.search('refund plans', { topK: 2 })));
  });

  it('stops on abort with the signal’s reason', async () => {
    const retriever = new StreamingRetriever(indexOf());
    const controller = new AbortController();
    const stream = retriever.retrieve('refund plans', { signal: controller.signal });
    await stream.next();
    controller.abort(new Error('enough'));
    await expect(stream.next()).rejects.toThrow('enough');
  });

  it('caches searches per index version: a change to the corpus is never answered from a stale entry', async () => {
    const retriever = new StreamingRetriever(indexOf());
    const first = await retriever.search('refund yearly');
    await retriever.search('refund yearly');
    expect(cache.stats().methods['retrieval:StreamingRetriever.search']).toMatchObject({ hits: 1, misses: 1 });
    retriever.add({ id: 'refund-annual', text: 'Yearly refund, yearly refund, yearly refund.' });
    const after = await retriever.search('refund yearly');
    expect(ids(after)[0]).toBe('refund-annual');
    expect(ids(first)[0]).toBe('refund-yearly');
    retriever.remove('refund-annual');
    expect(await retriever.search('refund yearly')).toEqual(first);
    expect(cache.stats().methods['retrieval:StreamingRetriever.search']).toMatchObject({ hits: 2, misses: 2 });
  });

  it('composes with @RateLimited and @Concurrency on a subclass (a non-model service under the same decorators)', async () => {
    let active = 0;
    let most = 0;
    class Capped extends StreamingRetriever {
      @RateLimited({ limit: 3, interval: '1m', burst: 3 })
      @Concurrency({ max: 1 })
      override async search(query: string): Promise<ScoredChunk[]> {
        active++;
        most = Math.max(most, active);
        await new Promise((resolve) => setImmediate(resolve));
        active--;
        return super.search(query);
      }
    }
    const retriever = new Capped(indexOf());
    const results = await Promise.all(['refund', 'export', '退款'].map((q) => retriever.search(q)));
    expect(most).toBe(1);
    expect(results.map((r) => r.length > 0)).toEqual([true, true, true]);
    await expect(retriever.search('one too many')).rejects.toMatchObject({ name: 'RateLimitError' });
  });

  describe('retrieveFrom: documents supplied at query time', () => {
    it('yields a relevant chunk before a slow source has finished', async () => {
      const retriever = new StreamingRetriever(indexOf());
      const gate = deferred<void>();
      let finished = false;
      async function* slowSource(): AsyncGenerator<RetrievalDocument> {
        yield { id: 'fast', text: 'Refunds for yearly plans are pro rata.' };
        await gate.promise;
        yield { id: 'late', text: 'A late document about refunds.' };
        finished = true;
      }
      const stream = retriever.retrieveFrom('yearly refund', slowSource());
      const first = await stream.next();
      expect(first.value).toMatchObject({ docId: 'fast' });
      expect(finished).toBe(false);
      gate.resolve();
      const rest: string[] = [];
      for await (const hit of stream) rest.push(hit.docId);
      expect(rest).toEqual(['late']);
      expect(finished).toBe(true);
    });

    it('does not wait for the slowest document before yielding the others', async () => {
      const retriever = new StreamingRetriever(indexOf());
      const docs = Array.from({ length: 6 }, (_, i) => ({ id: `d${i}`, text: `refund policy number ${i}` }));
      const hits: string[] = [];
      for await (const hit of retriever.retrieveFrom('refund', docs, { concurrency: 3 })) hits.push(hit.docId);
      expect(hits.sort()).toEqual(docs.map((d) => d.id));
    });

    it('stops at once on abort while the source is stalled', async () => {
      const retriever = new StreamingRetriever(indexOf());
      const never = deferred<void>();
      async function* stalled(): AsyncGenerator<RetrievalDocument> {
        yield { id: 'one', text: 'refund' };
        await never.promise;
      }
      const controller = new AbortController();
      const stream = retriever.retrieveFrom('refund', stalled(), { signal: controller.signal });
      await stream.next();
      const pending = stream.next();
      controller.abort(new Error('caller left'));
      await expect(pending).rejects.toThrow('caller left');
    });

    it('leaves out chunks below minScore and validates its options', async () => {
      const retriever = new StreamingRetriever(indexOf());
      const docs = [
        { id: 'a', text: 'refund refund refund yearly' },
        { id: 'b', text: 'settings' },
      ];
      const hits: ScoredChunk[] = [];
      for await (const hit of retriever.retrieveFrom('yearly refund', docs, { minScore: 0.5 })) hits.push(hit);
      expect(hits.map((h) => h.docId)).toEqual(['a']);
      await expect(retriever.retrieveFrom('x', docs, { concurrency: 0 }).next()).rejects.toThrow(
        /Expected `concurrency` to be a positive integer/,
      );
    });
  });
});

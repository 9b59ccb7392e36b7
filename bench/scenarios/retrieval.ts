import { Bm25Index, StreamingRetriever, createTokenizer, type RetrievalDocument } from '../../lib/retrieval';
import { cranfieldDir, loadCranfield, ndcgAt, recallAt, type Cranfield } from '../retrieval/cranfield';
import { elapsedMs, quantile } from '../support/measure';
import { atLeast, atMost, row, type Result, type Scenario } from '../support/scenario';

const NAME = 'retrieval';
/** Cranfield documents are abstracts: each is indexed whole, as one chunk. */
const OPTIONS = { chunking: { size: 8_000, overlap: 0 } } as const;

/**
 * Ranking quality and speed on the Cranfield dev queries (../shared/eval/cranfield): nDCG@10 and
 * recall against the published JavaScript BM25 range, query latency against rescanning every
 * document per query (what LangChain.js's BM25 retriever does), indexing speed, and the time to the
 * first streamed result against the time to all of them.
 */
export const retrieval: Scenario = {
  name: NAME,
  measures:
    '`Bm25Index` (k1 1.2, b 0.75, Porter stemming, stop words; abstracts whole) on the 113 Cranfield dev queries',
  baseline:
    'nDCG@10 0.34 (top of the published JS BM25 range); latency: the same BM25 recomputed over every document per query',
  async run(): Promise<Result[]> {
    const data = loadCranfield(cranfieldDir());
    const indexStarted = process.hrtime.bigint();
    const index = new Bm25Index(OPTIONS);
    for (const doc of data.docs) index.add(doc);
    const indexMs = elapsedMs(indexStarted);

    const quality = evaluate(data, (q) => rankDocs(index.search(q, { topK: 300 }).map((h) => h.docId)));
    const naive = rescanningBm25(data.docs);
    // Same ranking from the rescan, or the latency comparison would compare different work.
    const sample = data.queries[0]!.text;
    if (naive(sample)[0] !== rankDocs(index.search(sample, { topK: 10 }).map((h) => h.docId))[0]) {
      throw new Error('retrieval: the rescanning baseline ranks differently from the index');
    }
    const ours = latencies(data, (q) => index.search(q, { topK: 10 }));
    const base = latencies(data, (q) => naive(q));
    const stream = await timeToFirst(index, data);

    const p = (xs: number[], q: number) =>
      quantile(
        [...xs].sort((a, b) => a - b),
        q,
      );
    return [
      row(
        NAME,
        'nDCG@10, 113 dev queries',
        'nDCG',
        quality.ndcg10,
        0.34,
        atLeast(0.36, 'ours'),
        'baseline: top of the published JS BM25 range (0.30-0.34)',
      ),
      row(NAME, 'recall@10', 'recall', quality.recall10, NaN, undefined, 'relevant = grade > 0'),
      row(NAME, 'recall@100', 'recall', quality.recall100, NaN),
      row(
        NAME,
        'query latency p50',
        'µs',
        p(ours, 0.5) * 1e3,
        p(base, 0.5) * 1e3,
        atMost(0.2),
        'topK 10; baseline rescans all 1,400 documents',
      ),
      row(NAME, 'query latency p95', 'µs', p(ours, 0.95) * 1e3, p(base, 0.95) * 1e3),
      row(
        NAME,
        'documents indexed per second',
        'docs/s',
        data.docs.length / (indexMs / 1e3),
        NaN,
        undefined,
        `${index.chunkCount} chunks, ${indexMs.toFixed(0)} ms`,
      ),
      row(
        NAME,
        'retrieveFrom: time to first result vs to all, 1,400 docs streamed in',
        'ms',
        stream.firstMs,
        stream.allMs,
        atMost(0.1),
        `${stream.results} relevant chunks; the source yields one document per event-loop turn`,
      ),
    ];
  },
};

/** Doc ids in rank order, each once (a document's best chunk counts). */
function rankDocs(docIds: readonly string[]): string[] {
  return [...new Set(docIds)];
}

function evaluate(data: Cranfield, rank: (query: string) => string[]) {
  let ndcg10 = 0;
  let recall10 = 0;
  let recall100 = 0;
  let judgedQueries = 0;
  for (const query of data.queries) {
    const judged = data.qrels.get(query.id);
    if (judged === undefined) continue;
    const ranked = rank(query.text);
    ndcg10 += ndcgAt(10, ranked, judged);
    recall10 += recallAt(10, ranked, judged);
    recall100 += recallAt(100, ranked, judged);
    judgedQueries++;
  }
  return { ndcg10: ndcg10 / judgedQueries, recall10: recall10 / judgedQueries, recall100: recall100 / judgedQueries };
}

/** Milliseconds per query, every dev query three times after one warm-up pass. */
function latencies(data: Cranfield, search: (query: string) => unknown): number[] {
  for (const q of data.queries) search(q.text);
  const out: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const q of data.queries) {
      const started = process.hrtime.bigint();
      search(q.text);
      out.push(elapsedMs(started));
    }
  }
  return out;
}

/** BM25 without an inverted index: every document tokenised once, every query scores all of them. */
function rescanningBm25(docs: readonly RetrievalDocument[]): (query: string) => string[] {
  const tokenize = createTokenizer();
  const bags = docs.map((d) => {
    const counts = new Map<string, number>();
    for (const t of tokenize(d.text)) counts.set(t, (counts.get(t) ?? 0) + 1);
    let length = 0;
    for (const c of counts.values()) length += c;
    return { id: d.id, counts, length };
  });
  const average = bags.reduce((s, b) => s + b.length, 0) / bags.length;
  return (query: string) => {
    const terms = new Map<string, number>();
    for (const t of tokenize(query)) terms.set(t, (terms.get(t) ?? 0) + 1);
    const df = new Map<string, number>();
    for (const term of terms.keys()) df.set(term, bags.filter((b) => b.counts.has(term)).length);
    const scored = bags.map((b) => {
      let score = 0;
      for (const [term, qtf] of terms) {
        const tf = b.counts.get(term);
        if (tf === undefined) continue;
        const n = df.get(term)!;
        const idf = Math.log(1 + (bags.length - n + 0.5) / (n + 0.5));
        score += (qtf * idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * b.length) / average));
      }
      return { id: b.id, score };
    });
    return scored
      .filter((s) => s.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, 10)
      .map((s) => s.id);
  };
}

/** `retrieveFrom` over the collection streamed in one document per turn: first result vs all results. */
async function timeToFirst(
  index: Bm25Index,
  data: Cranfield,
): Promise<{ firstMs: number; allMs: number; results: number }> {
  const retriever = new StreamingRetriever(index);
  async function* source(): AsyncGenerator<RetrievalDocument> {
    for (const doc of data.docs) {
      await new Promise((resolve) => setImmediate(resolve));
      yield doc;
    }
  }
  const started = process.hrtime.bigint();
  let firstMs = NaN;
  let results = 0;
  for await (const _hit of retriever.retrieveFrom(data.queries[0]!.text, source(), { minScore: 5 })) {
    if (results++ === 0) firstMs = elapsedMs(started);
  }
  return { firstMs, allMs: elapsedMs(started), results };
}

import { createHash } from 'node:crypto';
import { chunk, type Chunk } from './chunk';
import {
  assertDocument,
  resolveBm25Options,
  resolveSearchOptions,
  type Bm25Options,
  type ResolvedBm25,
  type RetrievalDocument,
  type SearchOptions,
} from './bm25-options';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_VERSION } from './bm25-snapshot';
import { createTokenizer, type Tokenizer } from './tokenize';

/** A chunk with its BM25 score for a query. */
export interface ScoredChunk extends Chunk {
  readonly score: number;
}

interface Posting {
  readonly slots: number[];
  readonly tfs: number[];
}

interface StoredChunk {
  readonly chunk: Chunk;
  readonly length: number;
  readonly terms: ReadonlyMap<string, number>;
}

interface StoredDoc {
  readonly text: string;
  readonly digest: bigint;
  readonly slots: readonly number[];
}

/**
 * An inverted index of document chunks, scored with Okapi BM25. Documents are added and removed one at
 * a time; {@link version} changes with every change and is the same on every instance holding the same
 * documents with the same options, so it can key cached searches across instances. A snapshot
 * ({@link toSnapshot}, {@link Bm25Index.fromSnapshot}) carries the built postings, so another instance
 * loads it without tokenising anything.
 *
 * @example
 * const index = new Bm25Index({ chunking: { size: 600 } });
 * index.add({ id: 'refunds', text: 'Yearly plans are refunded pro rata within 14 days...' });
 * index.search('refund yearly plan', { topK: 5 });
 */
export class Bm25Index {
  readonly #options: ResolvedBm25;
  readonly #tokenize: Tokenizer;
  /** Per term, the chunk slots holding it and its frequency in each, as parallel arrays (fast to scan). */
  readonly #postings = new Map<string, Posting>();
  readonly #chunks: (StoredChunk | undefined)[] = [];
  readonly #docs = new Map<string, StoredDoc>();
  readonly #configDigest: string;
  #totalLength = 0;
  #liveChunks = 0;
  #fingerprint = 0n;

  constructor(options: Bm25Options = {}) {
    this.#options = resolveBm25Options(options);
    this.#tokenize = createTokenizer(this.#options.tokenizer);
    this.#configDigest = createHash('sha256')
      .update(`${SNAPSHOT_VERSION}:${JSON.stringify(this.#options)}`)
      .digest('base64url')
      .slice(0, 8);
  }

  /** Documents indexed. */
  get size(): number {
    return this.#docs.size;
  }

  /** Chunks indexed. */
  get chunkCount(): number {
    return this.#liveChunks;
  }

  /**
   * Identifies the index's content and options: it changes when a document is added, replaced or
   * removed, and two indexes with the same documents and options have the same version.
   */
  get version(): string {
    return `${this.#configDigest}.${this.#docs.size}.${this.#fingerprint.toString(36)}`;
  }

  has(id: string): boolean {
    return this.#docs.has(id);
  }

  /** The text of an indexed document. */
  text(id: string): string | undefined {
    return this.#docs.get(id)?.text;
  }

  /** The tokenizer this index uses, for scoring text outside it the same way. */
  get tokenize(): Tokenizer {
    return this.#tokenize;
  }

  /** Adds a document, or replaces the one with the same id. */
  add(document: RetrievalDocument): void {
    assertDocument(document);
    if (this.#docs.has(document.id)) this.remove(document.id);
    const slots: number[] = [];
    for (const piece of chunk(document.text, { ...this.#options.chunking, docId: document.id })) {
      const terms = termCounts(this.#tokenize(piece.text));
      let length = 0;
      for (const tf of terms.values()) length += tf;
      slots.push(this.#store({ chunk: piece, length, terms }));
    }
    const digest = digestOf(document);
    this.#docs.set(document.id, { text: document.text, digest, slots });
    this.#fingerprint ^= digest;
  }

  /** Removes a document; returns whether it was there. */
  remove(id: string): boolean {
    const doc = this.#docs.get(id);
    if (doc === undefined) return false;
    for (const slot of doc.slots) {
      const stored = this.#chunks[slot]!;
      for (const term of stored.terms.keys()) {
        const posting = this.#postings.get(term)!;
        const at = posting.slots.indexOf(slot);
        // Swap with the last entry and pop: order within a posting does not matter.
        posting.slots[at] = posting.slots[posting.slots.length - 1]!;
        posting.tfs[at] = posting.tfs[posting.tfs.length - 1]!;
        posting.slots.pop();
        posting.tfs.pop();
        if (posting.slots.length === 0) this.#postings.delete(term);
      }
      this.#totalLength -= stored.length;
      this.#liveChunks--;
      this.#chunks[slot] = undefined;
    }
    this.#docs.delete(id);
    this.#fingerprint ^= doc.digest;
    return true;
  }

  /** The best chunks for `query`, best first. */
  search(query: string, options: SearchOptions = {}): ScoredChunk[] {
    const { topK, minScore } = resolveSearchOptions(options);
    const { scores, touched } = this.#score(query);
    const kept = touched.filter((slot) => scores[slot]! > 0 && scores[slot]! >= minScore);
    // Ties break by document id, then chunk position, so every instance ranks alike.
    kept.sort((a, b) => scores[b]! - scores[a]! || this.#compareSlots(a, b));
    const ranked: ScoredChunk[] = [];
    for (let i = 0; i < kept.length && i < topK; i++)
      ranked.push({ ...this.#chunks[kept[i]!]!.chunk, score: scores[kept[i]!]! });
    return ranked;
  }

  /**
   * Scores text that is not in the index (a chunk read at query time) with this index's statistics:
   * its document frequencies and average length stand for the collection's.
   */
  scoreText(queryTerms: readonly string[], text: string): number {
    const terms = termCounts(this.#tokenize(text));
    let length = 0;
    for (const tf of terms.values()) length += tf;
    let score = 0;
    for (const [term, qtf] of termCounts(queryTerms)) {
      const tf = terms.get(term);
      if (tf === undefined) continue;
      const idf = this.#idf(this.#postings.get(term)?.slots.length ?? 0, Math.max(1, this.#liveChunks + 1));
      score += qtf * this.#saturate(idf, tf, length);
    }
    return score;
  }

  /** The whole index as a compressed Buffer, for {@link Bm25Index.fromSnapshot} elsewhere. */
  toSnapshot(): Buffer {
    const docs = [...this.#docs].map(([id, doc]) => ({
      id,
      text: doc.text,
      chunks: doc.slots.map((slot) => {
        const stored = this.#chunks[slot]!;
        return { start: stored.chunk.start, end: stored.chunk.end, terms: stored.terms };
      }),
    }));
    return encodeSnapshot(this.#options, docs);
  }

  /** Rebuilds an index from {@link toSnapshot}'s Buffer; throws {@link SnapshotError} for anything else. */
  static fromSnapshot(snapshot: Buffer | Uint8Array): Bm25Index {
    const body = decodeSnapshot(snapshot);
    const index = new Bm25Index(body.options);
    for (const doc of body.docs) {
      const slots = doc.chunks.map(([start, end, termIds, tfs], i) => {
        const terms = new Map<string, number>();
        let length = 0;
        termIds.forEach((termId, j) => {
          terms.set(body.terms[termId]!, tfs[j]!);
          length += tfs[j]!;
        });
        return index.#store({
          chunk: { docId: doc.id, index: i, start, end, text: doc.text.slice(start, end) },
          length,
          terms,
        });
      });
      const digest = digestOf(doc);
      index.#docs.set(doc.id, { text: doc.text, digest, slots });
      index.#fingerprint ^= digest;
    }
    return index;
  }

  #store(stored: StoredChunk): number {
    const slot = this.#chunks.length;
    this.#chunks.push(stored);
    for (const [term, tf] of stored.terms) {
      let posting = this.#postings.get(term);
      if (posting === undefined) this.#postings.set(term, (posting = { slots: [], tfs: [] }));
      posting.slots.push(slot);
      posting.tfs.push(tf);
    }
    this.#totalLength += stored.length;
    this.#liveChunks++;
    return slot;
  }

  /** Term-at-a-time BM25 into one array of scores; `touched` lists the slots that scored. */
  #score(query: string): { scores: Float64Array; touched: number[] } {
    const scores = new Float64Array(this.#chunks.length);
    const touched: number[] = [];
    const { k1, b } = this.#options;
    const average = this.#liveChunks === 0 ? 1 : this.#totalLength / this.#liveChunks;
    for (const [term, qtf] of termCounts(this.#tokenize(query))) {
      const posting = this.#postings.get(term);
      if (posting === undefined) continue;
      const { slots, tfs } = posting;
      const weight = qtf * this.#idf(slots.length, this.#liveChunks) * (k1 + 1);
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i]!;
        const tf = tfs[i]!;
        if (scores[slot] === 0) touched.push(slot);
        scores[slot] = scores[slot]! + (weight * tf) / (tf + k1 * (1 - b + (b * this.#chunks[slot]!.length) / average));
      }
    }
    return { scores, touched };
  }

  /** Lucene's BM25 idf, never negative. */
  #idf(df: number, n: number): number {
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** One term's BM25 contribution at frequency `tf` in a chunk of `length` terms. */
  #saturate(idf: number, tf: number, length: number): number {
    const { k1, b } = this.#options;
    const average = this.#liveChunks === 0 ? length || 1 : this.#totalLength / this.#liveChunks;
    return (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / average));
  }

  #compareSlots(a: number, b: number): number {
    const x = this.#chunks[a]!.chunk;
    const y = this.#chunks[b]!.chunk;
    return x.docId < y.docId ? -1 : x.docId > y.docId ? 1 : x.index - y.index;
  }
}

function termCounts(terms: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

/** 64 bits of SHA-256 over id and text: XORed over documents, it fingerprints the set, in any order. */
function digestOf(document: RetrievalDocument): bigint {
  return createHash('sha256').update(document.id).update('\0').update(document.text).digest().readBigUInt64BE(0);
}

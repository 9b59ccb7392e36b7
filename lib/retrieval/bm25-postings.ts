import type { Chunk } from './chunk';
import type { ResolvedBm25 } from './bm25-options';

/** A chunk with its BM25 score for a query. */
export interface ScoredChunk extends Chunk {
  readonly score: number;
}

/** A chunk as the postings hold it: the chunk, its length in terms, and its term frequencies. */
export interface StoredChunk {
  readonly chunk: Chunk;
  readonly length: number;
  readonly terms: ReadonlyMap<string, number>;
}

interface Posting {
  readonly slots: number[];
  readonly tfs: number[];
}

/**
 * The inverted index under {@link Bm25Index}, and Okapi BM25 scoring over it: per term, the chunk slots
 * holding it. A chunk keeps its slot until it is removed; slots are never reused.
 */
export class Bm25Postings {
  readonly #options: Pick<ResolvedBm25, 'k1' | 'b'>;
  /** Per term, the chunk slots holding it and its frequency in each, as parallel arrays (fast to scan). */
  readonly #postings = new Map<string, Posting>();
  readonly #chunks: (StoredChunk | undefined)[] = [];
  #totalLength = 0;
  #liveChunks = 0;

  constructor(options: Pick<ResolvedBm25, 'k1' | 'b'>) {
    this.#options = options;
  }

  /** Chunks held. */
  get liveChunks(): number {
    return this.#liveChunks;
  }

  /** The chunk in `slot`, which must be held. */
  chunk(slot: number): StoredChunk {
    return this.#chunks[slot]!;
  }

  /** Holds a chunk; returns its slot. */
  add(stored: StoredChunk): number {
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

  /** Forgets the chunk in `slot`. */
  remove(slot: number): void {
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

  /** The best chunks for the query's terms, best first. */
  search(queryTerms: readonly string[], topK: number, minScore: number): ScoredChunk[] {
    const { scores, touched } = this.#score(queryTerms);
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
  scoreText(queryTerms: readonly string[], textTerms: readonly string[]): number {
    const terms = termCounts(textTerms);
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

  /** Term-at-a-time BM25 into one array of scores; `touched` lists the slots that scored. */
  #score(queryTerms: readonly string[]): { scores: Float64Array; touched: number[] } {
    const scores = new Float64Array(this.#chunks.length);
    const touched: number[] = [];
    const { k1, b } = this.#options;
    const average = this.#liveChunks === 0 ? 1 : this.#totalLength / this.#liveChunks;
    for (const [term, qtf] of termCounts(queryTerms)) {
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

/** How often each term occurs. */
export function termCounts(terms: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

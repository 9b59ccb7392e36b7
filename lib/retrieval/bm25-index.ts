import { createHash } from 'node:crypto';
import { chunk } from './chunk';
import {
  assertDocument,
  resolveBm25Options,
  resolveSearchOptions,
  type Bm25Options,
  type ResolvedBm25,
  type RetrievalDocument,
  type SearchOptions,
} from './bm25-options';
import { Bm25Postings, termCounts, type ScoredChunk } from './bm25-postings';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_VERSION } from './bm25-snapshot';
import { createTokenizer, type Tokenizer } from './tokenize';

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
  readonly #postings: Bm25Postings;
  readonly #docs = new Map<string, StoredDoc>();
  readonly #configDigest: string;
  #fingerprint = 0n;

  constructor(options: Bm25Options = {}) {
    this.#options = resolveBm25Options(options);
    this.#tokenize = createTokenizer(this.#options.tokenizer);
    this.#postings = new Bm25Postings(this.#options);
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
    return this.#postings.liveChunks;
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
      slots.push(this.#postings.add({ chunk: piece, length, terms }));
    }
    const digest = digestOf(document);
    this.#docs.set(document.id, { text: document.text, digest, slots });
    this.#fingerprint ^= digest;
  }

  /** Removes a document; returns whether it was there. */
  remove(id: string): boolean {
    const doc = this.#docs.get(id);
    if (doc === undefined) return false;
    for (const slot of doc.slots) this.#postings.remove(slot);
    this.#docs.delete(id);
    this.#fingerprint ^= doc.digest;
    return true;
  }

  /** The best chunks for `query`, best first. */
  search(query: string, options: SearchOptions = {}): ScoredChunk[] {
    const { topK, minScore } = resolveSearchOptions(options);
    return this.#postings.search(this.#tokenize(query), topK, minScore);
  }

  /**
   * Scores text that is not in the index (a chunk read at query time) with this index's statistics:
   * its document frequencies and average length stand for the collection's.
   */
  scoreText(queryTerms: readonly string[], text: string): number {
    return this.#postings.scoreText(queryTerms, this.#tokenize(text));
  }

  /** The whole index as a compressed Buffer, for {@link Bm25Index.fromSnapshot} elsewhere. */
  toSnapshot(): Buffer {
    const docs = [...this.#docs].map(([id, doc]) => ({
      id,
      text: doc.text,
      chunks: doc.slots.map((slot) => {
        const stored = this.#postings.chunk(slot);
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
        return index.#postings.add({
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
}

/** 64 bits of SHA-256 over id and text: XORed over documents, it fingerprints the set, in any order. */
function digestOf(document: RetrievalDocument): bigint {
  return createHash('sha256').update(document.id).update('\0').update(document.text).digest().readBigUInt64BE(0);
}

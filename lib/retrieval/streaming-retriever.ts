import pLimit from 'p-limit';
import { Cached } from '../cache/cached';
import { optionError } from '../core/validate';
import { Bm25Index } from './bm25-index';
import type { ScoredChunk } from './bm25-postings';
import { resolveSearchOptions, type RetrievalDocument, type SearchOptions } from './bm25-options';
import { chunk, type ChunkOptions } from './chunk';

/** Options of {@link StreamingRetriever.retrieve}. */
export interface RetrieveOptions extends SearchOptions {
  /** Stops the stream at once; the generator then throws the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Options of {@link StreamingRetriever.retrieveFrom}. */
export interface RetrieveFromOptions {
  /** Chunks scoring below this are not yielded. @default 0 (any chunk sharing a term) */
  readonly minScore?: number;
  /** Documents chunked and scored at once. @default 4 */
  readonly concurrency?: number;
  /** How the supplied documents are cut. @default the index's chunking */
  readonly chunking?: Omit<ChunkOptions, 'docId'>;
  readonly signal?: AbortSignal;
}

/**
 * A retrieval service over a {@link Bm25Index}, built as a decorated class:
 *
 * - {@link search} is `@Cached`, keyed by the query, the options and the index's `version`, so a
 *   change to the corpus is never answered from an entry made before it. It uses the default cache
 *   (`setDefaultCache`); a subclass can add `@RateLimited` or `@Concurrency` around it.
 * - {@link retrieve} streams the ranked chunks, so a caller can stop once it has enough context.
 * - {@link retrieveFrom} scores documents supplied at query time (an array or an `AsyncIterable`, for
 *   example read from files or Redis) concurrently, yielding each relevant chunk as soon as its document
 *   is scored, without waiting for the slowest.
 *
 * @example
 * const retriever = new StreamingRetriever(index);
 * for await (const passage of retriever.retrieve('退款政策', { topK: 5 })) context.push(passage.text);
 */
export class StreamingRetriever {
  constructor(readonly index: Bm25Index = new Bm25Index()) {
    if (!(index instanceof Bm25Index)) throw optionError('index', 'a Bm25Index', index);
  }

  /** Adds (or replaces) documents in the index; cached searches made before no longer match. */
  add(...documents: RetrievalDocument[]): void {
    for (const document of documents) this.index.add(document);
  }

  /** Removes a document; returns whether it was there. */
  remove(id: string): boolean {
    return this.index.remove(id);
  }

  /** The best chunks for `query`, best first; cached per query, options and index version. */
  @Cached({
    namespace: 'retrieval',
    ttl: '10m',
    key(this: StreamingRetriever, query: string, options: SearchOptions = {}) {
      return [this.index.version, query, resolveSearchOptions(options)];
    },
  })
  async search(query: string, options: SearchOptions = {}): Promise<ScoredChunk[]> {
    if (typeof query !== 'string') throw optionError('query', 'a string', query);
    return this.index.search(query, options);
  }

  /**
   * Yields the ranked chunks for `query` one at a time, best first, through {@link search} (so the
   * ranking is cached). Stops cleanly on `break`, `return()` or `signal`.
   */
  async *retrieve(query: string, options: RetrieveOptions = {}): AsyncGenerator<ScoredChunk, void, undefined> {
    const { signal, ...search } = options;
    signal?.throwIfAborted();
    const ranked = await this.search(query, search);
    for (const hit of ranked) {
      signal?.throwIfAborted();
      yield hit;
    }
  }

  /**
   * Chunks and scores `documents` as they arrive, `concurrency` at a time, and yields every chunk that
   * scores at least `minScore` as soon as its document is done, in completion order (each chunk carries
   * its score; sort what you keep). Scores use the index's statistics (document frequencies, average
   * length), so they are comparable with {@link search}'s. Stops reading the source on `break` or abort.
   */
  async *retrieveFrom(
    query: string,
    documents: Iterable<RetrievalDocument> | AsyncIterable<RetrievalDocument>,
    options: RetrieveFromOptions = {},
  ): AsyncGenerator<ScoredChunk, void, undefined> {
    const { minScore = 0, concurrency = 4, chunking, signal } = options;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1)
      throw optionError('concurrency', 'a positive integer', concurrency);
    if (typeof minScore !== 'number' || Number.isNaN(minScore)) throw optionError('minScore', 'a number', minScore);
    const terms = this.index.tokenize(query);
    const limit = pLimit(concurrency);
    const ready: ScoredChunk[][] = [];
    let wake: (() => void) | undefined;
    let failure: { error: unknown } | undefined;
    let pending = 0;
    let sourceDone = false;
    let stopped = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const score = (document: RetrievalDocument): ScoredChunk[] => {
      const pieces = chunk(document.text, { ...(chunking ?? {}), docId: document.id });
      const hits: ScoredChunk[] = [];
      for (const piece of pieces) {
        const value = this.index.scoreText(terms, piece.text);
        if (value > 0 && value >= minScore) hits.push({ ...piece, score: value });
      }
      return hits;
    };
    const onAbort = () => notify();
    signal?.addEventListener('abort', onAbort, { once: true });
    // Reads the source in the background, at most `concurrency` documents ahead of the scoring.
    const reading = (async () => {
      try {
        for await (const document of documents as AsyncIterable<RetrievalDocument>) {
          if (stopped || signal?.aborted) break;
          pending++;
          void limit(async () => {
            try {
              if (!stopped) ready.push(score(document));
            } catch (error) {
              failure ??= { error };
            } finally {
              pending--;
              notify();
            }
          });
          // Back-pressure: do not read further ahead than the scoring can take.
          while (limit.pendingCount > 0 && !stopped && !signal?.aborted)
            await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } catch (error) {
        failure ??= { error };
      } finally {
        sourceDone = true;
        notify();
      }
    })();
    try {
      for (;;) {
        signal?.throwIfAborted();
        if (failure !== undefined) throw failure.error;
        const batch = ready.shift();
        if (batch !== undefined) {
          for (const hit of batch) {
            signal?.throwIfAborted();
            yield hit;
          }
          continue;
        }
        if (sourceDone && pending === 0) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      stopped = true;
      signal?.removeEventListener('abort', onAbort);
      limit.clearQueue();
      notify();
      void reading;
    }
  }
}

import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import { chunk, type ChunkOptions } from './chunk';
import { resolveTokenizerOptions, type ResolvedTokenizerOptions, type TokenizerOptions } from './tokenize';

/** A document to index. */
export interface RetrievalDocument {
  readonly id: string;
  readonly text: string;
}

/** Options of {@link Bm25Index}. They are part of its snapshot and of its {@link Bm25Index.version}. */
export interface Bm25Options {
  /** Term-frequency saturation: higher lets repeated terms count for longer. @default 1.2 */
  readonly k1?: number;
  /** Length normalisation, 0 (none) to 1 (full). @default 0.75 */
  readonly b?: number;
  readonly tokenizer?: TokenizerOptions;
  /** How documents are cut into the chunks that are scored and returned (`docId` is set for you). */
  readonly chunking?: Omit<ChunkOptions, 'docId'>;
}

/** Options of a search. */
export interface SearchOptions {
  /** Most chunks returned. @default 10 */
  readonly topK?: number;
  /** Chunks scoring below this are left out. @default 0 (any chunk sharing a term) */
  readonly minScore?: number;
}

/** {@link Bm25Options} with every default applied, validated. */
export interface ResolvedBm25 {
  readonly k1: number;
  readonly b: number;
  readonly tokenizer: ResolvedTokenizerOptions;
  readonly chunking: Omit<ChunkOptions, 'docId'>;
}

/** Throws a `TypeError` unless `document` is `{ id: non-empty string, text: string }`. */
export function assertDocument(document: RetrievalDocument): void {
  if (
    document === null ||
    typeof document !== 'object' ||
    typeof document.id !== 'string' ||
    document.id === '' ||
    typeof document.text !== 'string'
  ) {
    throw optionError('document', '{ id: non-empty string, text: string }', document);
  }
}

/** Validates `options` and applies the defaults (`k1` 1.2, `b` 0.75). */
export function resolveBm25Options(options: Bm25Options): ResolvedBm25 {
  assertPlainObject('options', options);
  assertKnownOptions('Bm25Index', options, ['k1', 'b', 'tokenizer', 'chunking']);
  const { k1 = 1.2, b = 0.75, chunking = {} } = options;
  if (typeof k1 !== 'number' || !(k1 >= 0) || !Number.isFinite(k1)) throw optionError('k1', 'a number >= 0', k1);
  if (typeof b !== 'number' || !(b >= 0 && b <= 1)) throw optionError('b', 'a number from 0 to 1', b);
  chunk('', chunking as ChunkOptions); // validates the chunking options now, not on the first add
  return { k1, b, tokenizer: resolveTokenizerOptions(options.tokenizer), chunking };
}

/** Validates a search's options and applies the defaults (`topK` 10, `minScore` 0). */
export function resolveSearchOptions(options: SearchOptions): { topK: number; minScore: number } {
  assertPlainObject('options', options);
  assertKnownOptions('search', options, ['topK', 'minScore']);
  const { topK = 10, minScore = 0 } = options;
  if (!Number.isSafeInteger(topK) || topK < 1) throw optionError('topK', 'a positive integer', topK);
  if (typeof minScore !== 'number' || Number.isNaN(minScore)) throw optionError('minScore', 'a number', minScore);
  return { topK, minScore };
}

/**
 * `cachet/retrieval`: chunking, tokenising, the BM25 index and the streaming retriever, for RAG.
 * @example
 * import { Bm25Index, StreamingRetriever } from 'cachet/retrieval';
 */
export { chunk } from './chunk';
export type { Chunk, ChunkOptions } from './chunk';
export { createTokenizer, ENGLISH_STOP_WORDS } from './tokenize';
export type { Tokenizer, TokenizerOptions } from './tokenize';
export { porterStem } from './porter-stemmer';
export { Bm25Index } from './bm25-index';
export type { ScoredChunk } from './bm25-postings';
export type { Bm25Options, RetrievalDocument, SearchOptions } from './bm25-options';
export { SnapshotError } from './bm25-snapshot';
export { StreamingRetriever } from './streaming-retriever';
export type { RetrieveOptions, RetrieveFromOptions } from './streaming-retriever';
export { saveSnapshotFile, loadSnapshotFile, saveSnapshot, loadSnapshot } from './snapshot-storage';

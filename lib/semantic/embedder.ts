/**
 * What turns texts into vectors for the semantic cache. The offline embedder implements it for tests,
 * development and demos; a client of an OpenAI-compatible embeddings endpoint will implement it next.
 */
export interface Embedder {
  /** One vector per text, in order, each `dimensions` long. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** Length of every vector. */
  readonly dimensions: number;
  /** Names the model and its settings: vectors of different `model`s must never be compared. */
  readonly model: string;
}

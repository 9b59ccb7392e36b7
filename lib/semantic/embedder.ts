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
  /**
   * The cosine similarity this model's maker measured as safe, used when `semantic.threshold` is not set:
   * on the paraphrase dev pairs (shared/eval/paraphrase, English and Chinese), with the default guards,
   * serving at or above it gave at most 1 % false hits in each language. A threshold means something for
   * one model only; an embedder that has not been measured so leaves it out, and the cache then asks for
   * `semantic.threshold` (choose it with `calibrateThreshold` on labelled pairs of your own).
   */
  readonly recommendedThreshold?: number;
}

/** `values` scaled to length 1, as a new `Float32Array` (all zeros stay zeros): a dot product of two is their cosine. */
export function normalised(values: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i] as number) * (values[i] as number);
  const out = Float32Array.from(values);
  if (sum === 0) return out;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * scale;
  return out;
}

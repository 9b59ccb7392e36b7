/** What a vector index keeps: a normalised vector under a unique key. */
export interface IndexedVector {
  readonly key: string;
  readonly vector: Float32Array;
}

/** One record an index found, with its exact cosine similarity to the query. */
export interface Neighbour<R extends IndexedVector> {
  readonly record: R;
  readonly similarity: number;
}

/**
 * The questions of one partition of the semantic cache, searched by cosine similarity. The flat scan is
 * exact; an approximate index ({@link HnswIndex}) may miss a neighbour but reports every similarity it
 * returns as the exact dot product, so a caller comparing it with a threshold never accepts more than
 * the flat scan would.
 */
export interface VectorIndex<R extends IndexedVector> {
  /** How many records it holds. */
  readonly size: number;
  has(key: string): boolean;
  /** Adds `record`, or replaces the record of its key. */
  add(record: R): void;
  remove(key: string): void;
  /** Every record, in no particular order. */
  records(): IterableIterator<R>;
  /**
   * At most `count` records nearest to `query` (normalised, same length as theirs), nearest first, among
   * those `accept` takes (it may remove a record it refuses, e.g. an expired one). Records of another
   * length are skipped.
   */
  nearest(query: Float32Array, count: number, accept: (record: R) => boolean): Neighbour<R>[];
  /** Frees what it holds outside the JavaScript heap; the index stays usable. */
  dispose?(): void;
}

/** The dot product of two vectors of the same length: their cosine when both are normalised. */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** Puts `found` into `best` (nearest first) when it is among the `count` nearest so far. */
export function keepNearest<R extends IndexedVector>(best: Neighbour<R>[], found: Neighbour<R>, count: number): void {
  if (best.length === count && (best[count - 1] as Neighbour<R>).similarity >= found.similarity) return;
  let at = best.length;
  while (at > 0 && (best[at - 1] as Neighbour<R>).similarity < found.similarity) at--;
  best.splice(at, 0, found);
  if (best.length > count) best.pop();
}

/** Scans `records` exactly, keeping the `count` nearest that `accept` takes in `best`. */
export function scanInto<R extends IndexedVector>(
  best: Neighbour<R>[],
  records: Iterable<R>,
  query: Float32Array,
  count: number,
  accept: (record: R) => boolean,
): void {
  for (const record of records) {
    if (!accept(record) || record.vector.length !== query.length) continue;
    keepNearest(best, { record, similarity: dot(query, record.vector) }, count);
  }
}

/** The exact index: a dot product with every record (about 0.8 µs a record at 384 dimensions). */
export class FlatIndex<R extends IndexedVector> implements VectorIndex<R> {
  readonly #records = new Map<string, R>();

  get size(): number {
    return this.#records.size;
  }

  has(key: string): boolean {
    return this.#records.has(key);
  }

  add(record: R): void {
    this.#records.set(record.key, record);
  }

  remove(key: string): void {
    this.#records.delete(key);
  }

  records(): IterableIterator<R> {
    return this.#records.values();
  }

  nearest(query: Float32Array, count: number, accept: (record: R) => boolean): Neighbour<R>[] {
    const best: Neighbour<R>[] = [];
    // `accept` may remove the record it refuses: a Map's iterator goes on past a deleted entry.
    scanInto(best, this.#records.values(), query, count, accept);
    return best;
  }
}
